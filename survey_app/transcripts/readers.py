"""Read an uploaded transcript (.txt, .docx, .vtt, .srt) into normalised plain text.

The result is NFC text with `\\n` line ends and no trailing spaces, the form every coding
offset refers to. Anything that is not a readable transcript raises TranscriptFileError
with a French and an English message for the web page.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from pathlib import PurePath

import charset_normalizer

ALLOWED_SUFFIXES = (".txt", ".docx", ".vtt", ".srt")
MAX_BYTES = 2_000_000
#: Single-byte Western encodings charset-normalizer may name for French text; French
#: Windows tools write cp1252, which also covers latin-1's printable range.
_WESTERN = frozenset(
    {
        "cp1252",
        "latin_1",
        "iso8859_15",
        "cp1250",
        "iso8859_2",
        "mac_roman",
        "cp850",
        "mac_latin2",
        "iso8859_9",
        "cp1254",
        "iso8859_10",
        "iso8859_14",
        "cp1257",
        "iso8859_4",
    }
)
_MAGIC = (
    b"%PDF",
    b"PK\x03\x04",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x7fELF",
    b"\xd0\xcf\x11\xe0",
    b"OggS",
    b"RIFF",
    b"fLaC",
    b"\x1f\x8b",
)
_TIMING = re.compile(
    r"^\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}"
)
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d{1,2}:[\d:.]+>|\{\\[^}]*\}")


class TranscriptFileError(ValueError):
    """An upload that cannot be read as a transcript; carries French and English messages."""

    def __init__(self, code: str, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_fr = message_fr
        self.message_en = message_en

    def __str__(self) -> str:
        return self.message_en


def _size(n: int) -> tuple[str, str]:
    mb = n / 1_000_000
    return f"{mb:.1f}".replace(".", ",") + " Mo", f"{mb:.1f} MB"


def read_transcript_upload(filename: str, data: bytes, max_bytes: int = MAX_BYTES) -> str:
    """Return the normalised text of an uploaded transcript file, or raise TranscriptFileError."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        shown = suffix or "sans extension"
        raise TranscriptFileError(
            "unsupported_type",
            f"Format de fichier non pris en charge ({shown}) : utilisez .txt, .docx, .vtt ou .srt.",
            f"Unsupported file type ({suffix or 'no extension'}): use .txt, .docx, .vtt or .srt.",
        )
    if len(data) > max_bytes:
        (got_fr, got_en), (lim_fr, lim_en) = _size(len(data)), _size(max_bytes)
        raise TranscriptFileError(
            "too_large",
            f"Fichier trop volumineux ({got_fr}) : la limite est de {lim_fr}.",
            f"File too large ({got_en}): the limit is {lim_en}.",
        )
    if not data:
        raise _empty()
    reader = {".txt": decode_text, ".docx": docx_text, ".vtt": vtt_text, ".srt": srt_text}[suffix]
    text = normalise_text(reader(data))
    if not text.strip():
        raise _empty()
    return text


def _empty() -> TranscriptFileError:
    return TranscriptFileError(
        "empty", "Le fichier ne contient aucun texte.", "The file contains no text."
    )


def _binary() -> TranscriptFileError:
    return TranscriptFileError(
        "binary",
        "Ce fichier ne contient pas du texte brut (fichier binaire renommé ?).",
        "This file does not contain plain text (a renamed binary file?).",
    )


def normalise_text(text: str) -> str:
    """Return NFC text with `\\n` line ends, no trailing spaces, no blank lines at either end."""
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


# --- plain text --------------------------------------------------------------------------


