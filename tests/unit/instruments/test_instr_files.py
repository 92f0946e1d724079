"""Every instrument file in instruments/ is valid, and the two guides are complete."""

from pathlib import Path

import pytest
import yaml

from survey_app.instruments.definitions import (
    instrument_sha256,
    iter_questions,
    load_instrument,
    question_metadata,
)

ROOT = Path(__file__).resolve().parents[3]
INSTRUMENTS = ROOT / "instruments"


def instrument_files() -> list[Path]:
    """Return the YAML files of instruments/ that have the instrument shape."""
    found = []
    for path in sorted(INSTRUMENTS.glob("*.y*ml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and ("sections" in data or "respondent_type" in data):
            found.append(path)
    return found


def test_the_two_guides_are_found():
    names = {p.name for p in instrument_files()}
    assert {"sme_manager.yaml", "relay_actor.yaml"} <= names


@pytest.mark.parametrize("path", instrument_files(), ids=lambda p: p.name)
def test_instrument_file_is_valid(path):
    instrument = load_instrument(path)
    assert instrument.id == path.stem
    assert instrument.sha256 == instrument_sha256(path)


GUIDES = {"sme_manager": ("a", "sme"), "relay_actor": ("b", "relay")}


@pytest.fixture(scope="module", params=sorted(GUIDES))
def guide(request):
    return load_instrument(INSTRUMENTS / f"{request.param}.yaml")


def test_guide_has_its_sixteen_questions_tagged(guide):
    prefix, respondent = GUIDES[guide.id]
    assert guide.respondent_type == respondent
    keys = [q.key for q in iter_questions(guide)]
    numbered = [f"{prefix}{n}" for n in range(1, 17)]
    assert [k for k in keys if k in numbered] == numbered
    for key in numbered:
        q = guide.question(key)
        assert q.label["fr"] and q.label["en"] and q.label["fr"] != q.label["en"]
        assert q.d in ("D3", "D4_GOV", "D4_STRAT", None)
        if key != "b1":  # the guide tags B1 with no code: it describes the organisation
            assert q.d is not None and q.codes, key


def test_guide_consent_first_with_three_separate_agreements(guide):
    first = guide.sections[0]
    assert [q.type for q in first.questions] == ["consent"] * 3
    required = {q.key: q.required for q in first.questions}
    assert required == {"consent_data": True, "consent_participation": True, "consent_audio": False}
    assert all(q.type != "consent" for s in guide.sections[1:] for q in s.questions)


def test_guide_scales_and_reverse_items(guide):
    meta = question_metadata(guide)
    likert = [k for k, m in meta.items() if m["type"] == "likert"]
    assert len(likert) >= 8
    assert [c["value"] for c in meta[likert[0]]["choices"]] == ["1", "2", "3", "4", "5"]
    assert meta[likert[0]]["choices"][0]["label"]["fr"] == "Pas du tout d'accord"
    reverse = {k for k, m in meta.items() if m["reverse"]}
    expected = {"sme_manager": {"a6", "a9"}, "relay_actor": {"b5"}}[guide.id]
    assert reverse == expected
    frequency = [k for k, m in meta.items() if m["type"] == "frequency"]
    assert meta[frequency[0]]["choices"][4]["label"]["fr"] == "Très souvent (hebdo)"


def test_guide_has_real_skip_logic(guide):
    assert sum(1 for q in iter_questions(guide) if q.relevant) >= 2


def test_metadata_matches_the_table_contract(guide):
    for meta in question_metadata(guide).values():
        assert set(meta) == {"type", "d", "reverse", "codes", "choices", "label"}
        assert isinstance(meta["codes"], list) and isinstance(meta["reverse"], bool)
        assert set(meta["label"]) == {"fr", "en"}


def test_sha256_ignores_line_ends_and_bom(tmp_path):
    source = (INSTRUMENTS / "sme_manager.yaml").read_bytes()
    windows = tmp_path / "sme_manager.yaml"
    windows.write_bytes(b"\xef\xbb\xbf" + source.replace(b"\n", b"\r\n"))
    assert instrument_sha256(windows) == instrument_sha256(INSTRUMENTS / "sme_manager.yaml")
    changed = tmp_path / "changed.yaml"
    changed.write_bytes(source.replace(b"Racontez-moi", b"Racontez-nous"))
    assert instrument_sha256(changed) != instrument_sha256(INSTRUMENTS / "sme_manager.yaml")
