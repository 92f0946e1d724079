"""Hostile .docx uploads are refused quickly, without inflating them into memory."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile

import docx
import pytest

from analysis.safe_zip import SafeZip, UnsafeZipError
from survey_app.transcripts.readers import TranscriptFileError, read_transcript_upload

MB = 1_000_000


def _honest_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Q : Bonjour.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _replace_member(package: bytes, name: str, write) -> bytes:
    """Copy a .docx, writing member `name` by streaming `write(file)` (no big string held)."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == name:
                fresh = zipfile.ZipInfo(name)
                fresh.compress_type = zipfile.ZIP_DEFLATED
                with target.open(fresh, "w") as member:
                    write(member)
            else:
                target.writestr(info, source.read(info.filename), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _claim_size(package: bytes, name: str, claimed: int) -> bytes:
    """Rewrite the uncompressed size the zip states for `name`, in both headers: a bomb."""
    data = bytearray(package)
    encoded = name.encode()
    for signature, size_at, name_len_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),  # local file header
        (b"PK\x01\x02", 24, 28, 46),  # central directory entry
    ):
        start = 0
        while (start := data.find(signature, start)) != -1:
            (length,) = struct.unpack_from("<H", data, start + name_len_at)
            if bytes(data[start + name_at : start + name_at + length]) == encoded:
                struct.pack_into("<I", data, start + size_at, claimed)
            start += 4
    return bytes(data)


def _document_of(filler: bytes, repeat: int):
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>"
    )

    def write(member) -> None:
        member.write(head)
        block = filler * 10_000
        for _ in range(repeat // 10_000):
            member.write(block)
        member.write(b"</w:body></w:document>")

    return write


def _measured(call):
    """Run call(); return (its exception, seconds, peak bytes Python allocated meanwhile)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        call()
    except Exception as err:  # noqa: BLE001 - the test inspects it
        outcome = err
    else:
        outcome = None
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return outcome, seconds, peak


def test_a_docx_lying_about_its_size_is_refused_without_inflating_it():
    # 300 MB of spaces in document.xml, about 300 KB compressed, while the zip directory
    # claims 5 KB (a crafted archive; the probe's was 1 GiB in a 1.5 MB file)
    space = b" " * MB
    package = _replace_member(
        _honest_docx(), "word/document.xml", lambda f: [f.write(space) for _ in range(300)]
    )
    bomb = _claim_size(package, "word/document.xml", 5_000)
    assert len(bomb) < 2 * MB
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo("word/document.xml").file_size == 5_000
    error, seconds, peak = _measured(lambda: read_transcript_upload("e.docx", bomb))
    assert isinstance(error, TranscriptFileError)
    assert error.code in ("bad_docx", "too_complex")
    assert seconds < 5
    assert peak < 50 * MB, f"{peak / MB:.0f} MB allocated"


def test_an_honest_docx_that_inflates_too_far_is_refused():
    space = b" " * MB
    bomb = _replace_member(
        _honest_docx(), "word/document.xml", lambda f: [f.write(space) for _ in range(100)]
    )
    error, seconds, peak = _measured(lambda: read_transcript_upload("e.docx", bomb))
    assert isinstance(error, TranscriptFileError) and error.code == "too_complex"
    assert "trop volumineux" in error.message_fr
    assert seconds < 5
    assert peak < 50 * MB, f"{peak / MB:.0f} MB allocated"


def test_millions_of_empty_paragraphs_are_refused_in_little_time():
    # 12 MB of <w:p/> compresses to about 30 KB; python-docx took 41 s on 20 MB of them
    bomb = _replace_member(_honest_docx(), "word/document.xml", _document_of(b"<w:p/>", 2_000_000))
    assert len(bomb) < 100_000
    error, seconds, peak = _measured(lambda: read_transcript_upload("e.docx", bomb))
    assert isinstance(error, TranscriptFileError) and error.code == "too_complex"
    assert seconds < 5
    assert peak < 50 * MB, f"{peak / MB:.0f} MB allocated"


def test_a_doctype_with_entities_is_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
    )
    bomb = _replace_member(_honest_docx(), "word/document.xml", lambda f: f.write(laughs))
    with pytest.raises(TranscriptFileError) as caught:
        read_transcript_upload("e.docx", bomb)
    assert caught.value.code == "bad_docx"


def test_a_long_honest_transcript_still_reads():
    document = docx.Document()
    for i in range(3000):
        document.add_paragraph(f"R : réponse numéro {i}, assez longue pour ressembler à un tour.")
    buffer = io.BytesIO()
    document.save(buffer)
    text = read_transcript_upload("e.docx", buffer.getvalue())
    assert text.count("\n") == 2999 and text.endswith(
        "numéro 2999, assez longue pour ressembler à un tour."
    )


def test_safe_zip_counts_inflated_bytes_not_declared_ones():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"x" * 200_000)
        archive.writestr("b.txt", b"y" * 200_000)
    with SafeZip(out.getvalue(), max_member_bytes=300_000, max_total_bytes=300_000) as archive:
        assert archive.read("a.txt") == b"x" * 200_000
        with pytest.raises(UnsafeZipError) as caught:
            archive.read("b.txt")  # within the member cap, past the total
        assert caught.value.reason == "too_large"
    lying = _claim_size(out.getvalue(), "a.txt", 10)
    with SafeZip(lying, max_member_bytes=300_000, max_total_bytes=10**6) as archive:
        with pytest.raises(UnsafeZipError) as caught:
            archive.read("a.txt")
        assert caught.value.reason == "bad_zip"  # the stream does not match its claim
    with pytest.raises(UnsafeZipError) as caught:
        SafeZip(b"not a zip", max_member_bytes=1, max_total_bytes=1)
    assert caught.value.reason == "bad_zip"
