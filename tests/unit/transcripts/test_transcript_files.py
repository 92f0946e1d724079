"""Transcript uploads: every accepted file type, and every refused upload."""

import io
import zipfile

import docx
import pytest

from survey_app.transcripts.readers import TranscriptFileError, read_transcript_upload

FRENCH = (
    "Enquêteur : Comment ça a commencé ?\r\n"
    "R : L’été 2019, avec un œuf de Pâques… à Montréal.  \r\n"
)
EXPECTED = "Enquêteur : Comment ça a commencé ?\nR : L’été 2019, avec un œuf de Pâques… à Montréal."


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le", "utf-16-be"]
)
def test_txt_encodings_are_detected(encoding):
    assert read_transcript_upload("entretien.txt", FRENCH.encode(encoding)) == EXPECTED


def test_txt_latin1():
    text = "Interviewée : Oui, c'était déjà très compliqué à gérer là-bas.\n" * 3
    assert read_transcript_upload("e.TXT", text.encode("latin-1")) == text.strip("\n")


def test_txt_is_normalised_to_nfc_and_newlines():
    decomposed = "E: e\u0301te\u0301\rR: oui\t \n\n\n"
    assert read_transcript_upload("a.txt", decomposed.encode("utf-8")) == "E: \u00e9t\u00e9\nR: oui"


def make_docx(paragraphs, table=None) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_joined_by_newlines():
    data = make_docx(
        ["Q : Bonjour.", "R : Bonjour, merci.  ", "", "Q : Et ensuite ?"], [["Marie", "Oui."]]
    )
    assert read_transcript_upload("entretien.docx", data) == (
        "Q : Bonjour.\nR : Bonjour, merci.\n\nQ : Et ensuite ?\nMarie\tOui."
    )


VTT = """WEBVTT - interview 3

NOTE recorded on site,
two speakers

STYLE
::cue { color: yellow }

intro
00:00:01.000 --> 00:00:04.000 align:start position:10%
<v Marie Dupont>Bonjour, je dirige
<v Marie Dupont>une PME à Sète.</v>

00:00:04.500 --> 00:00:06.000
<v Marie Dupont>On exporte &amp; on importe.

00:00:06.500 --> 00:01:02.250
<v.interviewer Paul>Depuis <i>quand</i> ?

01:00:06.500 --> 01:00:08.000
<v Marie Dupont><c.yellow>2015.</c>
"""


def test_vtt_speakers_merged_and_timestamps_dropped():
    assert read_transcript_upload("e.vtt", VTT.encode("utf-8")) == (
        "Marie Dupont : Bonjour, je dirige une PME à Sète. On exporte & on importe.\n"
        "Paul : Depuis quand ?\n"
        "Marie Dupont : 2015."
    )


def test_vtt_cue_with_two_voices_gives_two_turns():
    text = (
        "WEBVTT\n\n00:01.000 --> 00:03.000\n<v Paul>Vous exportez ?</v> <v Marie>Oui.</v>\n\n"
        "00:03.000 --> 00:04.000\n<v Marie>Depuis 2015.\n"
    )
    assert read_transcript_upload("e.vtt", text.encode()) == (
        "Paul : Vous exportez ?\nMarie : Oui. Depuis 2015."
    )


def test_vtt_without_speakers_keeps_one_line_per_cue():
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\nBonjour.\n\n00:02.000 --> 00:03.000\nAu revoir.\n"
    assert read_transcript_upload("e.vtt", text.encode()) == "Bonjour.\nAu revoir."


SRT = (
    "1\r\n00:00:01,000 --> 00:00:03,500\r\n<v Enquêteur>Vous exportez où ?\r\n\r\n"
    "2\r\n00:00:03,600 --> 00:00:07,000\r\n"
    "<v Marie><i>Surtout</i> en Allemagne,\r\nun peu au Maroc.\r\n\r\n"
    "3\r\n00:00:07,100 --> 00:00:09,000\r\n<v Marie>Et bientôt au Québec.\r\n\r\n"
    "4\r\n00:00:09,100 --> 00:00:10,000\r\n{\\an8}Q : Merci.\r\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_srt_cue_numbers_stripped_and_turns_merged(encoding):
    assert read_transcript_upload("e.srt", SRT.encode(encoding)) == (
        "Enquêteur : Vous exportez où ?\n"
        "Marie : Surtout en Allemagne, un peu au Maroc. Et bientôt au Québec.\n"
        "Q : Merci."
    )


def refused(filename: str, data: bytes, **kwargs) -> TranscriptFileError:
    with pytest.raises(TranscriptFileError) as info:
        read_transcript_upload(filename, data, **kwargs)
    error = info.value
    assert error.message_fr and error.message_en and error.message_fr != error.message_en
    return error


@pytest.mark.parametrize("name", ["e.pdf", "e.doc", "e.odt", "e.rtf", "entretien", "e.txt.exe", ""])
def test_other_extensions_refused(name):
    error = refused(name, b"Bonjour")
    assert error.code == "unsupported_type"
    assert ".txt, .docx, .vtt ou .srt" in error.message_fr


def test_size_limit():
    error = refused("e.txt", b"a" * 1001, max_bytes=1000)
    assert error.code == "too_large"
    assert "la limite est de 0,0 Mo" in error.message_fr
    assert read_transcript_upload("e.txt", b"a" * 1000, max_bytes=1000) == "a" * 1000


def test_default_size_limit_is_two_megabytes():
    assert refused("e.txt", b"a" * 2_000_001).code == "too_large"


@pytest.mark.parametrize("data", [b"", b"   \r\n\t\n", "\ufeff \n".encode("utf-8"), b"\xff\xfe"])
def test_empty_text_refused(data):
    assert refused("e.txt", data).code == "empty"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)),
        bytes(range(256)) * 4,
        b"Bonjour\x00\x00\x01\x02\x03 le monde",
    ],
)
def test_binary_disguised_as_txt_refused(data):
    assert refused("e.txt", data).code == "binary"


def test_docx_renamed_to_txt_refused():
    assert refused("e.txt", make_docx(["Bonjour"])).code == "binary"


def test_fake_docx_refused():
    assert refused("e.docx", b"Q : bonjour").code == "bad_docx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not word")
    assert refused("e.docx", buffer.getvalue()).code == "bad_docx"


def test_damaged_docx_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<broken")
        archive.writestr("word/document.xml", "<broken")
    assert refused("e.docx", buffer.getvalue()).code == "bad_docx"


def test_empty_docx_refused():
    assert refused("e.docx", make_docx(["", "   "])).code == "empty"


def test_vtt_without_header_refused():
    assert refused("e.vtt", SRT.encode()).code == "bad_vtt"


def test_subtitles_without_cues_refused():
    assert refused("e.srt", b"Q : juste du texte\nR : sans horodatage\n").code == "no_cues"
    assert refused("e.vtt", b"WEBVTT\n\nNOTE nothing else\n").code == "no_cues"


def test_undecodable_utf16_refused():
    # A UTF-16 BOM followed by a lone high surrogate cannot be decoded.
    assert (
        refused("e.txt", b"\xff\xfe" + "Bonjour".encode("utf-16-le") + b"\x00\xd8").code
        == "undecodable"
    )
