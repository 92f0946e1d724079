"""WTForms forms built from instrument questions at request time (Indico-style registry).

A registry maps each question type to a class whose ``create_wtf_field(question, lang)``
builds the field; ``build_section_form`` assembles a form class with ``type()`` and
``setattr()``. Fields carry no `required` validator: what is required depends on skip
logic and on whether the interview is being submitted, so the server checks answers with
``answers.validate_answers`` and shows the errors with ``apply_answer_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .answers import AnswerError
from .definitions import (
    DONT_KNOW,
    MISSING_LABELS,
    NOT_ASKED,
    REFUSED,
    Instrument,
    Question,
    Section,
)

try:  # WTForms >= 3.3 deprecates (value, label) tuples
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None  # type: ignore[assignment,misc]

MISSING_SUFFIX = "__missing"  # question keys never contain "__" (validate.py)


def text_in(text: Mapping[str, str] | None, lang: str) -> str:
    """Return a bilingual text in `lang`, falling back to French."""
    if not text:
        return ""
    return text.get(lang) or text.get("fr") or ""


def option(value: str, label: str) -> Any:
    """Return a WTForms choice in the form the installed WTForms prefers."""
    return SelectChoice(value, label) if SelectChoice is not None else (value, label)


def _missing_choices(lang: str) -> list[Any]:
    return [option(kind, text_in(MISSING_LABELS[kind], lang)) for kind in (DONT_KNOW, REFUSED)]


def _render_kw(question: Question, **extra: Any) -> dict[str, Any]:
    """HTML attributes the page's skip-logic script reads."""
    kw = {"data-question": question.key, "data-type": question.type}
    if question.relevant:
        kw["data-relevant"] = question.relevant
    if question.constraint:
        kw["data-constraint"] = question.constraint
    kw.update(extra)
    return kw


class QuestionField:
    """Base class: one subclass per question type."""

    name: ClassVar[str]
    #: Whether "don't know"/"refused" need a separate radio next to the field.
    missing_companion: ClassVar[bool] = True

    def create_wtf_field(self, question: Question, lang: str) -> Field:
        """Return an unbound WTForms field for the question."""
        raise NotImplementedError

    @staticmethod
    def label(question: Question, lang: str) -> str:
        return text_in(question.label, lang)

    @staticmethod
    def description(question: Question, lang: str) -> str:
        return text_in(question.hint, lang)

    def to_answer(self, data: Any) -> Any:
        """Turn the field's data into a raw answer."""
        return data

    def to_form_data(self, value: Any) -> Any:
        """Turn a stored answer into the field's data."""
        return value


FIELD_TYPES: dict[str, type[QuestionField]] = {}


def register(cls: type[QuestionField]) -> type[QuestionField]:
    """Register a question field class under its type name."""
    FIELD_TYPES[cls.name] = cls
    return cls


@register
class TextQuestion(QuestionField):
    name = "text"

    def create_wtf_field(self, question: Question, lang: str) -> Field:
        return StringField(
            self.label(question, lang),
            [Optional()],
            description=self.description(question, lang),
            render_kw=_render_kw(question),
        )


@register
class LongTextQuestion(QuestionField):
    name = "long_text"

    def create_wtf_field(self, question: Question, lang: str) -> Field:
        return TextAreaField(
            self.label(question, lang),
            [Optional()],
            description=self.description(question, lang),
            render_kw=_render_kw(question, rows=6),
        )


class _NumberQuestion(QuestionField):
    """Numbers stay text in the form so the server can answer in the interface language."""

    inputmode: ClassVar[str]

    def create_wtf_field(self, question: Question, lang: str) -> Field:
        return StringField(
            self.label(question, lang),
            [Optional()],
            description=self.description(question, lang),
            render_kw=_render_kw(question, inputmode=self.inputmode),
        )

    def to_form_data(self, value: Any) -> Any:
        return None if value is None else str(value)


@register
class IntegerQuestion(_NumberQuestion):
    name = "integer"
    inputmode = "numeric"


@register
class DecimalQuestion(_NumberQuestion):
    name = "decimal"
    inputmode = "decimal"


@register
class DateQuestion(QuestionField):
    name = "date"

    def create_wtf_field(self, question: Question, lang: str) -> Field:
        return StringField(
            self.label(question, lang),
            [Optional()],
            description=self.description(question, lang),
            render_kw=_render_kw(question, type="date"),
        )


