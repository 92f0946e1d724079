"""`milieu instruments validate | export-xlsform | import-xlsform`, on the click group."""

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from survey_app.instruments.commands import instruments_group
from survey_app.instruments.definitions import load_instrument

HERE = Path(__file__).parent
INSTRUMENTS = HERE.parents[2] / "instruments"
MINI = HERE / "mini_instrument.yaml"


@pytest.fixture
def runner():
    return CliRunner()


def test_help_explains_every_command(runner):
    result = runner.invoke(instruments_group, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "export-xlsform", "import-xlsform"):
        assert command in result.output
        sub = runner.invoke(instruments_group, [command, "--help"])
        assert sub.exit_code == 0 and "Usage:" in sub.output


def test_validate_good_files(runner):
    result = runner.invoke(
        instruments_group, ["validate", str(INSTRUMENTS / "sme_manager.yaml"), str(MINI)]
    )
    assert result.exit_code == 0, result.output
    assert "sme_manager.yaml: OK (sme_manager 1.0.0" in result.output


def test_validate_names_the_faulty_question(runner, tmp_path):
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["sections"][1]["questions"][2]["relevant"] = "a99 = 1"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(instruments_group, ["validate", str(MINI), str(bad)])
    assert result.exit_code == 1
    assert (
        f"Error: {bad}: sections[1].questions[2].relevant: unknown question 'a99'" in result.output
    )
    assert "Traceback" not in result.output


def test_validate_the_whole_folder_skips_other_data(runner):
    files = sorted(str(p) for p in INSTRUMENTS.glob("*.yaml"))
    result = runner.invoke(instruments_group, ["validate", *files])
    assert result.exit_code == 0, result.output
    assert "relay_actor.yaml: OK" in result.output and "sme_manager.yaml: OK" in result.output
    if (INSTRUMENTS / "codebook.yaml").exists():
        assert "codebook.yaml: skipped, not an instrument" in result.output


def test_validate_missing_file(runner, tmp_path):
    result = runner.invoke(instruments_group, ["validate", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "Error:" in result.output and "cannot read none.yaml" in result.output


def test_export_by_id_then_import(runner, tmp_path):
    xlsx = tmp_path / "sme.xlsx"
    result = runner.invoke(instruments_group, ["export-xlsform", "sme_manager", "--out", str(xlsx)])
    assert result.exit_code == 0, result.output
    assert xlsx.read_bytes()[:2] == b"PK"
    out = tmp_path / "back.yaml"
    result = runner.invoke(instruments_group, ["import-xlsform", str(xlsx), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (
        load_instrument(out).questions
        == load_instrument(INSTRUMENTS / "sme_manager.yaml").questions
    )


def test_export_by_file(runner, tmp_path):
    result = runner.invoke(
        instruments_group, ["export-xlsform", str(MINI), "--out", str(tmp_path / "m.xlsx")]
    )
    assert result.exit_code == 0, result.output


def test_export_unknown_id(runner, tmp_path):
    result = runner.invoke(
        instruments_group, ["export-xlsform", "nope", "--out", str(tmp_path / "x.xlsx")]
    )
    assert result.exit_code == 1
    assert "Error: no instrument with id 'nope'" in result.output
    assert not (tmp_path / "x.xlsx").exists()


def test_export_needs_xlsx_suffix(runner, tmp_path):
    result = runner.invoke(
        instruments_group, ["export-xlsform", "sme_manager", "--out", str(tmp_path / "x.xls")]
    )
    assert result.exit_code == 2 and "--out must end with .xlsx" in result.output


def test_import_of_a_bad_workbook_writes_nothing(runner, tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip")
    out = tmp_path / "out.yaml"
    result = runner.invoke(instruments_group, ["import-xlsform", str(fake), "--out", str(out)])
    assert result.exit_code == 1 and "Error:" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake.xlsx"]


def test_import_of_a_foreign_form_warns_about_the_consent_block(runner, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "survey"
    for row in [["type", "name", "label"], ["begin group", "g", "G"], ["text", "town", "Ville"]]:
        wb.active.append(row)
    wb.active.append(["end group", "", ""])
    wb.save(tmp_path / "form.xlsx")
    out = tmp_path / "form.yaml"
    args = ["import-xlsform", str(tmp_path / "form.xlsx"), "--out", str(out)]
    result = runner.invoke(instruments_group, [*args, "--respondent-type", "sme"])
    assert result.exit_code == 0, result.output
    assert "Warning:" in result.output and "consent block" in result.output
    assert load_instrument(out).questions[0].key == "consent_data"


def test_import_of_a_form_with_a_repeat_names_it_in_one_line(runner, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "survey"
    for row in [["type", "name", "label"], ["begin repeat", "member", "M"], ["text", "n", "N"]]:
        wb.active.append(row)
    wb.active.append(["end repeat", "", ""])
    wb.save(tmp_path / "form.xlsx")
    args = ["import-xlsform", str(tmp_path / "form.xlsx"), "--out", str(tmp_path / "f.yaml")]
    result = runner.invoke(instruments_group, [*args, "--respondent-type", "sme"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        f"Error: {tmp_path / 'form.xlsx'}: survey row 2: repeat 'member': "
        "Milieu has no repeated questions"
    ]
    assert not (tmp_path / "f.yaml").exists()


def _rewrite_sheet(xlsx: Path, target: Path, change) -> None:
    """Copy a workbook, passing its first worksheet's XML through `change`."""
    import zipfile

    with zipfile.ZipFile(xlsx) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            out.writestr(info, data)


@pytest.mark.parametrize(
    "change,expected",
    [
        (  # a DOCTYPE with entities: the XML bomb and file disclosure route
            lambda xml: b'<!DOCTYPE x [<!ENTITY e "consent">]>' + xml.replace(b"consent", b"&e;"),
            "declares a DOCTYPE, which Excel never writes",
        ),
        (  # an entity never declared: the sheet itself cannot be parsed
            lambda xml: xml.replace(b"consent", b"&e;", 1),
            "cannot read bad.xlsx as an XLSForm workbook",
        ),
    ],
    ids=["doctype", "undefined-entity"],
)
def test_import_of_a_hostile_workbook_says_one_line(runner, tmp_path, change, expected):
    xlsx = tmp_path / "sme.xlsx"
    runner.invoke(instruments_group, ["export-xlsform", "sme_manager", "--out", str(xlsx)])
    bad = tmp_path / "bad.xlsx"
    _rewrite_sheet(xlsx, bad, change)
    out = tmp_path / "out.yaml"
    result = runner.invoke(instruments_group, ["import-xlsform", str(bad), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a click error, not a traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and expected in lines[0], lines
    assert not out.exists()
