"""XLSForm export goes through pyxform to a valid XForm and imports back unchanged."""

import dataclasses
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from pyxform.xls2xform import convert

from survey_app.instruments.definitions import (
    InstrumentError,
    instrument_from_dict,
    load_instrument,
)
from survey_app.instruments.xlsform import export_xlsform, import_xlsform

HERE = Path(__file__).parent
INSTRUMENTS = HERE.parents[2] / "instruments"
XF = {"xf": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml"}
SOURCES = [
    INSTRUMENTS / "sme_manager.yaml",
    INSTRUMENTS / "relay_actor.yaml",
    HERE / "mini_instrument.yaml",
]


@pytest.fixture(scope="module", params=SOURCES, ids=lambda p: p.stem)
def exported(request, tmp_path_factory):
    instrument = load_instrument(request.param)
    path = export_xlsform(instrument, tmp_path_factory.mktemp("xls") / f"{instrument.id}.xlsx")
    return instrument, path


def xform(path):
    warnings: list[str] = []
    result = convert(xlsform=str(path), warnings=warnings, validate=False)
    return etree.fromstring(result.xform.encode("utf-8")), warnings


def test_pyxform_builds_a_valid_xform(exported):
    instrument, path = exported
    root, warnings = xform(path)
    assert warnings == []
    data = root.find(".//xf:instance/xf:data", XF)
    assert data.get("id") == instrument.id and data.get("version") == instrument.version
    langs = [t.get("lang") for t in root.iterfind(".//xf:itext/xf:translation", XF)]
    assert langs == ["French (fr)", "English (en)"]
    binds = {b.get("nodeset").rsplit("/", 1)[1]: b for b in root.iterfind(".//xf:bind", XF)}
    for q in instrument.questions:
        assert q.key in binds, q.key
        if q.required:
            assert binds[q.key].get("required") == "true()"
    assert root.find(".//h:body", XF) is not None


@pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("CI"),
    reason="java is not installed: ODK Validate needs it (skipped outside CI only)",
)
def test_odk_validate_accepts_the_xform(exported):
    _, path = exported
    # ODK Validate (bundled with pyxform) loads the form in JavaRosa, as ODK Collect does,
    # and parses every relevant/constraint expression.
    warnings: list[str] = []
    convert(xlsform=str(path), warnings=warnings, validate=True)
    assert warnings == []


def test_skip_logic_reaches_the_xform(tmp_path):
    instrument = load_instrument(INSTRUMENTS / "sme_manager.yaml")
    root, _ = xform(export_xlsform(instrument, tmp_path / "sme.xlsx"))
    binds = {b.get("nodeset"): b for b in root.iterfind(".//xf:bind", XF)}
    share = binds["/data/contexte/export_share"]
    assert " ".join(share.get("relevant").split()) == "/data/contexte/exports = 'yes'"
    assert share.get("constraint") == ". >= 0 and . <= 100"
    assert share.get("type") == "int"
    example = binds["/data/appui/a6_example"]
    assert " ".join(example.get("relevant").split()) == "/data/appui/a6 >= 4"
    # Nothing but consent can be entered before both consents are given.
    gate = binds["/data/contexte"].get("relevant")
    assert "consent_data" in gate and "consent_participation" in gate
    consent_group = binds.get("/data/consentement")
    assert consent_group is None or "relevant" not in consent_group.attrib


def test_likert_labels_and_missing_options_in_both_languages(tmp_path):
    instrument = load_instrument(INSTRUMENTS / "sme_manager.yaml")
    path = export_xlsform(instrument, tmp_path / "sme.xlsx")
    choices = list(openpyxl.load_workbook(path)["choices"].iter_rows(values_only=True))
    header = choices[0]
    assert header[:4] == ("list_name", "name", "label::French (fr)", "label::English (en)")
    likert = [row for row in choices if row[0] == "likert5_dk"]
    assert [r[1] for r in likert] == ["1", "2", "3", "4", "5", "dont_know", "refused"]
    assert likert[0][2:4] == ("Pas du tout d'accord", "Strongly disagree")
    assert likert[5][2:4] == ("Ne sait pas", "Don't know")
    survey = list(openpyxl.load_workbook(path)["survey"].iter_rows(values_only=True))
    a5 = next(r for r in survey if r[1] == "a5")
    assert a5[0] == "select_one likert5_dk"


def test_round_trip_gives_the_same_instrument(exported):
    instrument, path = exported
    data = import_xlsform(path)
    back = instrument_from_dict(data)
    assert dataclasses.replace(back, sha256=None) == dataclasses.replace(instrument, sha256=None)


def test_export_is_atomic(tmp_path):
    instrument = load_instrument(HERE / "mini_instrument.yaml")
    target = tmp_path / "mini.xlsx"
    target.write_bytes(b"old")
    export_xlsform(instrument, target)
    assert [p.name for p in tmp_path.iterdir()] == ["mini.xlsx"]
    assert target.read_bytes()[:2] == b"PK"


