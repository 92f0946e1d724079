"""Pseudonymisation: stable tokens, codings kept on their text, no real name exported."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis.datasets import Dataset
from analysis.synthetic_project import FIRMS, PERSONS, PLACES
from analysis.writers import WRITERS
from coding.pseudonymise import (
    Pseudonymiser,
    Replacement,
    coarsen_relay_roles,
    coarsen_territory,
    pseudonymise_dataset,
    remap_offset,
)


def test_remap_offset_around_and_inside_a_name() -> None:
    # "Ask Jean Dupont now" -> "Ask PERS_001 now": 11 characters become 8.
    reps = [Replacement(4, 15, 4, 12, "Jean Dupont", "PERS_001", "PERS")]
    assert remap_offset(2, reps, "start") == 2
    assert remap_offset(4, reps, "start") == 4
    assert remap_offset(9, reps, "start") == 4
    assert remap_offset(9, reps, "end") == 12
    assert remap_offset(15, reps, "end") == 12
    assert remap_offset(19, reps, "end") == 16


def test_terms_match_whole_words_ignoring_case_and_accents() -> None:
    p = Pseudonymiser(terms={"Hélène Castagnède": "PERS", "Rodez": "LIEU"}, model=None)
    text, reps = p.pseudonymise("HELENE  castagnede vit à rodez, pas à Rodezville.")
    assert text == "PERS_001 vit à LIEU_001, pas à Rodezville."
    assert [r.original for r in reps] == ["HELENE  castagnede", "rodez"]
    again, _ = p.pseudonymise("Rodez encore, et Hélène Castagnède.")
    assert again == "LIEU_001 encore, et PERS_001."
    key = p.key_table()
    assert set(key.columns) == {"original", "token", "kind"}
    assert set(key.loc[key["token"] == "PERS_001", "original"]) == {
        "Hélène Castagnède",
        "HELENE  castagnede",
    }


def test_tokens_continue_an_existing_key() -> None:
    key = pd.DataFrame({"original": ["Mathieu Brassac"], "token": ["PERS_007"], "kind": ["PERS"]})
    p = Pseudonymiser(terms={"Sophie Lagarrigue": "PERS"}, key=key, model=None)
    text, _ = p.pseudonymise("Mathieu Brassac et Sophie Lagarrigue")
    assert text == "PERS_007 et PERS_008"


def test_model_finds_unlisted_names(ner: object) -> None:
    p = Pseudonymiser(nlp=ner)
    text, reps = p.pseudonymise(
        "Bonjour. Jean Dupont travaille chez Airbus à Toulouse et exporte vers l'Allemagne."
    )
    assert "Jean Dupont" not in text and "Toulouse" not in text and "Airbus" not in text
    assert "Bonjour" in text and "Allemagne" in text
    assert {r.kind for r in reps} == {"PERS", "FIRM", "LIEU"}


def _apply_key(text: str, key: pd.DataFrame) -> str:
    for row in key.sort_values("original", key=lambda s: -s.str.len()).itertuples():
        text = text.replace(row.original, row.token)
    return text


def test_codings_cover_the_same_text_after_pseudonymisation(
    demo_ds: Dataset, ner: object, person_terms: dict
) -> None:
    out, key = pseudonymise_dataset(demo_ds, Pseudonymiser(terms=person_terms, nlp=ner))
    before = demo_ds.transcripts.set_index("transcript_id")["text"]
    after = out.transcripts.set_index("transcript_id")["text"]
    assert (after != before).all()
    for old, new in zip(demo_ds.codings.itertuples(), out.codings.itertuples(), strict=True):
        span_old = before[old.transcript_id][old.start : old.end]
        span_new = after[new.transcript_id][new.start : new.end]
        assert span_new == _apply_key(span_old, key)
    for seg in out.segments.itertuples():
        assert seg.text == after[seg.transcript_id][seg.start : seg.end]
    assert out.transcripts["sha256"].ne(demo_ds.transcripts["sha256"]).all()


def test_speaker_labels_are_pseudonymised(demo_ds: Dataset, person_terms: dict) -> None:
    segments = demo_ds.segments.copy()
    segments.loc[segments["speaker"] == "R", "speaker"] = "Sophie Lagarrigue"
    demo_ds.segments = segments
    out, _ = pseudonymise_dataset(demo_ds, Pseudonymiser(terms=person_terms, model=None))
    assert "Sophie Lagarrigue" not in set(out.segments["speaker"])
    assert set(out.segments["speaker"]) == {"E", "PERS_003"}


def test_coarsening_territory_and_relay_roles(demo_ds: Dataset) -> None:
    out = coarsen_territory(demo_ds, "departement")
    assert out.interviews["commune"].isna().all() and out.interviews["zone_emploi"].isna().all()
    assert out.interviews["departement"].equals(demo_ds.interviews["departement"])
    assert set(out.organisations["territory_code"]) <= set(demo_ds.interviews["departement"])
    region = coarsen_territory(demo_ds, "region")
    assert region.interviews["departement"].isna().all()
    roles = coarsen_relay_roles(demo_ds, {"cci": "consular_state"})
    assert set(roles.organisations["relay_category"].dropna()) == {"consular_state"}
    with pytest.raises(ValueError, match="'cci' has no family"):
        coarsen_relay_roles(demo_ds, {})


def _exported_text(path: Path) -> str:
    """Return every byte written under `path`, zip members decompressed, as text."""
    chunks: list[bytes] = []
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        data = file.read_bytes()
        chunks.append(data)
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as archive:
                chunks += [archive.read(n) for n in archive.namelist()]
        if file.suffix == ".parquet":
            chunks.append(pd.read_parquet(file).to_csv().encode("utf-8"))
    return b"\n".join(chunks).decode("utf-8", errors="replace")


def test_pseudonymised_exports_carry_no_real_name(
    demo_ds: Dataset, ner: object, person_terms: dict, tmp_path: Path
) -> None:
    out, key = pseudonymise_dataset(
        demo_ds,
        Pseudonymiser(terms=person_terms, nlp=ner),
        territory_level="departement",
        relay_families={"cci": "consular_state"},
    )
    targets = {
        "csv": "x.zip",
        "xlsx": "x.xlsx",
        "parquet": "pq",
        "sav": "x.sav",
        "dta": "x.dta",
        "qdpx": "x.qdpx",
        "qdc": "x.qdc",
    }
    for fmt, name in targets.items():
        WRITERS[fmt](out, tmp_path / name)
    parquet_zip = tmp_path / "pq.zip"
    WRITERS["parquet"](out, parquet_zip)
    blob = _exported_text(tmp_path).casefold()
    real = set(PERSONS) | set(FIRMS) | set(PLACES) | set(demo_ds.organisations["name"])
    assert "pers_001" in blob and "firm_001" in blob
    leaks = sorted(n for n in real if n.casefold() in blob)
    assert leaks == []
    assert set(key["original"]) >= set(PERSONS) | set(demo_ds.organisations["name"])


def test_leak_check_sees_names_in_a_clear_export(demo_ds: Dataset, tmp_path: Path) -> None:
    for fmt, name in {
        "sav": "x.sav",
        "parquet": "pq.zip",
        "xlsx": "x.xlsx",
        "qdpx": "x.qdpx",
    }.items():
        folder = tmp_path / fmt
        WRITERS[fmt](demo_ds, folder / name)
        blob = _exported_text(folder).casefold()
        assert any(n.casefold() in blob for n in PERSONS + list(FIRMS)), fmt


def test_missing_model_is_an_error_not_a_silent_fallback() -> None:
    from coding.pseudonymise import PseudonymisationError

    with pytest.raises(PseudonymisationError, match="not installed"):
        Pseudonymiser(model="xx_no_such_model_sm")