def _utf16_without_bom(data: bytes) -> str | None:
    """Guess BOM-less UTF-16 from the NUL bytes of mostly-ASCII text."""
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    controls = sum(
        1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v\x1a"
    )
    return "\x00" in text or controls > max(2, len(text) // 200)


def decode_text(data: bytes) -> str:
    """Decode text bytes: UTF-8 (with or without BOM), UTF-16, else the detected encoding."""
    if data.startswith(_MAGIC):
        raise _binary()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding: str | None = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = _utf16_without_bom(data)
    if encoding is None and b"\x00" in data:
        raise _binary()
    text = _decode_with(data, encoding) if encoding else _detect(data)
    if _looks_binary(text):
        raise _binary()
    return text


def _decode_with(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise _undecodable() from None


def _undecodable() -> TranscriptFileError:
    return TranscriptFileError(
        "undecodable",
        "Encodage du texte non reconnu : enregistrez le fichier en UTF-8.",
        "Unrecognised text encoding: save the file as UTF-8.",
    )


def _detect(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise _undecodable()
    if best.encoding in _WESTERN:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    return str(best)


# --- Word ----------------------------------------------------------------------------------


#: What a .docx may unpack to, counted on the bytes actually inflated (the zip directory's
#: sizes are never trusted). A two-hour interview is about 2 MB of Word XML.
DOCX_MAX_INFLATED = 40_000_000
#: XML elements in all the parts together (a transcript paragraph holds about ten)
DOCX_MAX_ELEMENTS = 400_000
#: paragraphs and table rows in the document body
DOCX_MAX_PARAGRAPHS = 50_000


def _bad_docx() -> TranscriptFileError:
    return TranscriptFileError(
        "bad_docx",
        "Ce fichier n'est pas un document Word (.docx) valide.",
        "This file is not a valid Word document (.docx).",
    )


def _too_complex() -> TranscriptFileError:
    return TranscriptFileError(
        "too_complex",
        "Ce document Word est trop volumineux ou trop complexe une fois décompressé : "
        "enregistrez la transcription en .txt ou découpez-la.",
        "This Word document is too large or too complex once unpacked: save the transcript "
        "as .txt or split it.",
    )


class _TooComplex(Exception):
    pass


def _check_docx_package(data: bytes) -> None:
    """Inflate every member within the caps and count XML elements; raise if anything is off.

    Runs before python-docx sees the file, which then reads members whose real size is known
    to be bounded. A DOCTYPE is refused: Word never writes one, and entities are a bomb.
    """
    from xml.parsers import expat

    from analysis.safe_zip import SafeZip, UnsafeZipError

    elements = paragraphs = 0

    def start(name: str, _attrs: object) -> None:
        nonlocal elements
        elements += 1
        if elements > DOCX_MAX_ELEMENTS:
            raise _TooComplex

    def doctype(*_args: object) -> None:
        raise ValueError("DOCTYPE")

    try:
        with SafeZip(
            data, max_member_bytes=DOCX_MAX_INFLATED, max_total_bytes=DOCX_MAX_INFLATED
        ) as archive:
            names = archive.names()
            if "word/document.xml" not in names or "[Content_Types].xml" not in names:
                raise _bad_docx()
            for name in names:
                if not name.endswith((".xml", ".rels")):
                    for _chunk in archive.iter_chunks(name):
                        pass  # counted against the budget, checked for damage
                    continue
                parser = expat.ParserCreate()
                parser.StartDoctypeDeclHandler = doctype
                if name == "word/document.xml":

                    def body_start(tag: str, attrs: object) -> None:
                        nonlocal paragraphs
                        start(tag, attrs)
                        if tag.rpartition(":")[2] in ("p", "tr"):
                            paragraphs += 1
                            if paragraphs > DOCX_MAX_PARAGRAPHS:
                                raise _TooComplex

                    parser.StartElementHandler = body_start
                else:
                    parser.StartElementHandler = start
                for chunk in archive.iter_chunks(name):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
    except UnsafeZipError as err:
        raise (
            _too_complex() if err.reason in ("too_large", "too_many_members") else _bad_docx()
        ) from None
    except _TooComplex:
        raise _too_complex() from None
    except (expat.ExpatError, ValueError):
        raise _bad_docx() from None


def docx_text(data: bytes) -> str:
    """Return the paragraphs (and table rows, tab-separated) of a .docx, one per line."""
    import docx  # python-docx; imported here so plain-text uploads do not pay for it

    _check_docx_package(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises many kinds on a damaged package
        raise _bad_docx() from None
    return "\n".join(_docx_blocks(document))


def _docx_blocks(document: object) -> list[str]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for block in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                lines.append("\t".join(cell.text for cell in row.cells))
    return lines


# --- subtitles ---------------------------------------------------------------------------


def _cue_blocks(text: str) -> list[list[str]]:
    """Split subtitle text into blocks of non-blank lines."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return [block.split("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


def _plain(payload: str) -> str:
    """Return cue text without tags and entities, whitespace collapsed."""
    plain = html.unescape(_TAG.sub("", payload)).replace("\u00a0", " ")
    return re.sub(r"\s+", " ", plain).strip()


def _cue_turns(lines: list[str]) -> list[tuple[str | None, str]]:
    """Return the (speaker, text) turns of a cue's payload; one cue may hold several voices."""
    payload = " ".join(line.strip() for line in lines if line.strip())
    parts = _VOICE.split(payload)  # [before, speaker1, text1, speaker2, text2, ...]
    turns: list[tuple[str | None, str]] = [(None, _plain(parts[0]))]
    for speaker, text in zip(parts[1::2], parts[2::2], strict=True):
        turns.append((html.unescape(speaker).strip(), _plain(text)))
    return turns


def _merge_turns(cues: list[tuple[str | None, str]]) -> str:
    """Join cues into lines, merging consecutive cues of the same named speaker."""
    turns: list[tuple[str | None, str]] = []
    for speaker, text in cues:
        if not text:
            continue
        if turns and speaker is not None and turns[-1][0] == speaker:
            turns[-1] = (speaker, f"{turns[-1][1]} {text}")
        else:
            turns.append((speaker, text))
    return "\n".join(f"{s} : {t}" if s else t for s, t in turns)


def _subtitle_cues(blocks: list[list[str]]) -> list[tuple[str | None, str]]:
    cues = []
    for block in blocks:
        timing = next((i for i, line in enumerate(block) if _TIMING.match(line)), None)
        if timing is not None:
            cues += _cue_turns(block[timing + 1 :])
    return cues


def _no_cues(kind: str) -> TranscriptFileError:
    return TranscriptFileError(
        "no_cues",
        f"Aucun sous-titre horodaté trouvé dans ce fichier {kind}.",
        f"No timed subtitle cue found in this {kind} file.",
    )


def vtt_text(data: bytes) -> str:
    """Return the speaker turns of a WebVTT file (header, NOTE/STYLE/REGION blocks dropped)."""
    blocks = _cue_blocks(decode_text(data))
    if not blocks or not blocks[0][0].strip().startswith("WEBVTT"):
        raise TranscriptFileError(
            "bad_vtt",
            "Ce fichier .vtt ne commence pas par « WEBVTT » : ce n'est pas un sous-titre WebVTT.",
            "This .vtt file does not start with 'WEBVTT': it is not a WebVTT subtitle file.",
        )
    body = [b for b in blocks[1:] if b[0].split(" ")[0] not in ("NOTE", "STYLE", "REGION")]
    cues = _subtitle_cues(body)
    if not any(text for _, text in cues):
        raise _no_cues(".vtt")
    return _merge_turns(cues)


def srt_text(data: bytes) -> str:
    """Return the speaker turns of a SubRip file (cue numbers and timestamps dropped)."""
    cues = _subtitle_cues(_cue_blocks(decode_text(data)))
    if not any(text for _, text in cues):
        raise _no_cues(".srt")
    return _merge_turns(cues)
