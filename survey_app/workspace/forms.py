"""Forms of the coding workspace (CSRF-protected; the JSON endpoints use the header token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

KIND_CHOICES = [
    SelectChoice("add", _l("Add a code")),
    SelectChoice("rename", _l("Rename a code")),
    SelectChoice("merge", _l("Merge a code into another")),
    SelectChoice("retire", _l("Retire a code")),
    SelectChoice("edit", _l("Edit a code's definition")),
]


class ProposalForm(FlaskForm):
    kind = SelectField(_l("Change"), choices=KIND_CHOICES, validators=[DataRequired()])
    code = SelectField(_l("Code"), validators=[Optional()], validate_choice=False)
    into = SelectField(_l("Merge into"), validators=[Optional()], validate_choice=False)
    family = SelectField(_l("Family (new code)"), validators=[Optional()], validate_choice=False)
    key = StringField(_l("New key (e.g. GOV.DIGIT)"), validators=[Optional(), Length(max=32)])
    label_fr = StringField(_l("Label (French)"), validators=[Optional(), Length(max=200)])
    label_en = StringField(_l("Label (English)"), validators=[Optional(), Length(max=200)])
    definition = TextAreaField(_l("Definition"), validators=[Optional(), Length(max=4000)])
    include = TextAreaField(_l("Include (one per line)"), validators=[Optional()])
    exclude = TextAreaField(_l("Exclude (one per line)"), validators=[Optional()])
    keywords = TextAreaField(_l("Keywords (one per line)"), validators=[Optional()])
    example = TextAreaField(_l("Example"), validators=[Optional(), Length(max=2000)])
    rationale = TextAreaField(_l("Rationale"), validators=[DataRequired(), Length(max=4000)])

    def payload(self) -> dict:
        """Return the proposal's payload for its kind (only the fields that kind uses)."""
        lines = lambda field: [x.strip() for x in (field.data or "").splitlines() if x.strip()]  # noqa: E731
        texts = {
            "label_fr": (self.label_fr.data or "").strip(),
            "label_en": (self.label_en.data or "").strip(),
            "definition": (self.definition.data or "").strip(),
            "example": (self.example.data or "").strip(),
            "include": lines(self.include),
            "exclude": lines(self.exclude),
            "keywords": lines(self.keywords),
        }
        texts = {k: v for k, v in texts.items() if v}
        kind = self.kind.data
        if kind == "add":
            return {
                "key": (self.key.data or "").strip().upper(),
                "family": self.family.data,
                **texts,
            }
        if kind == "rename":
            return {
                "code": self.code.data,
                "new_key": (self.key.data or "").strip().upper(),
                **{k: v for k, v in texts.items() if k.startswith("label")},
            }
        if kind == "merge":
            return {"code": self.code.data, "into": self.into.data}
        if kind == "retire":
            return {"code": self.code.data}
        return {"code": self.code.data, **texts}


class ActionForm(FlaskForm):
    """A bare POST (apply, decline, activate, retrain) carrying only the CSRF token."""
