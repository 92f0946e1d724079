"""Whole projects from other tools: imported one after another, every coding is exported."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
import refi_quirks as q
import sqlalchemy as sa
from integration.test_exports_cli import run
from integration.test_exports_support import seed_project

from analysis.writers.refi import validate_stream
from analysis.writers.refi_reader import read_qdpx
from survey_app.exports.commands import export_command, import_refi_command
from survey_app.extensions import db
from survey_app.models import (
    Code,
    CodebookVersion,
    Coding,
    Interview,
    Transcript,
    TranscriptVersion,
    User,
)


@pytest.fixture
def project(app, instruments, codebook):
    return seed_project(app)


def imported(app) -> list[tuple[str, str, str, str]]:
    """(code, coded text, coder, memo) of every live coding in the database, sorted."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Coding).where(Coding.status == "active")).all()
        return sorted(
            (
                c.code.key,
                db.session.get(TranscriptVersion, c.transcript_version_id).text[c.start : c.end],
                c.coder.username if c.coder else "model",
                c.memo,
            )
            for c in rows
        )


def exported_csv(app, tmp_path) -> list[tuple[str, str, str, str]]:
    out = tmp_path / "out.zip"
    result = run(app, export_command, ["--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        codings = pd.read_csv(io.BytesIO(archive.read("codings.csv")), keep_default_na=False)
        texts = pd.read_csv(io.BytesIO(archive.read("transcripts.csv")), keep_default_na=False)
    text_of = dict(zip(texts["transcript_id"], texts["text"], strict=True))
    return sorted(
        (r.code, text_of[r.transcript_id][r.start : r.end], r.coder, r.memo)
        for r in codings.itertuples()
    )


def exported_qdpx(app, tmp_path) -> list[tuple[str, str, str, str]]:
    out = tmp_path / "out.qdpx"
    result = run(app, export_command, ["--format", "qdpx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive, archive.open("project.qde") as handle:
        validate_stream(handle, "Project")
    back = read_qdpx(out)
    text_of = dict(zip(back.transcripts["transcript_id"], back.transcripts["text"], strict=True))
    return sorted(
        (r.code, text_of[r.transcript_id][r.start : r.end], r.coder, r.memo)
        for r in back.codings.itertuples()
    )


@pytest.mark.parametrize("order", [("qc", "maxqda", "qc2"), ("qc2", "maxqda", "qc")])
def test_every_coding_of_successive_imports_is_exported(app, project, tmp_path, order) -> None:
    # qc and qc2 are two qc 1.3.2 projects whose nameless sources share a file name
    # (board_2017.txt) but not their text: matching by name used to put the second text
    # on the first project's interview, and the first project's codings left the exports.
    files = {
        "qc": q.qualcoder_project(tmp_path / "qc.qdpx"),
        "qc2": q.qualcoder_project(
            tmp_path / "qc2.qdpx",
            code_name="Région (accompagnement)",
            text="Un autre client est venu par la Région, via la CCI.",
        ),
        "maxqda": q.maxqda_project(tmp_path / "maxqda.qdpx"),
    }
    for name in order:
        result = run(app, import_refi_command, [str(files[name]), "--create-interviews"])
        assert result.exit_code == 0, result.output
        assert "new codebook version" in result.stdout
    in_database = imported(app)
    assert len(in_database) == 3 + 1 + 1 + 2  # seeded, qc, qc2, MAXQDA's two
    assert exported_csv(app, tmp_path) == in_database
    assert exported_qdpx(app, tmp_path) == in_database
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CodebookVersion.id))) == 4
        coders = {u.username: u.is_enabled for u in db.session.scalars(sa.select(User))}
        assert coders["default"] is False and coders["max quéré"] is False
        titles = {t.title for t in db.session.scalars(sa.select(Transcript))}
        assert {"board_2017", *q.MAXQDA_TEXTS} <= titles
        names = {i.organisation.name for i in db.session.scalars(sa.select(Interview))}
        assert {"board_2017", *q.MAXQDA_TEXTS} <= names
    assert (
        "Financement",
        "prêt 🚀 pour l'export",
        "max quéré",
        "Prêt d'honneur, pas une avance remboursable.",
    ) in in_database


def test_a_disabled_coder_keeps_their_codings_in_the_exports(app, project, tmp_path) -> None:
    with app.app_context():
        louis = db.session.scalar(sa.select(User).where(User.username == "louis"))
        louis.is_enabled = False
        db.session.commit()
    assert any(coder == "louis" for _c, _t, coder, _m in exported_csv(app, tmp_path))
    assert any(coder == "louis" for _c, _t, coder, _m in exported_qdpx(app, tmp_path))


def test_a_code_map_puts_codings_on_milieu_codes(app, project, tmp_path) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("source,target\nFinancement,STR.INTL\n", encoding="utf-8")
    path = q.maxqda_project(tmp_path / "maxqda.qdpx")
    result = run(
        app, import_refi_command, [str(path), "--create-interviews", "--map", str(mapping)]
    )
    assert result.exit_code == 0, result.output
    assert "1 kept under their own names (family IMPORTED), 1 mapped onto Milieu codes" in (
        result.stdout
    )
    with app.app_context():
        keys = {c.code.key for c in db.session.scalars(sa.select(Coding)) if c.memo}
        assert keys == {"STR.INTL"}
        assert db.session.scalar(sa.select(Code).where(Code.key == "Financement")) is None


def test_a_code_map_onto_an_unknown_code_is_refused(app, project, tmp_path) -> None:
    mapping = tmp_path / "map.yaml"
    mapping.write_text("Financement: STR.NOPE\n", encoding="utf-8")
    path = q.maxqda_project(tmp_path / "maxqda.qdpx")
    result = run(app, import_refi_command, [str(path), "--map", str(mapping)])
    assert result.exit_code == 1
    assert "'Financement' maps onto 'STR.NOPE'" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CodebookVersion.id))) == 1


