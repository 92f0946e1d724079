"""REFI-QDA projects the tests write themselves, each reproducing one real tool's habits.

- NVivo: the text only in the .docx at richTextPath, a 1-byte .txt at plainTextPath, CR LF
  line ends, positions in UTF-16 units, a capitalised `Sources/` folder.
- MAXQDA: meaningful source names ("ICLS 2024 3-10"), UTF-16 positions, notes on codings.
- ATLAS.ti: code names and a tree of its own, colours (#RGB and #RRGGBB), upper-case GUIDs
  in braces, selection descriptions as quotation comments.
- QualCoder (qc 1.3.2): a bare relative plainTextPath, sources without a name, positions in
  code points.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

NS = "urn:QDA-XML:project:1.0"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def docx(paragraphs: list[str]) -> bytes:
    """Return a minimal .docx whose body holds the paragraphs (a tab as <w:tab/>)."""
    body = "".join(
        "<w:p>"
        + "<w:r><w:tab/></w:r>".join(
            f"<w:r><w:t>{escape(part)}</w:t></w:r>" for part in p.split("\t")
        )
        + "</w:p>"
        for p in paragraphs
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def selection(
    guid: str, start: int, end: int, code: str, user: str, *, inner: str = "", note: str = ""
) -> str:
    return (
        f'<PlainTextSelection guid="{guid}" startPosition="{start}" endPosition="{end}" '
        f'creatingUser="{user}" creationDateTime="2024-03-10T09:00:00Z">{inner}'
        f'<Coding guid="{guid.strip("{}")[:-4]}c0de" creatingUser="{user}">'
        f'<CodeRef targetGUID="{code}"/>'
        f"{note}</Coding></PlainTextSelection>"
    )


def project_xml(origin: str, codes: str, sources: str, users: str, extra: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="quirks" '
        f"origin={quoteattr(origin)}><Users>{users}</Users><CodeBook><Codes>{codes}</Codes>"
        f"</CodeBook><Sources>{sources}</Sources>{extra}</Project>"
    )


def write(path: Path, xml: str, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for name, data in members.items():
            archive.writestr(name, data)
    return path


# --- NVivo ------------------------------------------------------------------------------------

NVIVO_PARAGRAPHS = ["Interviewer : Comment exportez-vous ?", "Dirigeant : Avec le club 🙂\texport."]


NVIVO_DESCRIPTION = "Entretien enregistré au salon, bruit de fond."


def nvivo_project(path: Path) -> Path:
    """NVivo 15: the text in the .docx only, the .txt one byte long, UTF-16 positions."""
    text = "\n".join(NVIVO_PARAGRAPHS)
    start = text.index("club")
    end = text.index("export.") + len("export")
    user = "aaaaaaaa-0000-4000-8000-000000000001"
    src = "bbbbbbbb-0000-4000-8000-000000000001"
    codes = (
        '<Code guid="cccccccc-0000-4000-8000-000000000001" name="Réseaux" isCodable="true">'
        '<Code guid="cccccccc-0000-4000-8000-000000000002" name="Clubs d\'exportateurs" '
        'isCodable="true"/></Code>'
    )
    sources = (
        f'<TextSource guid="{src}" name="Entretien PME 4" '
        f'richTextPath="internal://{src}.docx" plainTextPath="internal://{src}.txt">'
        f"<Description>{NVIVO_DESCRIPTION}</Description>"
        + selection(
            "dddddddd-0000-4000-8000-000000000001",
            utf16_len(text[:start]),
            utf16_len(text[:end]),
            "cccccccc-0000-4000-8000-000000000002",
            user,
        )
        + "</TextSource>"
    )
    xml = project_xml("NVivo 15 (Mac)", codes, sources, f'<User guid="{user}" name="Nadia Vidal"/>')
    return write(
        path, xml, {f"Sources/{src}.docx": docx(NVIVO_PARAGRAPHS), f"Sources/{src}.txt": b"\n"}
    )


# --- MAXQDA -----------------------------------------------------------------------------------

MAXQDA_TEXTS = {
    "ICLS 2024 3-10": "I : Et Bpifrance ? R : Un prêt 🚀 pour l'export au Japon.",
    "ICLS 2024 3-11": "I : Les salons ? R : La CCI nous a emmenés à Düsseldorf.",
}


def maxqda_project(path: Path, code_names: tuple[str, str] = ("Financement", "Salons")) -> Path:
    """MAXQDA 24: named sources, UTF-16 positions, a memo as a note on a coding."""
    user = "aaaaaaaa-0000-4000-8000-0000000000a1"
    code_guids = ["cccccccc-0000-4000-8000-0000000000a1", "cccccccc-0000-4000-8000-0000000000a2"]
    codes = "".join(
        f'<Code guid="{g}" name="{n}" isCodable="true" color="#ff8000"/>'
        for g, n in zip(code_guids, code_names, strict=True)
    )
    spans = [("prêt 🚀 pour l'export", 0), ("CCI", 1)]
    sources, members = [], {}
    for number, ((name, text), (span, k)) in enumerate(
        zip(MAXQDA_TEXTS.items(), spans, strict=True), start=1
    ):
        src = f"bbbbbbbb-0000-4000-8000-0000000000a{number}"
        start = text.index(span)
        note = '<NoteRef targetGUID="eeeeeeee-0000-4000-8000-0000000000a1"/>' if number == 1 else ""
        sources.append(
            f'<TextSource guid="{src}" name="{name}" plainTextPath="internal://{src}.txt">'
            + selection(
                f"dddddddd-0000-4000-8000-0000000000a{number}",
                utf16_len(text[:start]),
                utf16_len(text[: start + len(span)]),
                code_guids[k],
                user,
                note=note,
            )
            + "</TextSource>"
        )
        members[f"sources/{src}.txt"] = text.encode("utf-8")
    notes = (
        '<Notes><Note guid="eeeeeeee-0000-4000-8000-0000000000a1" name="Memo">'
        "<PlainTextContent>Prêt d'honneur, pas une avance remboursable.</PlainTextContent>"
        "</Note></Notes>"
    )
    xml = project_xml(
        "MAXQDA 24",
        codes,
        "".join(sources),
        f'<User guid="{user}" name="Max Quéré"/>',
        extra=notes,
    )
    return write(path, xml, members)


# --- ATLAS.ti ---------------------------------------------------------------------------------

ATLAS_TEXT = "Le Team France Export nous suit depuis 2019, avec un V.I.E en Corée."


def atlas_project(path: Path) -> Path:
    """ATLAS.ti 23: its own code tree with colours, braced upper-case GUIDs, comments."""
    user = "{088B08AC-D5CD-4ADB-8B71-B4F3459C177F}"
    codes = (
        '<Code guid="{A182CD3A-D83C-4D8C-BC80-26D9103EC6D6}" name="Accompagnement" '
        'isCodable="false" color="#3a7">'
        '<Code guid="{2D2466F0-D77F-4F8C-BDF9-628966B6B74D}" name="TFE : suivi" '
        'isCodable="true" color="#1F77B4"/>'
        '<Code guid="{086AC733-7B1C-4749-A138-D7182F63A5C9}" name="V.I.E" isCodable="true"/>'
        "</Code>"
    )
    start = ATLAS_TEXT.index("Team France Export")
    comment = "<Description>Citation clé pour D4.</Description>"
    sources = (
        '<TextSource guid="{9F1E0C1A-1111-4222-8333-444455556666}" name="P1 Optique"'
        ' plainTextPath="internal://9F1E0C1A-1111-4222-8333-444455556666.txt">'
        + selection(
            "{7E1E0C1A-1111-4222-8333-444455556666}",
            start,
            start + len("Team France Export"),
            "{2D2466F0-D77F-4F8C-BDF9-628966B6B74D}",
            user,
            inner=comment,
        )
        + "</TextSource>"
    )
    xml = project_xml("ATLAS.ti 23.2.3", codes, sources, f'<User guid="{user}" name="ATLAS.ti"/>')
    return write(
        path,
        xml,
        {"sources/9F1E0C1A-1111-4222-8333-444455556666.txt": ATLAS_TEXT.encode("utf-8")},
    )


# --- QualCoder --------------------------------------------------------------------------------

QC_TEXT = "Notre premier client 🇯🇵 est venu par la Région. Le board de 2017 l'a décidé."


def qualcoder_project(
    path: Path, code_name: str = "origine du client", text: str = QC_TEXT
) -> Path:
    """qc 1.3.2: a bare relative plainTextPath, no source name, code-point positions."""
    user = "aaaaaaaa-0000-4000-8000-0000000000c1"
    start = text.index("est venu")
    sources = (
        '<TextSource guid="bbbbbbbb-0000-4000-8000-0000000000c1" plainTextPath="board_2017.txt">'
        + selection(
            "dddddddd-0000-4000-8000-0000000000c1",
            start,
            start + len("est venu par la Région"),
            "cccccccc-0000-4000-8000-0000000000c1",
            user,
        )
        + "</TextSource>"
    )
    codes = (
        f'<Code guid="cccccccc-0000-4000-8000-0000000000c1" name="{code_name}" isCodable="true"/>'
    )
    xml = project_xml("QualCoder 1.3.2", codes, sources, f'<User guid="{user}" name="default"/>')
    return write(path, xml, {"Sources/board_2017.txt": text.encode("utf-8")})
