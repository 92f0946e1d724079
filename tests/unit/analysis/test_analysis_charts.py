"""Profile charts in French and English: labels on the figure and in the written SVG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from analysis import plots
from analysis.texts import LANGS, TEXTS, texts

FRENCH = ["D1 Densité", "D2 Diversité", "D3 Dynamiques", "D4 Gouvernance", "D4 Stratégie"]
ENGLISH = ["D1 Density", "D2 Diversity", "D3 Dynamics", "D4 Governance", "D4 Strategy"]


def profile(with_d3: bool = True) -> pd.DataFrame:
    """Hérault with every headline D (D3 optional) and Gard with D1 only."""
    rows = [
        ("34", "Hérault", d, s, 0.5, 0.4, 0.6) for d, s in plots.HEADLINE if with_d3 or d != "D3"
    ]
    rows += [
        ("34", "Hérault", "D4_GOV", "coding", 0.45, 0.3, 0.6),
        ("30", "Gard", "D1", "registry", 0.3, np.nan, np.nan),
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "territory_code",
            "territory_name",
            "dimension",
            "source",
            "value",
            "ci_low",
            "ci_high",
        ],
    )


def labels(fig) -> list[str]:  # noqa: ANN001
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_every_text_has_french_and_english() -> None:
    for key, both in TEXTS.items():
        assert set(both) == set(LANGS), key
        assert all(both[lang].strip() for lang in LANGS), key
    with pytest.raises(ValueError, match="unknown language 'de'"):
        texts("de")


@pytest.mark.parametrize(
    ("lang", "dims", "axis"),
    [
        ("fr", FRENCH, "score dans [0, 1]   (plein : répertoire / Likert ; creux : transcriptions"),
        ("en", ENGLISH, "score in [0, 1]   (filled: registry / Likert; hollow: coded transcripts)"),
    ],
)
def test_territory_figure_speaks_the_language(lang: str, dims: list[str], axis: str) -> None:
    fig = plots.territory_figure(profile(), "34", lang)
    assert labels(fig) == dims
    assert fig.axes[0].get_xlabel().startswith(axis)
    assert fig.axes[0].get_title() == "Hérault (34)"


def ticks(fig) -> list[str]:  # noqa: ANN001
    FigureCanvasAgg(fig).draw()  # tick labels are formatted when drawn
    return [t.get_text() for t in fig.axes[0].get_xticklabels()]


@pytest.mark.parametrize(
    "figure",
    [
        lambda lang: plots.territory_figure(profile(), "34", lang),
        lambda lang: plots.comparison_figure(profile(), lang),
    ],
)
def test_score_ticks_use_the_decimal_mark_of_the_language(figure) -> None:  # noqa: ANN001
    assert ticks(figure("fr")) == ["0,0", "0,2", "0,4", "0,6", "0,8", "1,0"]
    assert ticks(figure("en")) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]


def test_territory_figure_is_french_by_default_and_names_missing_dimensions() -> None:
    fig = plots.territory_figure(profile(with_d3=False), "34")
    assert fig.axes[0].get_title() == "Hérault (34)\ndimensions manquantes : D3 Dynamiques"
    fig = plots.territory_figure(profile(with_d3=False), "34", "en")
    assert fig.axes[0].get_title() == "Hérault (34)\nmissing: D3 Dynamics"


def test_comparison_figure_speaks_the_language() -> None:
    fr = plots.comparison_figure(profile())
    assert labels(fr) == FRENCH
    assert fr.axes[0].get_xlabel() == "score dans [0, 1] avec intervalles bootstrap"
    en = plots.comparison_figure(profile(), "en")
    assert labels(en) == ENGLISH
    assert en.axes[0].get_xlabel() == "score in [0, 1] with bootstrap intervals"


def test_svg_carries_the_labels_of_its_language() -> None:
    # glyphs are drawn as paths; matplotlib keeps each text in a comment beside them
    fr = plots.territory_chart(profile(with_d3=False), "34", "svg", "fr").decode("utf-8")
    assert all(f"<!-- {label} -->" in fr for label in FRENCH[:2] + FRENCH[3:])
    assert "dimensions manquantes : D3 Dynamiques" in fr and "Density" not in fr
    en = plots.comparison_chart(profile(), "svg", "en").decode("utf-8")
    assert all(f"<!-- {label} -->" in en for label in ENGLISH)
    assert "score in [0, 1] with bootstrap intervals" in en and "Densité" not in en


def test_write_charts_in_english(tmp_path: Path) -> None:
    written = plots.write_charts(profile(), tmp_path / "en", "en")
    assert sorted(p.name for p in written) == [
        "comparison.png",
        "comparison.svg",
        "territory_30.png",
        "territory_30.svg",
        "territory_34.png",
        "territory_34.svg",
    ]
    assert "D2 Diversity" in (tmp_path / "en" / "territory_34.svg").read_text(encoding="utf-8")


def test_write_charts_refuses_an_unknown_language_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="use one of fr, en"):
        plots.write_charts(profile(), tmp_path / "de", "de")
    assert not (tmp_path / "de").exists()


def test_comparison_legend_names_territories_without_registry_dimensions() -> None:
    frame = profile()
    no_registry = frame[frame["source"] != "registry"]  # D1 and D2 missing everywhere
    legend = plots.comparison_figure(no_registry, "en").axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Hérault (34)"]  # Gard has no value
    nothing = frame.assign(value=np.nan)
    assert plots.comparison_figure(nothing).axes[0].get_legend() is None


def test_comparison_legend_shows_a_nameless_territory_by_its_code_once() -> None:
    frame = profile()
    frame.loc[frame["territory_code"] == "30", "territory_name"] = ""
    legend = plots.comparison_figure(frame, "en").axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Hérault (34)", "30"]
