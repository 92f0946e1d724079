"""Forms of the administrators' account pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from survey_app.auth.forms import password_pair
from survey_app.core.labels import ROLE_LABELS
from survey_app.models.users import ROLES


def _role_field() -> SelectField:
    return SelectField(
        _l("Role"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES], default="fieldworker"
    )


def _password_fields() -> tuple[PasswordField, ...]:
    return password_pair(
        _l("Password"),
        _l("Password again"),
        _l("Give it to the person by another channel than e-mail."),
    )


class NewUserForm(FlaskForm):
    username = StringField(
        _l("User name"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(
                r"^[A-Za-z0-9._-]+\Z",
                message=_l("Letters without accents, digits, dots, dashes and underscores."),
            ),
        ],
    )
    display_name = StringField(_l("Name"), validators=[Length(max=200)])
    role = _role_field()
    password, confirm = _password_fields()


class EditUserForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[Length(max=200)])
    role = _role_field()
    is_enabled = BooleanField(_l("Account enabled (a disabled account cannot log in)"))


class PasswordResetForm(FlaskForm):
    password, confirm = _password_fields()
