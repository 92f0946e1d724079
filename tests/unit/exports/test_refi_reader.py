"""REFI-QDA import of projects as real tools write them (fixtures: tests/refi_quirks.py)."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import refi_quirks as q
from lxml import etree

from analysis.datasets import Dataset, empty_table
from analysis.writers.refi import RefiError, load_schema, write_qdpx
from analysis.writers.refi_reader import read_qdpx


def span(project, row: int = 0) -> str:
    coding = project.codings.iloc[row]
    text = project.transcripts.set_index("transcript_id").at[coding.transcript_id, "text"]
    return text[coding.start : coding.end]


def test_nvivo_rich_text_only_source_is_read_from_the_docx(tmp_path: Path) -> None:
    project = read_qdpx(q.nvivo_project(tmp_path / "nvivo.qdpx"))
    text = project.transcripts.iloc[0]["text"]
    assert text == "\n".join(q.NVIVO_PARAGRAPHS)
    assert project.rich_text_sources == [1]
    assert project.position_units == {1: "utf16"}  # NVivo counts UTF-16 units
    assert span(project) == "club 🙂\texport"
    assert project.source_names == {1: "Entretien PME 4"}


def test_maxqda_names_units_and_coding_notes(tmp_path: Path) -> None:
    project = read_qdpx(q.maxqda_project(tmp_path / "maxqda.qdpx"))
    assert list(project.source_names.values()) == list(q.MAXQDA_TEXTS)
    assert [span(project, i) for i in range(2)] == ["prêt 🚀 pour l'export", "CCI"]
    assert project.codings["memo"].tolist() == [
        "Prêt d'honneur, pas une avance remboursable.",
        "",
    ]
    assert project.loose_notes == 0
    assert (project.codings["coder"] == "Max Quéré").all()


def test_atlas_code_tree_names_and_colours(tmp_path: Path) -> None:
    project = read_qdpx(q.atlas_project(tmp_path / "atlas.qdpx"))
    tree = project.code_tree.set_index("code")
    assert list(tree.index) == ["Accompagnement", "TFE : suivi", "V.I.E"]
    assert set(project.codebook["family"]) == {"IMPORTED"}
    assert tree.at["TFE : suivi", "parent"] == "Accompagnement"
    assert tree.at["V.I.E", "parent"] == "Accompagnement"
    assert tree.at["Accompagnement", "color"] == "#33AA77"  # ATLAS.ti's #RGB, expanded
    assert tree.at["TFE : suivi", "color"] == "#1F77B4"
    assert not tree.at["Accompagnement", "codable"]
    assert span(project) == "Team France Export"
    assert project.codings.iloc[0]["memo"] == "Citation clé pour D4."
    assert project.codings.iloc[0]["coder"] == "ATLAS.ti"  # braced upper-case user GUID


def test_qualcoder_relative_path_and_nameless_source(tmp_path: Path) -> None:
    project = read_qdpx(q.qualcoder_project(tmp_path / "qc.qdpx"))
    assert project.source_names == {1: "board_2017"}
    assert project.position_units == {1: "codepoint"}  # QualCoder counts code points
    assert span(project) == "est venu par la Région"


def test_milieu_family_codes_keep_their_family(tmp_path: Path) -> None:
    project = read_qdpx(q.qualcoder_project(tmp_path / "qc.qdpx", code_name="DYN.CLUB"))
    assert project.codebook.iloc[0]["family"] == "DYNAMICS"
    assert project.codings.iloc[0]["family"] == "DYNAMICS"


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("codepoint", "est venu par la Région"), ("utf16", " est venu par la Régi")],
)
def test_a_named_unit_overrides_detection(tmp_path: Path, unit: str, expected: str) -> None:
    # The flag 🇯🇵 before the span is two astral characters (four UTF-16 units): read as
    # UTF-16, qc's code-point positions land early (a start inside a pair moves past it).
    project = read_qdpx(q.qualcoder_project(tmp_path / "qc.qdpx"), position_unit=unit)
    assert span(project) == expected
    assert project.position_units == {1: unit}


def test_positions_beyond_the_code_points_are_taken_as_utf16(tmp_path: Path) -> None:
    # a tool the reader does not know, whose last selection ends past the code-point length
    text = "Salut 🙂🙂"
    xml = q.project_xml(
        "SomeQDA 1.0",
        '<Code guid="cccccccc-0000-4000-8000-000000000009" name="émoji" isCodable="true"/>',
        '<TextSource guid="bbbbbbbb-0000-4000-8000-000000000009" name="s">'
        f"<PlainTextContent>{text}</PlainTextContent>"
        + q.selection(
            "dddddddd-0000-4000-8000-000000000009",
            6,
            q.utf16_len(text),
            "cccccccc-0000-4000-8000-000000000009",
            "aaaaaaaa-0000-4000-8000-000000000009",
        )
        + "</TextSource>",
        '<User guid="aaaaaaaa-0000-4000-8000-000000000009" name="u"/>',
    )
    project = read_qdpx(q.write(tmp_path / "x.qdpx", xml, {}))
    assert project.position_units == {1: "utf16"}
    assert span(project) == "🙂🙂"


def test_notes_and_descriptions_on_sources_and_codes(tmp_path: Path) -> None:
    xml = q.project_xml(
        "MAXQDA 24",
        '<Code guid="cccccccc-0000-4000-8000-000000000008" name="Export" isCodable="true">'
        "<Description>Ventes hors de France.</Description>"
        '<NoteRef targetGUID="eeeeeeee-0000-4000-8000-000000000082"/></Code>',
        '<TextSource guid="bbbbbbbb-0000-4000-8000-000000000008" name="s">'
        "<Description>Entretien au salon.</Description>"
        "<PlainTextContent>Nous exportons.</PlainTextContent>"
        '<NoteRef targetGUID="eeeeeeee-0000-4000-8000-000000000081"/></TextSource>'
        '<PDFSource guid="bbbbbbbb-0000-4000-8000-000000000088" name="scan" '
        'path="internal://scan.pdf"/>',
        '<User guid="aaaaaaaa-0000-4000-8000-000000000008" name="u"/>',
        extra="<Notes>"
        '<Note guid="eeeeeeee-0000-4000-8000-000000000081" name="n1">'
        "<PlainTextContent>Enregistrement partiel.</PlainTextContent></Note>"
        '<Note guid="eeeeeeee-0000-4000-8000-000000000082" name="Code memo"/>'
        '<Note guid="eeeeeeee-0000-4000-8000-000000000083" name="Journal">'
        "<PlainTextContent>Idées.</PlainTextContent></Note></Notes>",
    )
    project = read_qdpx(q.write(tmp_path / "x.qdpx", xml, {}))
    assert project.source_memos == {1: "Entretien au salon.\n\nEnregistrement partiel."}
    assert project.codebook.iloc[0]["definition"] == "Ventes hors de France.\n\nCode memo"
    assert project.loose_notes == 1  # the journal is attached to nothing imported
    assert project.other_sources == {"PDFSource": 1}  # reported, not imported
    assert len(project.transcripts) == 1


def test_a_doctype_is_refused_by_name(tmp_path: Path) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<Project xmlns="{q.NS}" name="&b;"/>'
    )
    path = q.write(tmp_path / "laughs.qdpx", laughs, {})
    with pytest.raises(RefiError, match=r"laughs\.qdpx: project\.qde: has a DOCTYPE declaration"):
        read_qdpx(path)


def test_a_docx_with_a_doctype_is_refused(tmp_path: Path) -> None:
    path = q.nvivo_project(tmp_path / "nvivo.qdpx")
    evil = tmp_path / "evil.qdpx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(evil, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith(".docx"):
                inner = zipfile.ZipFile(io.BytesIO(data))
                xml = inner.read("word/document.xml").replace(
                    b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1
                )
                data = _rezip({"word/document.xml": xml})
            target.writestr(item, data)
    with pytest.raises(RefiError, match=r"TextSource 'Entretien PME 4'.*\.docx.*DOCTYPE"):
        read_qdpx(evil)


def _rezip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_the_bytes_inflated_are_capped(tmp_path: Path) -> None:
    path = q.qualcoder_project(tmp_path / "qc.qdpx")
    with pytest.raises(RefiError, match="more than the 0 MB allowed"):
        read_qdpx(path, max_unpacked=400)


def test_a_forged_declared_size_is_not_trusted(tmp_path: Path) -> None:
    # The source member declares 10 bytes but inflates to 200,000: the declared sizes pass
    # the early check, the counted read refuses (or zip's own check breaks): never a crash.
    path = q.qualcoder_project(tmp_path / "qc.qdpx")
    big = tmp_path / "big.qdpx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "Sources/board_2017.txt":
                data = q.QC_TEXT.encode() + b" " * 200_000
            out.writestr(item.filename, data)
    raw = bytearray(big.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            name_len = struct.unpack_from("<H", raw, start + offset + 4)[0]
            if bytes(raw[name_at : name_at + name_len]) == b"Sources/board_2017.txt":
                struct.pack_into("<I", raw, start + offset, 10)
            start += 4
    big.write_bytes(bytes(raw))
    with pytest.raises(RefiError, match=r"big\.qdpx: Sources/board_2017\.txt"):
        read_qdpx(big, max_unpacked=100_000)


def test_a_refusal_names_file_element_and_reason(tmp_path: Path) -> None:
    path = q.qualcoder_project(tmp_path / "qc.qdpx")
    bad = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "project.qde":
                data = data.replace(
                    b'<CodeRef targetGUID="cccccccc', b'<CodeRef targetGUID="ffffffff'
                )
            target.writestr(item, data)
    with pytest.raises(
        RefiError,
        match=r"^bad\.qdpx: project\.qde: Coding \(dddddddd-0000-4000-8000-00000000c0de\): "
        r"refers to code ffffffff-.*absent from the codebook$",
    ):
        read_qdpx(bad)


def test_a_missing_source_names_the_path(tmp_path: Path) -> None:
    path = q.qualcoder_project(tmp_path / "qc.qdpx")
    bad = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bad, "w") as target:
        target.writestr("project.qde", source.read("project.qde"))
    with pytest.raises(
        RefiError, match=r"bad\.qdpx: project\.qde: TextSource .*: board_2017\.txt missing"
    ):
        read_qdpx(bad)


def test_memos_and_imported_codes_round_trip_through_a_valid_qdpx(tmp_path: Path) -> None:
    project = read_qdpx(q.maxqda_project(tmp_path / "maxqda.qdpx"))
    book = project.codebook.assign(parent=None, color="#FF8000")
    book.loc[book["code"] == "Salons", "parent"] = "Financement"
    ds = Dataset(
        codebook=book,
        users=project.users,
        transcripts=project.transcripts.assign(version=1, sha256="x"),
        codings=project.codings,
        interviews=empty_table("interviews"),
    )
    write_qdpx(ds, tmp_path / "out.qdpx")
    with zipfile.ZipFile(tmp_path / "out.qdpx") as archive:
        root = etree.fromstring(archive.read("project.qde"))
    assert load_schema("Project").validate(root)
    back = read_qdpx(tmp_path / "out.qdpx")
    assert back.codings["memo"].tolist() == project.codings["memo"].tolist()
    tree = back.code_tree.set_index("code")
    assert tree.at["Salons", "parent"] == "Financement"
    assert tree.at["Financement", "color"] == "#FF8000"
    assert set(back.codebook["family"]) == {"IMPORTED"}
    assert pd.Series([span(back, i) for i in range(2)]).tolist() == ["prêt 🚀 pour l'export", "CCI"]
