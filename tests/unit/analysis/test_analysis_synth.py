"""The demo generator is deterministic and matches the committed demo files."""

from __future__ import annotations

from pathlib import Path

from analysis import synth


def test_committed_demo_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    synth.write_demo(tmp_path)
    committed = synth.demo_paths()
    for key in ("registry", "geography", "population", "area"):
        assert (tmp_path / committed[key].name).read_bytes() == committed[key].read_bytes(), key
    for name in ("interviews.csv", "answers_long.csv", "codings.csv", "questions.json"):
        fresh = (tmp_path / "demo_interviews" / name).read_bytes()
        assert fresh == (committed["interviews"] / name).read_bytes(), name


def test_demo_registry_is_small_and_has_lyon_arrondissements() -> None:
    import gzip

    path = synth.demo_paths()["registry"]
    assert path.stat().st_size < 1_000_000
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    assert ",69381," in text and ",NAFRev1," in text and ",F," in text
