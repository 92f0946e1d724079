from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField
from wtforms.validators import DataRequired, NumberRange


class ProfileForm(FlaskForm):
    level = SelectField(
        _l("Territorial level"),
        choices=[
            SelectChoice("departement", _l("département")),
            SelectChoice("zone_emploi", _l("zone d'emploi")),
            SelectChoice("region", _l("région")),
        ],
        validators=[DataRequired()],
    )
    n_boot = IntegerField(
        _l("Bootstrap replicates"),
        default=1000,
        validators=[DataRequired(), NumberRange(100, 5000)],
    )