@register
class SelectOneQuestion(QuestionField):
    name = "select_one"
    missing_companion = False
    css = "milieu-choices"

    def create_wtf_field(self, question: Question, lang: str) -> Field:
        choices = [option(c.value, text_in(c.label, lang)) for c in question.choices]
        if question.allow_missing:
            choices += _missing_choices(lang)
        # Choice membership is checked by validate_answers, with skip logic in view.
        return RadioField(
            self.label(question, lang),
            [Optional()],
            choices=choices,
            validate_choice=False,
            description=self.description(question, lang),
            render_kw=_render_kw(question, **{"class": self.css}),
        )


@register
class LikertQuestion(SelectOneQuestion):
    name = "likert"
    css = "milieu-likert"


@register
class FrequencyQuestion(SelectOneQuestion):
    name = "frequency"
    css = "milieu-frequency"


class _CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


@register
class SelectMultipleQuestion(QuestionField):
    name = "select_multiple"

    def create_wtf_field(self, question: Question, lang: str) -> Field:
        choices = [option(c.value, text_in(c.label, lang)) for c in question.choices]
        return _CheckboxList(
            self.label(question, lang),
            [Optional()],
            choices=choices,
            validate_choice=False,
            description=self.description(question, lang),
            render_kw=_render_kw(question),
        )

    def to_answer(self, data: Any) -> Any:
        return list(data or [])


@register
class ConsentQuestion(QuestionField):
    name = "consent"
    missing_companion = False

    def create_wtf_field(self, question: Question, lang: str) -> Field:
        return BooleanField(
            self.label(question, lang),
            description=self.description(question, lang),
            render_kw=_render_kw(question),
        )

    def to_answer(self, data: Any) -> Any:
        return "yes" if data else None

    def to_form_data(self, value: Any) -> Any:
        return value in (True, "yes")


def field_type(question: Question) -> QuestionField:
    """Return the registered field class instance for a question's type."""
    return FIELD_TYPES[question.type]()


def _missing_field(question: Question, lang: str) -> Field:
    return RadioField(
        text_in({"fr": "Réponse manquante", "en": "Missing answer"}, lang),
        [Optional()],
        choices=[option("", "—"), *_missing_choices(lang)],
        validate_choice=False,
        default="",
        render_kw={"data-missing-for": question.key, "class": "milieu-missing"},
    )


def build_section_form(
    instrument: Instrument, section_key: str, lang: str = "fr", base: type = FlaskForm
) -> type:
    """Assemble a form class for one section of an instrument, in `lang` (fr or en)."""
    section = instrument.section(section_key)
    form_cls = type(
        f"{instrument.id}_{section.key}_form",
        (base,),
        {"instrument": instrument, "section": section, "lang": lang},
    )
    for question in section.questions:
        handler = field_type(question)
        setattr(form_cls, question.key, handler.create_wtf_field(question, lang))
        if question.allow_missing and handler.missing_companion:
            setattr(form_cls, question.key + MISSING_SUFFIX, _missing_field(question, lang))
    return form_cls


def form_answers(form: Any, section: Section) -> dict[str, Any]:
    """Return the raw answers a submitted section form holds (missing kinds included)."""
    answers: dict[str, Any] = {}
    for question in section.questions:
        companion = getattr(form, question.key + MISSING_SUFFIX, None)
        if companion is not None and companion.data in (DONT_KNOW, REFUSED):
            answers[question.key] = companion.data
        else:
            answers[question.key] = field_type(question).to_answer(form[question.key].data)
    return answers


def form_data(section: Section, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return `data=` for a section form pre-filled with stored answers.

    "Not asked" is a stored state, never a value: a question skip logic reveals comes up empty.
    """
    data: dict[str, Any] = {}
    for question in section.questions:
        value = answers.get(question.key)
        handler = field_type(question)
        if value == NOT_ASKED:
            continue
        if value in (DONT_KNOW, REFUSED) and handler.missing_companion:
            data[question.key + MISSING_SUFFIX] = value
        elif value is not None:
            data[question.key] = handler.to_form_data(value)
    return data


def apply_answer_errors(form: Any, errors: list[AnswerError], lang: str = "fr") -> None:
    """Attach answer errors to the form's fields so the template shows them."""
    for error in errors:
        field = getattr(form, error.key, None)
        if isinstance(field, Field):
            message = error.message_fr if lang == "fr" else error.message_en
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]


__all__: list[str] = [
    "FIELD_TYPES",
    "MISSING_SUFFIX",
    "QuestionField",
    "apply_answer_errors",
    "build_section_form",
    "field_type",
    "form_answers",
    "form_data",
    "register",
    "text_in",
]
