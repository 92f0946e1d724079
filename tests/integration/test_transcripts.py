"""Transcripts: paste or upload, speaker turns with exact offsets, versions, bad uploads refused."""

import hashlib
import io

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
