"""The demo generator is deterministic and matches the committed demo files."""

from __future__ import annotations

from pathlib import Path

from analysis import synthetic_registry as synth


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


def test_full_scale_generator_has_the_shape_of_the_national_stock(tmp_path: Path) -> None:
    import duckdb

    from analysis.registry import compute_registry

    out, geo = tmp_path / "stock.csv", tmp_path / "geo.csv"
    synth.write_full(out, 100_000, geo)
    again = tmp_path / "again.csv"
    synth.write_full(again, 100_000)
    assert out.read_bytes() == again.read_bytes()  # deterministic
    assert out.read_text().splitlines()[0].split(",") == synth.SIRENE_COLUMNS
    closed, rev1_closed, rev1_active = duckdb.sql(f"""
        SELECT avg((etatAdministratifEtablissement = 'F')::INT),
               avg((nomenclatureActivitePrincipaleEtablissement = 'NAFRev1')::INT)
                   FILTER (WHERE etatAdministratifEtablissement = 'F'),
               avg((nomenclatureActivitePrincipaleEtablissement = 'NAFRev1')::INT)
                   FILTER (WHERE etatAdministratifEtablissement = 'A')
        FROM read_csv('{out}', all_varchar=true)""").fetchall()[0]
    # INSEE's stock keeps closed establishments: about 61% of its rows.
    assert abs(closed - synth.CLOSED_PERCENT / 100) < 0.01
    # The closed share is drawn independently of the nomenclature (2% NAFRev1 on both sides).
    assert abs(rev1_closed - 0.02) < 0.005 and abs(rev1_active - 0.02) < 0.005
    result = compute_registry(out, geo, ["departement"])
    assert sum(result.malformed.values()) == 0
    assert result.info["inactive"] == round(closed * 100_000)
    n_relay = result.table[result.table["indicator"] == "n_relay"]["value"].sum()
    assert 0.05 < n_relay / result.info["active_kept"] < 0.2
