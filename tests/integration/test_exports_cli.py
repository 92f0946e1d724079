"""`milieu export` and `milieu import-refi` on a small seeded database."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa
from integration.test_exports_support import FIRM, NAMES, PERSON, seed_project

from analysis.writers.refi import read_qdpx, validate_stream
from survey_app.codings.codebook_versions import current_codebook
from survey_app.exports.commands import export_command, import_refi_command
from survey_app.exports.operations import default_filename
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.models import (
    AuditEvent,
    Code,
    CodebookVersion,
    Coding,
    Interview,
    Organisation,
    PseudonymEntry,
    TranscriptVersion,
    User,
)


@pytest.fixture
def project(app, instruments, codebook):
    app.config["PSEUDONYM_TERMS"] = {PERSON: "PERS"}
    return seed_project(app)


def run(app, command, args):
    result = app.test_cli_runner().invoke(command, args)
    return result


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "sav", "dta", "qdpx", "qdc"])
def test_each_format_from_the_cli(app, project, tmp_path, fmt) -> None:
    out = tmp_path / default_filename(fmt, "out")
    result = run(app, export_command, ["--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.stat().st_size > 0
    assert str(out) in result.stdout
    assert "writing" in result.stderr  # progress on stderr
    written = [Path(line) for line in result.stdout.split()]
    assert all(p.exists() for p in written)
    if fmt in ("sav", "dta", "qdc"):
        assert any(p.name.endswith("_dictionary.csv") for p in written)
    if fmt in ("csv", "parquet"):
        assert "dictionary.csv" in zipfile.ZipFile(out).namelist()
    if fmt == "sav":
        frame, meta = pyreadstat.read_sav(str(out), user_missing=True)
        assert sorted(frame["interview_id"].astype(int)) == [project["first"], project["second"]]
        assert "GOV.PILOT" in " ".join(meta.column_names) or any(
            "GOV" in c for c in meta.column_names
        )
        assert meta.column_names_to_labels["a1"].startswith("Racontez-moi")
    if fmt == "dta":
        frame = pd.read_stata(out, convert_categoricals=False)
        assert len(frame) == 2
    if fmt == "qdpx":
        with zipfile.ZipFile(out) as archive, archive.open("project.qde") as handle:
            validate_stream(handle, "Project")
        back = read_qdpx(out)
        assert len(back.codings) == 3
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "export.write")
            )
            == 1
        )


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_xlsx_tables_option(app, project, tmp_path) -> None:
    import openpyxl

    out = tmp_path / "two.xlsx"
    result = run(
        app, export_command, ["--format", "xlsx", "--out", str(out), "--tables", "cases,codings"]
    )
    assert result.exit_code == 0, result.output
    sheets = openpyxl.load_workbook(out, read_only=True).sheetnames
    assert {"cases", "codings", "dictionary"} <= set(sheets)
    assert "segments" not in sheets


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf", "--out", "{tmp}/x.pdf"], "'pdf' is not one of"),
        (["--format", "csv", "--out", "/proc/nope/x.zip"], "does not exist"),
        (["--format", "csv", "--out", "/proc/milieu-x.zip"], "/proc/milieu-x.zip"),
        (["--format", "csv", "--out", "{tmp}"], "is a directory"),
        (["--format", "sav", "--out", "{tmp}/x.sav", "--tables", "cases"], "tables can be chosen"),
        (["--format", "xlsx", "--out", "{tmp}/x.xlsx", "--tables", "nope"], "unknown table 'nope'"),
        (["--format", "csv", "--out", "{tmp}/x.zip", "--coarsen-territory", "planet"], "planet"),
        (["--format", "csv", "--out", "{tmp}/x.zip", "--bogus"], "No such option"),
        (["--out", "{tmp}/x.zip"], "Missing option '--format'"),
    ],
)
@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_bad_input_is_one_line_and_writes_nothing(app, project, tmp_path, args, message) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    result = run(app, export_command, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.iterdir())


FORMATS = ["csv", "xlsx", "parquet", "sav", "dta", "qdpx", "qdc"]


def _all_bytes(paths: list[Path]) -> bytes:
    """Every byte of every file, archives opened member by member."""
    data = b""
    for path in paths:
        raw = path.read_bytes()
        data += raw
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    data += archive.read(name)
    return data


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_pseudonymised_exports_carry_no_real_name(app, project, tmp_path) -> None:
    written = []
    for fmt in FORMATS:
        out = tmp_path / fmt / default_filename(fmt, "p")
        out.parent.mkdir()
        result = run(
            app,
            export_command,
            [
                "--format",
                fmt,
                "--out",
                str(out),
                "--pseudonymise",
                "--coarsen-territory",
                "departement",
                "--coarsen-roles",
            ],
        )
        assert result.exit_code == 0, result.output
        written += [Path(line) for line in result.stdout.split()]
    data = _all_bytes(written)
    assert b"FIRM_" in data and b"PERS_" in data
    for name in NAMES:
        for encoding in ("utf-8", "utf-16-le", "latin-1"):
            assert name.encode(encoding) not in data, (name, encoding)
        # xlsx shared strings and XML escape nothing in these names, but pandas may upper-case
        assert name.upper().encode() not in data
    with app.app_context():
        key = {e.original: (e.token, e.kind) for e in db.session.scalars(sa.select(PseudonymEntry))}
    assert key[PERSON][1] == "person" and key[FIRM][1] == "firm"
    assert key[PERSON][0].startswith("PERS_") and key[FIRM][0].startswith("FIRM_")


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_tokens_stay_stable_across_exports(app, project, tmp_path) -> None:
    tokens = []
    for n in range(2):
        out = tmp_path / f"p{n}.zip"
        assert (
            run(
                app, export_command, ["--format", "csv", "--out", str(out), "--pseudonymise"]
            ).exit_code
            == 0
        )
        with zipfile.ZipFile(out) as archive:
            tokens.append(pd.read_csv(archive.open("organisations.csv"))["name"].tolist())
    assert tokens[0] == tokens[1] and all(t.startswith("FIRM_") for t in tokens[0])


def _project_state(app) -> dict[str, object]:
    """Codes, sources and codings (offsets, coders) as comparable plain data."""
    with app.app_context():
        versions = {v.id: v.text for v in db.session.scalars(sa.select(TranscriptVersion))}
        codings = db.session.execute(
            sa.select(
                Coding.transcript_version_id,
                Coding.start,
                Coding.end,
                Code.key,
                User.username,
                Coding.valence,
                Coding.intensity,
            )
            .join(Code, Code.id == Coding.code_id)
            .join(User, User.id == Coding.coder_id)
        ).all()
        book = current_codebook()
        return {
            "codes": sorted(c.key for c in book.codes if not c.retired),
            "sources": sorted(versions.values()),
            "codings": sorted((versions[t], s, e, k, u, v, i) for t, s, e, k, u, v, i in codings),
        }


def empty_the_database(app) -> None:
    """Delete every row: the import then starts from an empty project."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


