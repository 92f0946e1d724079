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


class ExportForm(FlaskForm):
    fmt = SelectField(
        _l("Format"), choices=[SelectChoice(f, FORMAT_LABELS[f]) for f in FORMATS], default="xlsx"
    )
    tables = SelectMultipleField(
        _l("Tables (CSV, Parquet and Excel; none chosen: all)"),
        choices=[SelectChoice(t, t) for t in table_names()],
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
        default="codepoint",
    )
