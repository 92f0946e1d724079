"""REFI-QDA import from the web: administrators upload a .qdpx or .qdc; a job imports it,
all of it or nothing, and the page reports what it did."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from integration.test_exports_cli import _project_state, break_project, foreign_project, run
from integration.test_exports_support import PERSON, seed_project
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from survey_app.codings.codebook_versions import current_codebook
from survey_app.exports.commands import export_command
from survey_app.exports.jobs import import_folder
from survey_app.extensions import db
from survey_app.models import AuditEvent, Code, Coding, Job, TranscriptVersion, User


@pytest.fixture
def project(app, instruments, codebook):
    app.config["PSEUDONYM_TERMS"] = {PERSON: "PERS"}
    return seed_project(app)


def upload(client, get_csrf, name: str, data: bytes, **fields):
    form = {
        "csrf_token": get_csrf("/exports/import"),
        "position_unit": "codepoint",
        "file": (io.BytesIO(data), name),
        **fields,
    }
    return client.post("/exports/import", data=form, content_type="multipart/form-data")


def job_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/exports/import/(\d+)$", response.headers["Location"]).group(1))


def exported(app, tmp_path: Path, fmt: str) -> Path:
    out = tmp_path / f"project.{fmt}"
    assert run(app, export_command, ["--format", fmt, "--out", str(out)]).exit_code == 0
    return out


def jobs(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Job.id)).where(Job.kind == "refi_import"))


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
@pytest.mark.parametrize(
    ("role", "expected"), [(None, 302), ("fieldworker", 403), ("researcher", 403), ("admin", 200)]
)
def test_only_administrators_import(app, client, auth, create_user, role, expected) -> None:
    if role:
        create_user("someone", role)
        auth.login("someone")
    assert client.get("/exports/import").status_code == expected
    link = "/exports/import" in client.get("/exports/").get_data(as_text=True)
    assert link == (role == "admin")


def test_admin_imports_a_codebook_with_a_new_code(
    app, client, auth, get_csrf, project, tmp_path
) -> None:
    book = exported(app, tmp_path, "qdc")
    data = book.read_bytes().replace(b'name="OTH.RESID"', b'name="OTH.NEW"')
    auth.login("root")
    job_id = job_of(upload(client, get_csrf, "livre de codes.qdc", data))
    page = client.get(f"/exports/import/{job_id}").get_data(as_text=True)
    assert "Codes : 20, dans une nouvelle version du livre de codes 1.0.0+refi.1" in page
    assert "livre_de_codes.qdc" in page
    with app.app_context():
        assert {"OTH.NEW", "OTH.RESID"} <= {c.key for c in current_codebook().codes}
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "refi.import"))
        root = db.session.scalar(sa.select(User).where(User.username == "root"))
        assert event.user_id == root.id and event.payload["file"] == "livre_de_codes.qdc"
    assert not import_folder_of(app, job_id).exists()  # the upload does not stay on the server
    listing = client.get("/exports/import").get_data(as_text=True)
    assert f'href="/exports/import/{job_id}"' in listing and "<td>terminé</td>" in listing


def import_folder_of(app, job_id: int) -> Path:
    with app.app_context():
        return import_folder(job_id)


def test_admin_imports_a_project_from_another_tool(
    app, client, auth, get_csrf, project, tmp_path
) -> None:
    path = foreign_project(tmp_path / "other.qdpx", "DYN.CLUB")
    auth.login("root")
    job_id = job_of(
        upload(client, get_csrf, "other.qdpx", path.read_bytes(), create_interviews="y")
    )
    client.post("/language", data={"lang": "en", "csrf_token": get_csrf("/")})
    page = client.get(f"/exports/import/{job_id}").get_data(as_text=True)
    assert "Codings added: 1; already present: 0" in page
    assert "Disabled researcher accounts created for unknown coders: ana" in page
    created = re.search(r'href="/interviews/(\d+)"', page)
    assert created, page
    with app.app_context():
        coding = db.session.scalar(sa.select(Coding).join(Code).where(Code.key == "DYN.CLUB"))
        version = db.session.get(TranscriptVersion, coding.transcript_version_id)
        assert version.text[coding.start : coding.end] == "club export"
        assert version.transcript.interview_id == int(created.group(1))
        assert coding.coder.username == "ana" and not coding.coder.is_enabled


def test_a_refused_import_changes_nothing_and_says_why(
    app, client, auth, get_csrf, project, tmp_path
) -> None:
    out = exported(app, tmp_path, "qdpx")
    broken = io.BytesIO()
    break_project(out, broken)
    foreign = foreign_project(tmp_path / "other.qdpx", "DYN.CLUB").read_bytes()
    before = _project_state(app)
    auth.login("root")
    cases = [
        (broken.getvalue(), {}, "violates Project.xsd"),
        (foreign, {}, "match no interview"),  # without "create the interviews"
    ]
    for data, fields, reason in cases:
        job_id = job_of(upload(client, get_csrf, "p.qdpx", data, **fields))
        page = client.get(f"/exports/import/{job_id}").get_data(as_text=True)
        assert "Rien n’a été importé." in page and reason in page, page
        assert "/imports/" not in page  # the server's folders are not shown
        assert not import_folder_of(app, job_id).exists()
    assert _project_state(app) == before
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "ana")) is None


def test_an_archive_that_unpacks_too_far_is_refused(
    app, client, auth, get_csrf, project, tmp_path
) -> None:
    path = foreign_project(tmp_path / "other.qdpx", "DYN.CLUB")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sources/padding.txt", b"0" * 3_000_000)  # 3 MB in a few kB
    assert path.stat().st_size < 20_000
    app.config["REFI_IMPORT_MAX_UNPACKED"] = 1_000_000
    before = _project_state(app)
    auth.login("root")
    job_id = job_of(
        upload(client, get_csrf, "other.qdpx", path.read_bytes(), create_interviews="y")
    )
    page = client.get(f"/exports/import/{job_id}").get_data(as_text=True)
    assert "the archive unpacks to 3 MB, more than the 1 MB allowed" in page
    assert _project_state(app) == before


@pytest.mark.parametrize("backend", ["sqlite"])  # checks made before any database work
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "notes.txt",
            b"hello",
            "Choisissez un projet REFI-QDA (.qdpx) ou un livre de codes (.qdc)",
        ),
        ("p.qdpx", b"", "Le fichier est vide."),
        ("p.qdpx", b"<?xml version='1.0'?><Project/>", "pas une archive zip"),
        ("p.qdc", b"PK\x03\x04 not xml", "pas du XML"),
    ],
)
def test_bad_uploads_are_refused_before_any_job(
    app, client, auth, get_csrf, create_user, name, data, message
) -> None:
    create_user("boss", "admin")
    auth.login("boss")
    response = upload(client, get_csrf, name, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert jobs(app) == 0
    with app.app_context():
        assert not (
            Path(import_folder(1)).parent.exists() and any(Path(import_folder(1)).parent.iterdir())
        )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_upload_needs_the_form_token_and_a_file(app, client, auth, get_csrf, create_user) -> None:
    create_user("boss", "admin")
    auth.login("boss")
    no_token = client.post(
        "/exports/import",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"<x/>"), "b.qdc")},
    )
    assert no_token.status_code == 400
    no_file = client.post("/exports/import", data={"csrf_token": get_csrf("/exports/import")})
    assert no_file.status_code == 400 and "Choisissez un fichier." in no_file.get_data(as_text=True)
    assert jobs(app) == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_upload_above_the_request_limit_is_refused(
    app, client, auth, get_csrf, create_user
) -> None:
    create_user("boss", "admin")
    auth.login("boss")
    big = b"PK\x03\x04" + b"0" * app.config["MAX_CONTENT_LENGTH"]
    # the body encoded here, in memory: the test client's own encoding spools a body this
    # large to a temporary file it never closes once the app has refused to read it
    boundary, body = encode_multipart(
        MultiDict(
            {
                "csrf_token": get_csrf("/exports/import"),
                "position_unit": "codepoint",
                "file": FileStorage(io.BytesIO(big), "p.qdpx"),
            }
        )
    )
    response = client.post(
        "/exports/import", data=body, content_type=f'multipart/form-data; boundary="{boundary}"'
    )
    assert response.status_code == 413
    assert "Le fichier dépasse la taille autorisée." in response.get_data(as_text=True)
    assert jobs(app) == 0


@pytest.mark.parametrize("backend", ["sqlite"])  # not about the database
def test_the_report_page_tells_what_came_from_an_nvivo_project(
    app, client, auth, get_csrf, project, tmp_path
) -> None:
    import refi_quirks as q

    path = q.nvivo_project(tmp_path / "nvivo.qdpx")
    auth.login("root")
    form = {"create_interviews": "y", "position_unit": "auto"}
    job_id = job_of(upload(client, get_csrf, "nvivo.qdpx", path.read_bytes(), **form))
    page = client.get(f"/exports/import/{job_id}").get_data(as_text=True)
    assert "Codes d’un autre outil gardés sous leur nom (famille IMPORTED" in page
    assert "Texte lu dans le .docx enrichi (texte brut vide ou absent) : Entretien PME 4" in page
    assert "Positions lues en : utf16 (1 sources)" in page
    assert "Mémos et notes importés : 1" in page