def write_xlsform(path, survey, choices=(), settings=None):
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    sheet_c = wb.create_sheet("choices")
    for row in choices:
        sheet_c.append(row)
    if settings:
        sheet_s = wb.create_sheet("settings")
        for row in settings:
            sheet_s.append(row)
    wb.save(path)
    return path


def test_import_a_foreign_single_language_form(tmp_path):
    path = write_xlsform(
        tmp_path / "kobo.xlsx",
        [
            ["type", "name", "label", "required", "relevant"],
            ["select_one yn", "exports", "Exportez-vous ?", "yes", ""],
            ["integer", "share", "Part", "", "${exports} = 'y'"],
        ],
        [["list_name", "name", "label"], ["yn", "y", "Oui"], ["yn", "n", "Non"]],
        [["form_id", "form_title", "version"], ["kobo_form", "Formulaire", "2024.1"]],
    )
    with pytest.raises(InstrumentError, match="milieu_respondent_type"):
        import_xlsform(path)
    # A foreign form has no consent question: Milieu's own block is put in front, and said.
    notes: list[str] = []
    data = import_xlsform(path, respondent_type="sme", warnings=notes)
    instrument = instrument_from_dict(data)
    guide = load_instrument(INSTRUMENTS / "sme_manager.yaml")
    assert instrument.sections[0] == guide.sections[0]
    assert [q.key for q in instrument.questions[-2:]] == ["exports", "share"]
    assert [n for n in notes if "consent" in n] == [
        "the form has no consent question: Milieu's consent block "
        "(consent_data, consent_participation, consent_audio) was put in front"
    ]
    assert instrument.question("exports").label == {
        "fr": "Exportez-vous ?",
        "en": "Exportez-vous ?",
    }
    assert (instrument.id, instrument.title["fr"], instrument.version) == (
        "kobo_form",
        "Formulaire",
        "2024.1",
    )


def test_hand_written_form_with_spaced_group_and_select_one_from(tmp_path):
    # Hand-written XLSForms (and pyxform's own examples) write "begin group" with a space,
    # "select one from LIST", "or specify other", an upper-case sheet name and headers, and
    # a form id with capitals, dashes and accents.
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "SURVEY"
    for row in [
        ["Type", "Name", "Label::English (en)", "Label::Français (fr)", "Relevant"],
        ["note", "intro", "Welcome", "Bienvenue", ""],
        ["begin group", "firm", "The firm", "L'entreprise", ""],
        ["select one from sector or specify other", "sector", "Sector?", "Secteur ?", ""],
        ["select_one yn", "exports", "Exports?", "Exportez-vous ?", ""],
        ["begin_group", "abroad", "Abroad", "À l'étranger", "${exports} = 'y'"],
        ["integer", "countries", "How many?", "Combien de pays ?", ""],
        ["end_group", "", "", "", ""],
        ["end group", "", "", "", ""],
    ]:
        sheet.append(row)
    choices = wb.create_sheet("Choices")
    for row in [
        ["List Name", "Name", "Label::English (en)", "Label::Français (fr)"],
        ["sector", "industry", "Industry", "Industrie"],
        ["sector", "services", "Services", "Services"],
        ["yn", "y", "Yes", "Oui"],
        ["yn", "n", "No", "Non"],
    ]:
        choices.append(row)
    settings = wb.create_sheet("Settings")
    settings.append(["Form_ID", "Version"])
    settings.append(["Enquête-PME-v2", "2024061101"])
    path = tmp_path / "hand.xlsx"
    wb.save(path)
    notes: list[str] = []
    instrument = instrument_from_dict(import_xlsform(path, respondent_type="sme", warnings=notes))
    assert instrument.id == "enquete_pme_v2" and instrument.title["fr"] == "Enquête-PME-v2"
    assert instrument.version == "2024061101.0"
    assert [s.key for s in instrument.sections] == ["consentement", "firm", "abroad"]
    sector = instrument.question("sector")
    assert sector.label == {"fr": "Secteur ?", "en": "Sector?"}
    assert sector.choice_values() == ["industry", "services", "other"]
    other = instrument.question("sector_other")
    assert other.type == "text" and other.relevant == "selected(sector, 'other')"
    # The nested group's condition reaches its questions.
    assert instrument.question("countries").relevant == "exports = 'y'"
    assert any("note 'intro' skipped" in n and "survey row 2" in n for n in notes)


