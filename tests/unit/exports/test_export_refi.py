"""REFI-QDA: exports validate against the REFI schemas and import back unchanged."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from analysis.datasets import Dataset
from analysis.writers.refi import (
    DEFAULT_XSD_DIR,
    RefiError,
    guid,
    load_schema,
    read_qdc,
    read_qdpx,
    write_qdc,
    write_qdpx,
)

#: The schemas as the project received them (read-only, beside the checkout when present).
SHARED_REFI = Path(__file__).resolve().parents[4] / "shared" / "refi"

NS = {"p": "urn:QDA-XML:project:1.0", "c": "urn:QDA-XML:codebook:1.0"}


def _schema_dirs() -> list[Path]:
    shared = SHARED_REFI.resolve()
    return [DEFAULT_XSD_DIR] + ([shared] if shared.is_dir() else [])


def test_packaged_schemas_are_the_published_ones() -> None:
    shared = SHARED_REFI.resolve()
    if not shared.is_dir():
        pytest.skip("the shared REFI schemas are not beside this checkout")
    for name in ("Project.xsd", "Codebook.xsd"):
        packaged = (DEFAULT_XSD_DIR / name).read_bytes()
        assert packaged == (shared / name).read_bytes()
        assert b"licensed under the MIT license" in packaged


@pytest.mark.parametrize("xsd_dir", _schema_dirs(), ids=lambda p: p.parent.name)
def test_exports_validate_against_both_schemas(
    small_ds: Dataset, tmp_path: Path, xsd_dir: Path
) -> None:
    write_qdc(small_ds, tmp_path / "x.qdc", xsd_dir=xsd_dir)
    write_qdpx(small_ds, tmp_path / "x.qdpx", xsd_dir=xsd_dir)
    codebook = etree.parse(str(tmp_path / "x.qdc"))
    assert load_schema("Codebook", xsd_dir).validate(codebook)
    with zipfile.ZipFile(tmp_path / "x.qdpx") as archive:
        project = etree.fromstring(archive.read("project.qde"))
        sources = [n for n in archive.namelist() if n.startswith("sources/")]
    assert load_schema("Project", xsd_dir).validate(project)
    assert len(sources) == len(small_ds.transcripts)


def test_codebook_families_are_parent_codes(small_ds: Dataset, tmp_path: Path) -> None:
    write_qdc(small_ds, tmp_path / "x.qdc")
    root = etree.parse(str(tmp_path / "x.qdc")).getroot()
    parents = root.findall("c:Codes/c:Code", NS)
    assert [p.get("name") for p in parents] == ["GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER"]
    assert all(p.get("isCodable") == "false" for p in parents)
    governance = [c.get("name") for c in parents[0].findall("c:Code", NS)]
    assert governance == [c for c in small_ds.codebook["code"] if c.startswith("GOV.")]
    frag = parents[0].find("c:Code[@name='GOV.FRAG']", NS)
    assert frag.get("guid") == guid("code", "GOV.FRAG")
    assert read_qdc(tmp_path / "x.qdc").codebook.equals(small_ds.codebook)


def test_project_carries_users_cases_variables_and_coders(
    small_ds: Dataset, tmp_path: Path
) -> None:
    write_qdpx(small_ds, tmp_path / "x.qdpx")
    with zipfile.ZipFile(tmp_path / "x.qdpx") as archive:
        root = etree.fromstring(archive.read("project.qde"))
    users = {u.get("name") for u in root.findall("p:Users/p:User", NS)}
    assert {"alice", "bruno"} <= users
    assert len(root.findall("p:Cases/p:Case", NS)) == len(small_ds.interviews)
    variables = {
        v.get("name"): v.get("typeOfVariable") for v in root.findall("p:Variables/p:Variable", NS)
    }
    assert variables["a5_proximite"] == "Integer" and variables["interview_date"] == "Date"
    coding = root.find(".//p:PlainTextSelection/p:Coding", NS)
    assert coding.get("creatingUser") in {guid("user", "alice"), guid("user", "bruno")}
    assert coding.get("creationDateTime").endswith("Z")


def _tricky(ds: Dataset) -> Dataset:
    """Put non-BMP characters, CRLF-free newlines and accents before the codings."""
    transcripts = ds.transcripts.copy()
    codings = ds.codings.copy()
    prefix = "🙂 Émoji 𝔘 line\nnext line\n"
    transcripts["text"] = prefix + transcripts["text"]
    codings["start"] += len(prefix)
    codings["end"] += len(prefix)
    ds.transcripts, ds.codings = transcripts, codings
    return ds


@pytest.mark.parametrize("unit", ["codepoint", "utf16"])
def test_round_trip_keeps_codes_sources_offsets_and_coders(
    small_ds: Dataset, tmp_path: Path, unit: str
) -> None:
    ds = _tricky(small_ds)
    write_qdpx(ds, tmp_path / "x.qdpx", position_unit=unit)
    back = read_qdpx(tmp_path / "x.qdpx", position_unit=unit)
    assert back.codebook.equals(ds.codebook)
    texts = dict(zip(back.transcripts["transcript_id"], back.transcripts["text"], strict=True))
    assert texts == dict(zip(ds.transcripts["transcript_id"], ds.transcripts["text"], strict=True))
    columns = ["coding_id", "transcript_id", "start", "end", "code", "coder", "source"]
    mine = ds.codings[columns].sort_values("coding_id").reset_index(drop=True)
    theirs = back.codings[columns].sort_values("coding_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)
    assert (
        back.codings.sort_values("coding_id")["created_dt"].to_numpy()
        == ds.codings.sort_values("coding_id")["created_dt"].to_numpy()
    ).all()
    for c in back.codings.itertuples():
        assert (
            texts[c.transcript_id][c.start : c.end]
            == ds.transcripts.set_index("transcript_id").at[c.transcript_id, "text"][
                c.start : c.end
            ]
        )


def test_utf16_positions_count_astral_characters_twice(small_ds: Dataset, tmp_path: Path) -> None:
    ds = _tricky(small_ds)
    first = ds.codings.sort_values("coding_id").iloc[0]
    write_qdpx(ds, tmp_path / "x.qdpx", position_unit="utf16")
    with zipfile.ZipFile(tmp_path / "x.qdpx") as archive:
        root = etree.fromstring(archive.read("project.qde"))
    selection = root.find(
        f".//p:PlainTextSelection[@guid='{guid('selection', first.coding_id)}']", NS
    )
    assert int(selection.get("startPosition")) == first.start + 2  # 🙂 and 𝔘


def test_export_is_deterministic(small_ds: Dataset, tmp_path: Path) -> None:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    write_qdpx(small_ds, tmp_path / "a.qdpx", created=when)
    write_qdpx(small_ds, tmp_path / "b.qdpx", created=when)
    with zipfile.ZipFile(tmp_path / "a.qdpx") as a, zipfile.ZipFile(tmp_path / "b.qdpx") as b:
        assert a.read("project.qde") == b.read("project.qde")


def _rewrite(src: Path, dst: Path, old: bytes, new: bytes) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            zout.writestr(item, data.replace(old, new, 1) if item == "project.qde" else data)


def test_invalid_project_names_the_violation(small_ds: Dataset, tmp_path: Path) -> None:
    write_qdpx(small_ds, tmp_path / "x.qdpx")
    _rewrite(tmp_path / "x.qdpx", tmp_path / "bad.qdpx", b'startPosition="', b'startPos="')
    with pytest.raises(RefiError, match=r"violates Project\.xsd at line \d+: .*startPos"):
        read_qdpx(tmp_path / "bad.qdpx")
    _rewrite(tmp_path / "x.qdpx", tmp_path / "broken.qdpx", b"</Project>", b"")
    with pytest.raises(RefiError, match=r"not well-formed XML: line \d+"):
        read_qdpx(tmp_path / "broken.qdpx")
    (tmp_path / "plain.qdpx").write_text("not a zip")
    with pytest.raises(RefiError, match="not a .qdpx archive"):
        read_qdpx(tmp_path / "plain.qdpx")


def test_invalid_codebook_names_the_violation(small_ds: Dataset, tmp_path: Path) -> None:
    write_qdc(small_ds, tmp_path / "x.qdc")
    text = (tmp_path / "x.qdc").read_text(encoding="utf-8")
    (tmp_path / "bad.qdc").write_text(
        text.replace('isCodable="true"', 'isCodable="maybe"', 1), encoding="utf-8"
    )
    with pytest.raises(RefiError, match=r"Codebook\.xsd at line \d+: .*isCodable.*maybe"):
        read_qdc(tmp_path / "bad.qdc")


def test_missing_source_file_is_refused(small_ds: Dataset, tmp_path: Path) -> None:
    write_qdpx(small_ds, tmp_path / "x.qdpx")
    with (
        zipfile.ZipFile(tmp_path / "x.qdpx") as zin,
        zipfile.ZipFile(tmp_path / "y.qdpx", "w") as zout,
    ):
        for item in zin.namelist()[:-1]:
            zout.writestr(item, zin.read(item))
    with pytest.raises(RefiError, match="missing from the archive"):
        read_qdpx(tmp_path / "y.qdpx")


def test_markup_and_control_characters_survive(small_ds: Dataset, tmp_path: Path) -> None:
    book = small_ds.codebook.copy()
    book.loc[0, "definition"] = 'Coordination "R&D" <entre> acteurs\x0b'
    small_ds.codebook = book
    answers = small_ds.answers_long.copy()
    answers.loc[answers["question_key"] == "a1_parcours", "value"] = "Texte\x0c & <balise>"
    small_ds.answers_long = answers
    codings = small_ds.codings.copy()
    codings["coder"] = 'o"brien & co'
    small_ds.codings = codings
    write_qdpx(small_ds, tmp_path / "x.qdpx")
    back = read_qdpx(tmp_path / "x.qdpx")
    assert back.codebook.loc[0, "definition"] == 'Coordination "R&D" <entre> acteurs'
    assert set(back.codings["coder"]) == {'o"brien & co'}
    values = {v for case in back.cases["variables"] for k, v in case.items() if k == "a1_parcours"}
    assert values == {"Texte & <balise>"}


def test_invalid_export_is_refused_and_not_written(
    small_ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analysis.writers import refi

    monkeypatch.setattr(
        refi._ProjectWriter,
        "_selection_xml",
        lambda self, c, text: '<PlainTextSelection name="x"/>',
    )
    with pytest.raises(RefiError, match=r"exported project: violates Project\.xsd at line"):
        write_qdpx(small_ds, tmp_path / "x.qdpx")
    assert list(tmp_path.iterdir()) == []


FOREIGN = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="from another tool" origin="OtherQDA">
 <Users><User guid="{11111111-1111-1111-1111-111111111111}" name="Ana"/></Users>
 <CodeBook><Codes>
  <Code guid="22222222-2222-2222-2222-222222222222" name="Themes" isCodable="true">
   <Code guid="33333333-3333-3333-3333-333333333333" name="Réseaux" isCodable="true">
    <Description>Clubs et réseaux</Description></Code>
  </Code>
 </Codes></CodeBook>
 <Sources>
  <TextSource guid="44444444-4444-4444-4444-444444444444" name="entretien 1">
   <PlainTextContent>Le club 🙂 export nous aide.</PlainTextContent>
   <PlainTextSelection guid="55555555-5555-5555-5555-555555555555" startPosition="3"
     endPosition="15" creatingUser="11111111-1111-1111-1111-111111111111">
    <Coding guid="66666666-6666-6666-6666-666666666666"
      creatingUser="{11111111-1111-1111-1111-111111111111}"
      creationDateTime="2025-02-03T10:00:00+01:00">
     <CodeRef targetGUID="33333333-3333-3333-3333-333333333333"/></Coding>
   </PlainTextSelection>
  </TextSource>
 </Sources>
</Project>
"""


@pytest.mark.parametrize(
    ("unit", "span"), [("codepoint", "club 🙂 expor"), ("utf16", "club 🙂 expo")]
)
def test_import_from_another_tool(tmp_path: Path, unit: str, span: str) -> None:
    with zipfile.ZipFile(tmp_path / "other.qdpx", "w") as archive:
        archive.writestr("project.qde", FOREIGN)
    project = read_qdpx(tmp_path / "other.qdpx", position_unit=unit)
    assert set(project.codebook["code"]) == {"Themes", "Réseaux"}
    assert project.codebook.set_index("code").at["Réseaux", "definition"] == "Clubs et réseaux"
    coding = project.codings.iloc[0]
    text = project.transcripts.iloc[0]["text"]
    assert text[coding.start : coding.end] == span
    assert (coding.code, coding.coder, coding.source) == ("Réseaux", "Ana", "human")
    assert coding.created_dt == pd.Timestamp("2025-02-03T09:00:00Z")
    dataset = project.to_dataset()
    write_qdpx(dataset, tmp_path / "again.qdpx")
    again = read_qdpx(tmp_path / "again.qdpx")
    assert again.codings[["start", "end", "code", "coder"]].equals(
        project.codings[["start", "end", "code", "coder"]]
    )
