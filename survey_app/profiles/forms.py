from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField
from wtforms.validators import DataRequired, InputRequired, NumberRange

LEVEL_LABELS = {
    "departement": _l("département"),
    "zone_emploi": _l("zone d'emploi"),
    "region": _l("région"),
}


class ProfileForm(FlaskForm):
    level = SelectField(
        _l("Territorial level"),
        choices=[SelectChoice(key, label) for key, label in LEVEL_LABELS.items()],
        validators=[DataRequired()],
    )
    n_boot = IntegerField(
        _l("Bootstrap replicates"),
        default=1000,
        validators=[InputRequired(), NumberRange(100, 5000)],  # 0 is out of range, not missing
    )