def test_a_lone_sheet_is_the_survey(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(["type", "name", "label"])
    wb.active.append(["text", "town", "Commune"])
    wb.save(tmp_path / "lone.xlsx")
    instrument = instrument_from_dict(
        import_xlsform(tmp_path / "lone.xlsx", respondent_type="relay")
    )
    assert instrument.questions[-1].key == "town" and instrument.id == "lone"


def test_import_a_foreign_form_with_metadata_and_blank_rows(tmp_path):
    path = write_xlsform(
        tmp_path / "kobo.xlsx",
        [
            ["Type", "Name", "Label::Français (fr)", "Required", "Relevant", "milieu_type"],
            ["start", "start", "", "", "", ""],
            ["end", "end", "", "", "", ""],
            ["select_one yn", "consent_data", "Vous acceptez ?", "yes", "", "consent"],
            [None, None, None, None, None, None],
            ["select_one yn", "exports", "Exportez-vous ?", "yes", "", ""],
            ["integer", "share", "Part", "", "${exports} = 'y'", ""],
            ["text", "why", "Pourquoi ?", "", "", ""],
        ],
        [["list_name", "name", "label::Français (fr)"], ["yn", "y", "Oui"], ["yn", "n", "Non"]],
    )
    data = import_xlsform(path, respondent_type="relay")
    instrument = instrument_from_dict(data)
    assert [q.key for q in instrument.questions] == ["consent_data", "exports", "share", "why"]
    assert instrument.question("share").relevant == "exports = 'y'"
    assert instrument.question("exports").label == {
        "fr": "Exportez-vous ?",
        "en": "Exportez-vous ?",
    }
    assert not instrument.question("exports").allow_missing  # the form offers no "don't know"
    assert instrument.question("why").allow_missing
    assert instrument.id == "kobo" and instrument.respondent_type == "relay"


def test_import_refuses_what_milieu_cannot_represent_by_name_and_row(tmp_path):
    path = write_xlsform(
        tmp_path / "calc.xlsx",
        [
            ["type", "name", "label", "calculation"],
            ["text", "town", "Commune", ""],
            [None, None, None, None],
            ["calculate", "total", "", "1 + 1"],
            ["begin repeat", "member", "Membre", ""],
            ["text", "member_name", "Nom", ""],
            ["end repeat", "", "", ""],
            ["geopoint", "where", "Où ?", ""],
        ],
    )
    with pytest.raises(InstrumentError) as caught:
        import_xlsform(path, respondent_type="sme")
    assert str(caught.value).splitlines() == [
        "survey row 4: calculate 'total': Milieu has no calculate questions",
        "survey row 5: repeat 'member': Milieu has no repeated questions",
        "survey row 8: geopoint 'where': Milieu has no geopoint questions",
    ]


def test_import_refuses_a_form_pyxform_refuses_in_one_line(tmp_path):
    path = write_xlsform(
        tmp_path / "bad.xlsx",
        [["type", "name", "label"], ["select_one nowhere", "q", "Q ?"]],
        [["list_name", "name", "label"], ["yn", "y", "Oui"]],
    )
    with pytest.raises(InstrumentError) as caught:
        import_xlsform(path, respondent_type="sme")
    message = str(caught.value)
    assert message.startswith("pyxform refuses the form:") and "nowhere" in message
    assert "\n" not in message


def test_export_with_organisations_files_each_submission(tmp_path):
    instrument = load_instrument(INSTRUMENTS / "relay_actor.yaml")
    path = export_xlsform(instrument, tmp_path / "relay.xlsx", organisations=["REL_002", "REL_001"])
    assert (tmp_path / "organisations.csv").read_text(encoding="utf-8").splitlines() == [
        "name,label",
        "REL_001,REL_001",
        "REL_002,REL_002",
    ]
    root, warnings = xform(path)
    assert warnings == []
    bind = root.find(".//xf:bind[@nodeset='/data/milieu_organisation']", XF)
    assert bind is not None and bind.get("required") == "true()"
    instance = root.find(".//xf:instance[@id='organisations']", XF)
    assert instance.get("src") == "jr://file-csv/organisations.csv"
    # The organisation question is read back as such, not as a question of the guide.
    back = instrument_from_dict(import_xlsform(path))
    assert dataclasses.replace(back, sha256=None) == dataclasses.replace(instrument, sha256=None)


def test_import_refuses_a_file_that_is_not_a_workbook(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InstrumentError, match="cannot read fake.xlsx"):
        import_xlsform(fake)


def test_group_and_list_names_become_valid_keys(tmp_path):
    # Forms built in Excel often name groups and lists with capitals and dashes, which
    # XLSForm allows and Milieu's keys do not; names of questions are kept as data columns.
    path = write_xlsform(
        tmp_path / "names.xlsx",
        [
            ["type", "name", "label"],
            ["begin_group", "Firm-Info", "Entreprise"],
            ["select_one Yes-No", "exports", "Exportez-vous ?"],
            ["end_group", "", ""],
        ],
        [["list_name", "name", "label"], ["Yes-No", "y", "Oui"], ["Yes-No", "n", "Non"]],
    )
    instrument = instrument_from_dict(import_xlsform(path, respondent_type="sme"))
    assert [s.key for s in instrument.sections] == ["consentement", "firm_info"]
    assert instrument.question("exports").choice_list == "yes_no"
