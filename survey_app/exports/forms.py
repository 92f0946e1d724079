"""Forms of the exports pages: an export's options, REFI-QDA import."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from survey_app.exports.operations import FORMATS, TERRITORY_LEVELS, table_names

FORMAT_LABELS = {
    "xlsx": _l("Excel workbook (.xlsx)"),
    "csv": _l("CSV files, zipped"),
    "parquet": _l("Parquet files, zipped"),
    "sav": _l("SPSS (.sav)"),
    "dta": _l("Stata (.dta)"),
    "qdpx": _l("REFI-QDA project (.qdpx)"),
    "qdc": _l("REFI-QDA codebook (.qdc)"),
}
LEVEL_LABELS = {
    "commune": _l("Keep communes"),
    "zone_emploi": _l("Employment zone"),
    "departement": _l("Département"),
    "region": _l("Region"),
}


#: what each exported table holds, as the form names it (the file name stays the key)
TABLE_LABELS = {
    "cases": _l("Cases (one row per interview, with its attributes)"),
    "organisations": _l("Organisations"),
    "interviews": _l("Interviews"),
    "answers_long": _l("Answers, one row per question"),
    "segments": _l("Transcript segments (speaker turns, sentences)"),
    "codings": _l("Codings"),
    "transcripts": _l("Transcripts"),
    "users": _l("Users (fieldworkers and coders)"),
    "codebook": _l("Codebook"),
    "answers_wide": _l("Answers, one row per interview"),
    "matrix_code_count": _l("Case × code matrix, counts"),
    "matrix_code_presence": _l("Case × code matrix, presence"),
    "matrix_family_count": _l("Case × family matrix, counts"),
    "matrix_family_presence": _l("Case × family matrix, presence"),
}


class ExportForm(FlaskForm):
    fmt = SelectField(
        _l("Format"), choices=[SelectChoice(f, FORMAT_LABELS[f]) for f in FORMATS], default="xlsx"
    )
    tables = SelectMultipleField(
        _l("Tables (CSV, Parquet and Excel; none chosen: all)"),
        choices=[SelectChoice(t, TABLE_LABELS.get(t, t)) for t in table_names()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    pseudonymise = BooleanField(_l("Pseudonymise names (persons, firms, places)"))
    territory_level = SelectField(
        _l("Coarsen territories to"),
        choices=[SelectChoice(t, LEVEL_LABELS[t]) for t in TERRITORY_LEVELS],
        default="commune",
    )
    coarsen_roles = BooleanField(_l("Replace relay-actor categories by their family"))


POSITION_UNITS = {
    "auto": _l("Detect from the file (the tool that wrote it, positions past the text)"),
    "codepoint": _l("Unicode characters (the standard; Milieu, QualCoder)"),
    "utf16": _l("UTF-16 units (tools written in .NET, Qt or Java)"),
}


class RefiImportForm(FlaskForm):
    file = FileField(
        _l("REFI-QDA project (.qdpx) or codebook (.qdc)"),
        validators=[FileRequired(_l("Choose a file."))],
    )
    create_interviews = BooleanField(
        _l("Create the organisations and interviews of sources that match none")
    )
    position_unit = SelectField(
        _l("How the file counts characters"),
        choices=[SelectChoice(k, v) for k, v in POSITION_UNITS.items()],
        default="auto",
    )
