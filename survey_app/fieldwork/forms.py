from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from analysis.typology import NAF_RE
from survey_app.fieldwork.operations import REVIEW_STATUSES


def _optional_int(value):
    """Coerce a choice to int; the empty choice stays None."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class VersionedForm(FlaskForm):
    """A form that carries the version of the interview it was loaded with."""

    version = HiddenField(
        validators=[
            DataRequired(),
            Regexp(r"^\d{1,18}$", message=_l("The page has expired: reload it.")),
        ]
    )


class NewInterviewForm(FlaskForm):
    instrument_version_id = SelectField(_l("Interview guide"), coerce=int)
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    interview_date = DateField(_l("Date of the interview"), validators=[Optional()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    respondent_role = StringField(
        _l("Respondent's function"), validators=[Optional(), Length(max=200)]
    )


class OrganisationForm(FlaskForm):
    kind = RadioField(
        _l("Kind"),
        choices=[SelectChoice("sme", _l("SME")), SelectChoice("relay", _l("Relay actor"))],
        validators=[DataRequired()],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    # no default: an empty first choice, so a commune is never picked silently
    territory_id = SelectField(
        _l("Commune"),
        coerce=_optional_int,
        validate_choice=False,  # checked against the communes in the view
        validators=[InputRequired(message=_l("Choose the commune."))],
    )
    siret = StringField(
        _l("SIRET"), validators=[Optional(), Regexp(r"^[0-9]{14}\Z", message=_l("14 digits"))]
    )
    naf_code = StringField(
        _l("NAF code (SME)"),
        validators=[
            Optional(),
            Regexp(NAF_RE, message=_l("for example 28.29B")),
        ],
    )
    size_band = SelectField(_l("Headcount band (SME)"), validators=[Optional()])
    export_share = DecimalField(
        _l("Export share of turnover, % (SME)"),
        places=1,
        validators=[Optional(), NumberRange(0, 100)],
    )
    relay_category = SelectField(_l("Relay-actor category"), validators=[Optional()])


class TranscriptForm(FlaskForm):
    text = TextAreaField(_l("Paste the transcript"), validators=[Optional()])
    # the file itself is read and checked by survey_app.transcripts.readers


class ReviewForm(VersionedForm):
    status = RadioField(
        _l("Decision"),
        choices=[SelectChoice(s, s) for s in REVIEW_STATUSES],
        validators=[DataRequired()],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])
