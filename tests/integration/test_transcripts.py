"""Transcripts: paste or upload, speaker turns with exact offsets, versions, bad uploads refused."""

import hashlib
import io
import struct
import time
import tracemalloc
import zipfile

import pytest
import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.models import Segment, TranscriptVersion

TEXT = (
    "Enquêteur : Comment travaillez-vous avec la CCI ?\n"
    "Interviewé : On se voit tous les mois. La conseillère est à dix minutes.\n"
    "Enquêteur : Et la Région ?\n"
    "Interviewé : Elle fixe le cap, tout le monde s'aligne.\n"
)


@pytest.fixture
def mine(create_user, interview, auth):
    create_user("ines", "fieldworker")
    create_user("marc", "fieldworker")
    item = interview("ines")
    auth.login("ines")
    return item


def versions(app, item):
    with app.app_context():
        return db.session.scalars(sa.select(TranscriptVersion).order_by(TranscriptVersion.id)).all()


def upload(client, get_csrf, item, name, data, text=""):
    url = f"/interviews/{item}/transcript"
    return client.post(
        url,
        data={"csrf_token": get_csrf(url), "text": text, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_pasted_transcript_is_stored_with_turns_and_hash(client, mine, get_csrf, app):
    url = f"/interviews/{mine}/transcript"
    response = client.post(
        url, data={"csrf_token": get_csrf(url), "text": TEXT.replace("\n", "\r\n")}
    )
    assert response.status_code == 302
    with app.app_context():
        version = db.session.scalar(sa.select(TranscriptVersion))
        assert "\r" not in version.text
        assert version.sha256 == hashlib.sha256(version.text.encode()).hexdigest()
        turns = db.session.scalars(
            sa.select(Segment).where(Segment.kind == "turn").order_by(Segment.start)
        ).all()
        assert [t.speaker for t in turns] == ["Enquêteur", "Interviewé"] * 2
        assert version.text[turns[1].start : turns[1].end].startswith("Interviewé : On se voit")
        sentences = db.session.scalars(sa.select(Segment).where(Segment.kind == "sentence")).all()
        assert all(s.parent_id for s in sentences)
        assert any(
            version.text[s.start : s.end] == "La conseillère est à dix minutes." for s in sentences
        )
    page = client.get(url).get_data(as_text=True)
    assert "Interviewé" in page and "Version 1" in page


def test_same_text_makes_no_new_version_other_text_does(client, mine, get_csrf, app):
    url = f"/interviews/{mine}/transcript"
    for text in (TEXT, TEXT, TEXT + "Enquêteur : Merci.\n"):
        client.post(url, data={"csrf_token": get_csrf(url), "text": text})
    assert [v.number for v in versions(app, mine)] == [1, 2]


@pytest.mark.parametrize(
    "name,data",
    [
        ("entretien.txt", TEXT.encode("cp1252", errors="replace")),
        ("entretien.txt", TEXT.encode("utf-16")),
        (
            "entretien.srt",
            b"1\n00:00:01,000 --> 00:00:04,000\nEnqu\xc3\xaateur : Bonjour.\n\n"
            b"2\n00:00:05,000 --> 00:00:09,000\nInterview\xc3\xa9 : Bonjour \xc3\xa0 vous.\n",
        ),
        (
            "entretien.vtt",
            b"WEBVTT\n\n00:01.000 --> 00:04.000\n<v Marie>Bonjour.\n\n"
            b"00:05.000 --> 00:09.000\n<v Paul>On exporte en Belgique.\n",
        ),
    ],
)
def test_accepted_uploads(client, mine, get_csrf, app, name, data):
    response = upload(client, get_csrf, mine, name, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    (version,) = versions(app, mine)
    assert "-->" not in version.text and version.text.strip()


def test_docx_upload(client, mine, get_csrf, app):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for line in TEXT.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    assert upload(client, get_csrf, mine, "entretien.docx", buffer.getvalue()).status_code == 302
    assert versions(app, mine)[0].text.startswith("Enquêteur : Comment")


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("entretien.pdf", b"%PDF-1.4 ...", "Format de fichier non pris en charge"),
        ("entretien.txt", b"\x00\x01\x02\x03" * 100, ""),
        ("entretien.docx", b"not a zip at all", ""),
        ("entretien.txt", b"   \n\n  ", ""),
    ],
)
def test_bad_uploads_are_refused_with_a_message_and_change_nothing(
    client, mine, get_csrf, app, name, data, message
):
    response = upload(client, get_csrf, mine, name, data)
    assert response.status_code in (400, 413)
    page = response.get_data(as_text=True)
    assert 'class="flash flash-danger"' in page or response.status_code == 413
    assert message in page
    assert versions(app, mine) == []


def test_upload_over_the_size_limit_is_refused(client, mine, get_csrf, app):
    # a small limit keeps werkzeug's test client from spooling the body to a file it never closes
    app.config["TRANSCRIPT_MAX_BYTES"] = 1_000
    response = upload(client, get_csrf, mine, "entretien.txt", TEXT.encode() * 20)
    assert response.status_code == 400
    assert "trop volumineux" in response.get_data(as_text=True)
    assert versions(app, mine) == []


def test_empty_paste_is_refused(client, mine, get_csrf, app):
    url = f"/interviews/{mine}/transcript"
    response = client.post(url, data={"csrf_token": get_csrf(url), "text": "  \n "})
    assert response.status_code == 400
    assert "La transcription est vide" in response.get_data(as_text=True)
    assert versions(app, mine) == []


def test_another_fieldworker_cannot_upload(client, auth, create_user, interview, get_csrf, app):
    create_user("ines")
    create_user("marc")
    other = interview("marc")
    auth.login("ines")
    response = upload(client, get_csrf, other, "t.txt", TEXT.encode())
    assert response.status_code == 404
    assert versions(app, other) == []


def _heavy_docx(paragraphs: int) -> bytes:
    """A valid .docx of many short paragraphs: small on disk, seconds of parsing."""
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("x")
    buffer = io.BytesIO()
    document.save(buffer)
    source = zipfile.ZipFile(buffer)
    body = (
        b"<w:p><w:r><w:t>Oui, bien s\xc3\xbbr.</w:t><w:tab/><w:t>x</w:t></w:r></w:p>" * paragraphs
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                data = (
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
                    b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                    + body
                    + b"</w:body></w:document>"
                )
            target.writestr(info.filename, data)
    return out.getvalue()


def test_a_costly_upload_is_parsed_outside_the_web_process_within_a_time_limit(
    client, mine, get_csrf, app
):
    # 40,000 paragraphs take about 4 s of CPU to parse; the web process must not pay for them,
    # and a child past its CPU limit is stopped with a message
    app.config["TRANSCRIPT_PARSE_SECONDS"] = 1
    data = _heavy_docx(40_000)
    cpu, wall = time.process_time(), time.perf_counter()
    response = upload(client, get_csrf, mine, "entretien.docx", data)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert response.status_code == 400
    assert "dépasse les limites de temps ou de mémoire" in response.get_data(as_text=True)
    assert cpu < 1.0, f"the web process spent {cpu:.1f} s of CPU"
    assert wall < 10
    assert versions(app, mine) == []


def test_a_lying_docx_costs_the_web_process_no_memory(client, mine, get_csrf, app):
    zeros = b"\0" * 1_000_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("[Content_Types].xml", b"<Types/>")
        with target.open("word/document.xml", "w") as member:
            for _ in range(200):
                member.write(zeros)
    bomb = bytearray(out.getvalue())
    name = b"word/document.xml"
    for signature, at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := bomb.find(signature, start)) != -1:  # claim 5 KB in both headers
            if bomb[start + name_at : start + name_at + len(name)] == name:
                struct.pack_into("<I", bomb, start + at, 5_000)
            start += 4
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo("word/document.xml").file_size == 5_000
    tracemalloc.start()
    response = upload(client, get_csrf, mine, "entretien.docx", bytes(bomb))
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response.status_code == 400
    assert "document Word" in response.get_data(as_text=True)
    assert peak < 50_000_000, f"{peak / 1e6:.0f} MB allocated in the web process"
    assert versions(app, mine) == []
