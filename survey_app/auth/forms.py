from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from survey_app.auth.operations import MIN_PASSWORD


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def password_pair(label: str, again: str, description: str = "") -> tuple[PasswordField, ...]:
    """A new password and its repetition, as fields named password and confirm."""
    return (
        PasswordField(
            label,
            validators=[
                DataRequired(),
                Length(
                    min=MIN_PASSWORD,
                    max=200,
                    message=_l("At least %(n)d characters.", n=MIN_PASSWORD),
                ),
            ],
            description=description,
        ),
        PasswordField(
            again, validators=[EqualTo("password", message=_l("The two passwords differ."))]
        ),
    )


class OwnPasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    password, confirm = password_pair(_l("New password"), _l("New password again"))