def test_qdpx_round_trip_into_an_empty_database(app, project, tmp_path) -> None:
    out = tmp_path / "project.qdpx"
    assert run(app, export_command, ["--format", "qdpx", "--out", str(out)]).exit_code == 0
    before = _project_state(app)
    assert len(before["codings"]) == 3 and len(before["codes"]) == 20
    empty_the_database(app)
    with app.app_context():
        from survey_app.auth.operations import create_user
        from survey_app.demo.loader import instruments_dir

        for name in ("sme_manager.yaml", "relay_actor.yaml"):
            ops.load_instrument_file(instruments_dir() / name)
        create_user("boss", "admin", "correct horse")
        db.session.commit()
    result = run(app, import_refi_command, [str(out), "--create-interviews"])
    assert result.exit_code == 0, result.output
    assert (
        "created disabled researcher accounts for unknown coders: camille, louis" in result.stdout
    )
    assert "codes: 20 (new codebook version refi.1)" in result.stdout
    assert _project_state(app) == before
    with app.app_context():
        coders = db.session.scalars(sa.select(User).where(User.role == "researcher")).all()
        assert {u.username for u in coders} == {"camille", "louis"}
        assert not any(u.is_enabled for u in coders)
        assert db.session.scalar(sa.select(sa.func.count(Interview.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(CodebookVersion.id))) == 1
    again = run(app, import_refi_command, [str(out)])
    assert again.exit_code == 0, again.output
    assert "codings: 0 added, 3 already present" in again.stdout
    assert "mapped onto codebook" in again.stdout
    assert _project_state(app) == before


def test_import_maps_onto_the_current_codebook_or_adds_a_version(app, project, tmp_path) -> None:
    out = tmp_path / "book.qdc"
    assert run(app, export_command, ["--format", "qdc", "--out", str(out)]).exit_code == 0
    result = run(app, import_refi_command, [str(out)])
    assert result.exit_code == 0, result.output
    assert "mapped onto codebook 1.0.0" in result.stdout
    text = out.read_text(encoding="utf-8").replace('name="OTH.RESID"', 'name="OTH.NEW"')
    changed = tmp_path / "changed.qdc"
    changed.write_text(text, encoding="utf-8")
    result = run(app, import_refi_command, [str(changed)])
    assert result.exit_code == 0, result.output
    assert "new codebook version 1.0.0+refi.1" in result.stdout
    with app.app_context():
        book = current_codebook()
        keys = {c.key for c in book.codes}
        assert "OTH.NEW" in keys and "OTH.RESID" in keys and len(keys) == 21


def break_project(out: Path, broken: Path | io.BytesIO) -> None:
    """Copy the .qdpx out into broken with a project.qde that violates the schema (a
    selection whose startPosition is not a number)."""
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "project.qde":
                data = data.replace(b'startPosition="', b'startPosition="x', 1)
            target.writestr(item, data)


def test_import_refi_refuses_an_invalid_file_and_changes_nothing(app, project, tmp_path) -> None:
    out = tmp_path / "project.qdpx"
    assert run(app, export_command, ["--format", "qdpx", "--out", str(out)]).exit_code == 0
    broken = tmp_path / "broken.qdpx"
    break_project(out, broken)
    before = _project_state(app)
    result = run(app, import_refi_command, [str(broken), "--create-interviews"])
    assert result.exit_code == 1
    assert "violates Project.xsd" in result.output and "startPosition" in result.output
    assert [line for line in result.stderr.splitlines() if not line.startswith("[")] == [
        result.stderr.strip().splitlines()[-1]
    ]
    assert _project_state(app) == before


def test_import_refi_bad_inputs(app, project, tmp_path) -> None:
    result = run(app, import_refi_command, [str(tmp_path / "missing.qdpx")])
    assert result.exit_code == 2 and "no such file" in result.output
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = run(app, import_refi_command, [str(text)])
    assert result.exit_code == 1 and "expected a .qdc or .qdpx file" in result.output


def test_import_attaches_a_changed_source_to_the_interview_named(app, project, tmp_path) -> None:
    out = tmp_path / "project.qdpx"
    assert run(app, export_command, ["--format", "qdpx", "--out", str(out)]).exit_code == 0
    same = run(app, import_refi_command, [str(out)])
    assert same.exit_code == 0, same.output
    assert "transcripts: 0 added, 1 unchanged" in same.stdout
    assert "codings: 0 added, 3 already present" in same.stdout
    changed = tmp_path / "changed.qdpx"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(changed, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("sources/"):
                data += "\nEnquêteur : Merci.".encode()
            target.writestr(item, data)
    result = run(app, import_refi_command, [str(changed)])
    assert result.exit_code == 0, result.output
    assert "transcripts: 1 added" in result.stdout and "codings: 3 added" in result.stdout
    with app.app_context():
        first = db.session.get(Interview, project["first"])
        newest = first.transcripts[0].current
        assert newest.number == 2 and newest.text.endswith("Merci.")
        assert db.session.scalar(sa.select(sa.func.count(Interview.id))) == 2
        spans = db.session.execute(
            sa.select(Coding.start, Coding.end).where(Coding.transcript_version_id == newest.id)
        ).all()
        old = db.session.execute(
            sa.select(Coding.start, Coding.end).where(
                Coding.transcript_version_id == project["version"]
            )
        ).all()
        assert sorted(spans) == sorted(old)


def test_pseudonymised_demo_carries_no_demo_name(sqlite_app, tmp_path) -> None:
    from survey_app.cli import cli
    from survey_app.demo.loader import DEMO_ORGANISATIONS, DEMO_USERS

    assert sqlite_app.test_cli_runner().invoke(cli, ["demo"]).exit_code == 0
    written = []
    for fmt in FORMATS:
        out = tmp_path / fmt / default_filename(fmt, "demo")
        out.parent.mkdir()
        result = run(
            sqlite_app, export_command, ["--format", fmt, "--out", str(out), "--pseudonymise"]
        )
        assert result.exit_code == 0, result.output
        written += [Path(line) for line in result.stdout.split()]
    data = _all_bytes(written)
    with sqlite_app.app_context():
        registry = list(db.session.scalars(sa.select(Organisation.name)))
    assert set(o[1] for o in DEMO_ORGANISATIONS) <= set(registry)
    names = registry + [u[2] for u in DEMO_USERS]
    names += ["Castelnau", "Cévenols", "Montpellier", "Béziers"]
    leaks = [n for n in names if n.encode() in data or n.encode("utf-16-le") in data]
    assert leaks == []


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_cli_sav_opens_in_pspp(app, project, tmp_path) -> None:
    import os
    import shutil
    import subprocess

    pspp = shutil.which("pspp")
    if pspp is None:
        if os.environ.get("CI"):
            pytest.fail("pspp is required in CI (Debian package pspp)")
        pytest.skip("pspp not installed; the .sav is still read by pyreadstat above")
    out = tmp_path / "project.sav"
    assert run(app, export_command, ["--format", "sav", "--out", str(out)]).exit_code == 0
    syntax = tmp_path / "check.sps"
    syntax.write_text(
        f"GET FILE='{out}'.\nDISPLAY DICTIONARY /VARIABLES=a1 consent_data.\n"
        "FREQUENCIES VARIABLES=consent_data.\n",
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
    report = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert "Racontez-moi comment votre entreprise" in report
    assert "Oui" in report and "Non posée" in report


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_help_explains_both_commands(app) -> None:
    export_help = run(app, export_command, ["--help"])
    assert export_help.exit_code == 0
    for option in (
        "--format",
        "--out",
        "--pseudonymise",
        "--coarsen-territory",
        "--coarsen-roles",
        "--tables",
    ):
        assert option in export_help.output
    import_help = run(app, import_refi_command, ["--help"])
    assert import_help.exit_code == 0
    assert "--create-interviews" in import_help.output and "or nothing" in import_help.output


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_extra_terms_file(app, project, tmp_path) -> None:
    terms = tmp_path / "terms.csv"
    terms.write_text("# extra names\nLIEU,Japon\n", encoding="utf-8")
    out = tmp_path / "out" / "p.zip"
    out.parent.mkdir()
    args = ["--format", "csv", "--out", str(out), "--pseudonymise", "--terms", str(terms)]
    result = run(app, export_command, args)
    assert result.exit_code == 0, result.output
    data = _all_bytes([out])
    assert b"Japon" not in data and b"LIEU_" in data
    terms.write_text("PLANET,Mars\n", encoding="utf-8")
    bad = run(app, export_command, args)
    assert bad.exit_code == 2 and "terms line 1: expected KIND,term" in bad.output
    terms.write_text("LIEU,Japon\n", encoding="utf-8")
    no_pseudo = run(
        app, export_command, ["--format", "csv", "--out", str(out), "--terms", str(terms)]
    )
    assert no_pseudo.exit_code == 2
    assert "--terms needs --pseudonymise" in no_pseudo.output


FOREIGN = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="from another tool" origin="OtherQDA">
 <Users><User guid="{{11111111-1111-1111-1111-111111111111}}" name="Ana"/></Users>
 <CodeBook><Codes>
  <Code guid="22222222-2222-2222-2222-222222222222" name="STR.NETW" isCodable="true"/>
  <Code guid="33333333-3333-3333-3333-333333333333" name="{new_code}" isCodable="true">
   <Description>Clubs et réseaux</Description></Code>
 </Codes></CodeBook>
 <Sources>
  <TextSource guid="44444444-4444-4444-4444-444444444444" name="entretien 1"
    plainTextPath="internal://44444444-4444-4444-4444-444444444444.txt">
   <PlainTextSelection guid="55555555-5555-5555-5555-555555555555" startPosition="{start}"
     endPosition="{end}" creatingUser="11111111-1111-1111-1111-111111111111">
    <Coding guid="66666666-6666-6666-6666-666666666666"
      creatingUser="{{11111111-1111-1111-1111-111111111111}}">
     <CodeRef targetGUID="33333333-3333-3333-3333-333333333333"/></Coding>
   </PlainTextSelection>
  </TextSource>
 </Sources>
</Project>
"""
CRLF_TEXT = "Q : Bonjour\r\nR : Le club export nous aide.\r\nQ : Merci\r\n"


def foreign_project(path: Path, new_code: str) -> Path:
    start = CRLF_TEXT.index("club export")
    xml = FOREIGN.format(new_code=new_code, start=start, end=start + len("club export"))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", xml)
        archive.writestr(
            "sources/44444444-4444-4444-4444-444444444444.txt", CRLF_TEXT.encode("utf-8")
        )
    return path


def test_import_from_another_tool_keeps_offsets_over_crlf(app, project, tmp_path) -> None:
    path = foreign_project(tmp_path / "other.qdpx", "DYN.CLUB")
    refused = run(app, import_refi_command, [str(path)])
    assert refused.exit_code == 1 and "match no interview" in refused.output
    result = run(app, import_refi_command, [str(path), "--create-interviews"])
    assert result.exit_code == 0, result.output
    assert "new codebook version 1.0.0+refi.1" in result.stdout
    assert "unknown coders: ana" in result.stdout
    with app.app_context():
        coding = db.session.scalar(sa.select(Coding).join(Code).where(Code.key == "DYN.CLUB"))
        version = db.session.get(TranscriptVersion, coding.transcript_version_id)
        assert "\r" not in version.text
        assert version.text[coding.start : coding.end] == "club export"
        assert coding.coder.username == "ana" and not coding.coder.is_enabled
        assert coding.code.codebook_version.is_current


def test_import_keeps_codes_outside_the_codebook_families(app, project, tmp_path) -> None:
    # Real codebooks never use GOV./STR./DYN./OTH.: such codes come in under their names.
    path = foreign_project(tmp_path / "other.qdpx", "Réseaux")
    result = run(app, import_refi_command, [str(path), "--create-interviews"])
    assert result.exit_code == 0, result.output
    assert "1 kept under their own names (family IMPORTED)" in result.stdout
    with app.app_context():
        coding = db.session.scalar(sa.select(Coding).join(Code).where(Code.key == "Réseaux"))
        assert coding.code.family == "IMPORTED"
        assert coding.code.definition == "Clubs et réseaux"
        assert coding.code.codebook_version.content["imported"]["Réseaux"]["parent"] is None
        transcript = db.session.get(TranscriptVersion, coding.transcript_version_id).transcript
        assert transcript.title == "entretien 1"
        assert transcript.interview.organisation.name == "entretien 1"
