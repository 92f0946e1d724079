"""Forms of the API-token pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, e.g. “R scripts on my laptop”."),
    )


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking needs no other input."""
