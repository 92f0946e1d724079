"""Round forms: every action carries the round version it was loaded with."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class NewRoundForm(FlaskForm):
    name = StringField(_l("Name of the round"), validators=[DataRequired(), Length(max=200)])
    # transcripts and coders come as checkbox lists read from request.form (see views)


class RoundActionForm(FlaskForm):
    """A button that acts on the round: done, undo, accept agreements, reconciled."""

    version = HiddenField(validators=[DataRequired()])


class DoneForm(RoundActionForm):
    confirm = BooleanField(
        _l("I have finished coding every transcript of this round"),
        validators=[InputRequired(message=_l("Tick the box to confirm."))],
    )


class DecisionForm(RoundActionForm):
    transcript_version_id = HiddenField(validators=[DataRequired()])
    start = HiddenField(validators=[DataRequired()])
    end = HiddenField(validators=[DataRequired()])
    code = HiddenField(validators=[DataRequired()])
    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice("keep", _l("keep")), SelectChoice("drop", _l("drop"))],
        validators=[DataRequired()],
    )
    rationale = TextAreaField(_l("Rationale (optional)"), validators=[Optional(), Length(max=5000)])