def test_a_refused_project_imports_nothing(app, project, tmp_path) -> None:
    path = q.nvivo_project(tmp_path / "nvivo.qdpx")
    broken = tmp_path / "broken.qdpx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            if not item.filename.endswith(".docx"):
                target.writestr(item, source.read(item.filename))
    before = imported(app)
    result = run(app, import_refi_command, [str(broken), "--create-interviews"])
    assert result.exit_code == 1
    assert "broken.qdpx: project.qde: TextSource 'Entretien PME 4'" in result.output
    assert ".docx missing from the archive" in result.output
    assert imported(app) == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CodebookVersion.id))) == 1
        assert db.session.scalar(sa.select(User).where(User.username == "nadia vidal")) is None


def test_nvivo_project_comes_in_with_its_docx_text(app, project, tmp_path) -> None:
    result = run(
        app, import_refi_command, [str(q.nvivo_project(tmp_path / "n.qdpx")), "--create-interviews"]
    )
    assert result.exit_code == 0, result.output
    assert "text read from the rich-text .docx" in result.stdout
    assert "positions read as: utf16 (1 sources)" in result.stdout
    assert ("Clubs d'exportateurs", "club 🙂\texport", "nadia vidal", "") in imported(app)
    out = tmp_path / "out.zip"
    assert run(app, export_command, ["--format", "csv", "--out", str(out)]).exit_code == 0
    with zipfile.ZipFile(out) as archive:
        texts = pd.read_csv(io.BytesIO(archive.read("transcripts.csv")), keep_default_na=False)
    row = texts[texts["title"] == "Entretien PME 4"].iloc[0]
    assert row["memo"] == q.NVIVO_DESCRIPTION
    qdpx = tmp_path / "out.qdpx"
    assert run(app, export_command, ["--format", "qdpx", "--out", str(qdpx)]).exit_code == 0
    back = read_qdpx(qdpx)
    tid = next(t for t, name in back.source_names.items() if name == "Entretien PME 4")
    assert back.source_memos[tid] == q.NVIVO_DESCRIPTION
