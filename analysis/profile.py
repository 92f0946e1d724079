"""The 4D profile of each territory, with one bootstrap for every interval.

D1 = LQ / (1 + LQ) and D2 = evenness over all typology categories come from the registry
table (`milieu analyse registry`); D3, D4_GOV and D4_STRAT from interviews, from Likert items
(fixed anchors) and, beside them, from coded transcripts. All are in [0,1] and none depends
on which other territories are in the sample.

One bootstrap loop gives every interval: per territory, interviews are resampled by stratum
(respondent type) and cluster (organisation); a double-coded transcript contributes one
coder drawn at random; registry counts get Poisson noise. Percentile intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis import scores
from analysis.registry import map_arrondissement

LEVEL_COLUMNS = ("commune", "departement", "region", "zone_emploi")
STRATA = ("sme", "relay")
MIN_STRATUM = 8
PROFILE_COLUMNS = [
    "territory_level",
    "territory_code",
    "territory_name",
    "dimension",
    "source",
    "value",
    "ci_low",
    "ci_high",
    "n_sme",
    "n_relay",
    "flag",
    "note",
    # what the row rests on: interviews (answered / coded) or relay actors in the register
    "n_basis",
    "n_items",  # Likert rows: items answered
    "n_coders",  # coded rows: distinct coders
    "n_firms",  # register rows: the firm base
]
DEFAULT_STATUSES = ("approved", "submitted")
Progress = Callable[[str], None]


@dataclass
class ProfileResult:
    """Profile rows, per-respondent scores, scale reliabilities and warnings."""

    profile: pd.DataFrame
    respondents: pd.DataFrame
    alphas: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def territories(self) -> list[tuple[str, str]]:
        """Return (code, name) of each territory in profile order."""
        t = self.profile[["territory_code", "territory_name"]].drop_duplicates()
        return list(t.itertuples(index=False, name=None))


@dataclass
class _Stratum:
    clusters: list[np.ndarray]  # interview row indices per organisation
    n: int


@dataclass
class _Territory:
    code: str
    name: str
    strata: dict[str, _Stratum]
    relay: np.ndarray | None  # count per category (None: not in registry table)
    n_firms: float = float("nan")


def _registry_view(table: pd.DataFrame, level: str) -> tuple[dict[str, Any], float, int]:
    """Return per-territory (name, counts, n_firms), the reference rate and S_max."""
    t = table[table["territory_level"] == level]
    if t.empty:
        return {}, float("nan"), 0
    counts = t[t["indicator"].str.startswith("count:")]
    wide = counts.pivot_table(
        index="territory_code", columns="indicator", values="value", aggfunc="sum", sort=True
    )
    firms = t[t["indicator"] == "n_firms"].set_index("territory_code")["value"]
    names = t.drop_duplicates("territory_code").set_index("territory_code")["territory_name"]
    out = {
        str(code): (
            str(names.get(code, "") or ""),
            wide.loc[code].to_numpy(float),
            float(firms.get(code, np.nan)),
        )
        for code in wide.index
    }
    total_firms = float(firms.sum())
    ref = float(wide.to_numpy().sum() / total_firms) if total_firms > 0 else float("nan")
    return out, ref, wide.shape[1]


def d1_from_counts(n_relay: np.ndarray, n_firms: float, ref_rate: float) -> np.ndarray:
    """Return D1 = LQ/(1+LQ) for relay counts (array over replicates)."""
    if not n_firms > 0 or not ref_rate > 0:
        return np.full(np.shape(n_relay), np.nan)
    lq = (np.asarray(n_relay, float) / n_firms) / ref_rate
    return lq / (1 + lq)


def d2_from_counts(counts: np.ndarray, s_max: int) -> np.ndarray:
    """Return D2 = Shannon evenness over all S_max categories (rows = replicates)."""
    c = np.atleast_2d(np.asarray(counts, float))
    n = c.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = c / n[:, None]
        h = -np.where(c > 0, p * np.log(np.where(c > 0, p, 1)), 0).sum(axis=1)
    return np.where((n > 0) & (s_max > 1), h / np.log(max(s_max, 2)), np.nan)


def _filter_interviews(
    interviews: pd.DataFrame, statuses: Sequence[str] | None, level: str
) -> pd.DataFrame:
    iv = interviews.copy()
    if statuses:
        iv = iv[iv["status"].isin(statuses)]
    iv = iv[iv["respondent_type"].isin(STRATA)]
    iv = iv.dropna(subset=[level])
    iv[level] = iv[level].astype(str).str.strip()
    if level == "commune":  # registry tables count arrondissements in their commune
        iv[level] = iv[level].map(map_arrondissement)
    return iv.reset_index(drop=True)


def _score_arrays(
    iv: pd.DataFrame,
    answers: pd.DataFrame,
    codings: pd.DataFrame,
    questions: Mapping[str, Mapping[str, Any]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return likert[i, d], coding[i, k, d] (coder slot k) and n_coders[i]."""
    dims = scores.DIMENSIONS
    ids = iv["interview_id"].tolist()
    lik = scores.likert_scores(answers, questions).pivot_table(
        index="interview_id", columns="dimension", values="likert"
    )
    lik = lik.reindex(index=ids, columns=list(dims)).to_numpy(float)
    coders = scores.coders_by_interview(codings[codings["interview_id"].isin(ids)])
    n_coders = np.array([len(coders.get(i, ())) for i in ids], dtype=int)
    cod = np.full((len(ids), max(1, n_coders.max(initial=0)), len(dims)), np.nan)
    cs = scores.coding_scores(codings[codings["interview_id"].isin(ids)])
    row = {i: r for r, i in enumerate(ids)}
    for rec in cs.itertuples(index=False):
        k = coders[rec.interview_id].index(str(rec.coder))
        cod[row[rec.interview_id], k, dims.index(rec.dimension)] = rec.coding
    return lik, cod, n_coders


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN, NaN where a column has no value (no warning)."""
    ok = ~np.isnan(values)
    n = ok.sum(axis=0)
    total = np.where(ok, values, 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _stratum_means(
    idx: np.ndarray,
    lik: np.ndarray,
    cod: np.ndarray,
    n_coders: np.ndarray,
    rng: np.random.Generator | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean Likert and coding score per dimension over the interviews idx."""
    if rng is None:  # point estimate: average the coders of each transcript
        per_iv = (
            np.stack([_nanmean_rows(cod[i][: max(n_coders[i], 1)]) for i in idx])
            if len(idx)
            else np.empty((0, lik.shape[1]))
        )
    else:
        slot = np.floor(rng.random(len(idx)) * np.maximum(n_coders[idx], 1)).astype(int)
        per_iv = cod[idx, slot, :]
    return _nanmean_rows(lik[idx]), _nanmean_rows(per_iv)


def _interview_scores(
    terr: _Territory,
    lik: np.ndarray,
    cod: np.ndarray,
    n_coders: np.ndarray,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """Return a (2 sources x 3 dims) array: strata weighted equally."""
    means: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, st in terr.strata.items():
        if rng is None:
            idx = np.concatenate(st.clusters)
        else:
            pick = rng.integers(0, len(st.clusters), len(st.clusters))
            idx = np.concatenate([st.clusters[j] for j in pick])
        means[name] = _stratum_means(idx, lik, cod, n_coders, rng)
    out = np.full((2, len(scores.DIMENSIONS)), np.nan)
    for s in range(2):
        for d in range(len(scores.DIMENSIONS)):
            out[s, d] = scores.combine_groups({k: v[s][d] for k, v in means.items()})[0]
    return out


def _registry_draw(
    terr: _Territory, ref: float, s_max: int, rng: np.random.Generator | None
) -> tuple[float, float]:
    if terr.relay is None:
        return float("nan"), float("nan")
    counts = terr.relay if rng is None else rng.poisson(terr.relay).astype(float)
    d1 = d1_from_counts(np.array([counts.sum()]), terr.n_firms, ref)[0]
    return float(d1), float(d2_from_counts(counts, s_max)[0])


def composite(values: Sequence[float]) -> tuple[float, float]:
    """Return (geometric, arithmetic) means of D1, D2, D3, D4; NaN if one is missing."""
    v = np.asarray(values, float)
    if np.isnan(v).any():
        return float("nan"), float("nan")
    with np.errstate(divide="ignore"):
        geo = float(np.exp(np.mean(np.log(v)))) if (v > 0).all() else 0.0
    return geo, float(v.mean())


def _composite_inputs(reg: tuple[float, float], inter: np.ndarray, use: np.ndarray) -> list[float]:
    """Pick D3/D4 from the source chosen per dimension; D4 = mean of GOV and STRAT."""
    d = [inter[use[j], j] for j in range(3)]
    return [reg[0], reg[1], d[0], (d[1] + d[2]) / 2]


def _one_draw(
    terr: _Territory,
    arrays: tuple,
    ref: float,
    s_max: int,
    use: np.ndarray,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """Return one vector: D1, D2, likert x3, coding x3, geometric, arithmetic."""
    reg = _registry_draw(terr, ref, s_max, rng)
    inter = _interview_scores(terr, *arrays, rng)
    comp = composite(_composite_inputs(reg, inter, use))
    return np.concatenate([reg, inter[0], inter[1], comp])


ROW_KEYS = [
    ("D1", "registry"),
    ("D2", "registry"),
    ("D3", "likert"),
    ("D4_GOV", "likert"),
    ("D4_STRAT", "likert"),
    ("D3", "coding"),
    ("D4_GOV", "coding"),
    ("D4_STRAT", "coding"),
    ("composite", "geometric"),
    ("composite", "arithmetic"),
]


def build_profile(
    registry_table: pd.DataFrame,
    interviews: pd.DataFrame,
    answers_long: pd.DataFrame,
    codings: pd.DataFrame,
    questions: Mapping[str, Mapping[str, Any]],
    level: str = "departement",
    n_boot: int = 1000,
    seed: int = 20260,
    conf: float = 0.95,
    statuses: Sequence[str] | None = DEFAULT_STATUSES,
    territories: Sequence[str] | None = None,
    with_composite: bool = True,
    progress: Progress | None = None,
) -> ProfileResult:
    """Compute D1..D4 per territory with bootstrap intervals (seeded, reproducible)."""
    if level not in LEVEL_COLUMNS:
        raise ValueError(f"unknown level {level}: use one of {', '.join(LEVEL_COLUMNS)}")
    say = progress or (lambda _m: None)
    iv = _filter_interviews(interviews, statuses, level)
    codings = _usable_codings(codings)
    arrays = _score_arrays(iv, answers_long, codings, questions)
    basis = _basis_arrays(iv, answers_long, codings, questions)
    reg, ref, s_max = _registry_view(registry_table, level)
    terrs, warnings = _territories(iv, reg, level, territories)
    rng = np.random.default_rng(seed)
    rows = []
    for i, terr in enumerate(terrs):
        say(f"bootstrap {i + 1}/{len(terrs)}: {level} {terr.code} ({n_boot} replicates)")
        rows += _territory_rows(terr, arrays, ref, s_max, n_boot, conf, rng, level, basis)
    profile = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
    if not with_composite:
        profile = profile[profile["dimension"] != "composite"].reset_index(drop=True)
    resp = scores.respondent_scores(iv, answers_long, codings, questions)
    resp = resp.merge(
        iv[["interview_id", level]].rename(columns={level: "territory_code"}), on="interview_id"
    )
    alphas = scores.scale_alphas(iv, answers_long, questions)
    settings = {
        "level": level,
        "n_boot": n_boot,
        "seed": seed,
        "conf": conf,
        "statuses": list(statuses or []),
        "n_interviews": len(iv),
    }
    return ProfileResult(profile, resp, alphas, warnings, settings)


@dataclass
class _Basis:
    """Per interview row: Likert items answered per dimension, coders per transcript."""

    n_items: np.ndarray  # [i, d]
    coders: list[list[str]]


def _basis_arrays(
    iv: pd.DataFrame,
    answers: pd.DataFrame,
    codings: pd.DataFrame,
    questions: Mapping[str, Mapping[str, Any]],
) -> _Basis:
    dims = scores.DIMENSIONS
    ids = iv["interview_id"].tolist()
    lik = scores.likert_scores(answers, questions)
    items = (
        lik.pivot_table(index="interview_id", columns="dimension", values="n_items", aggfunc="sum")
        .reindex(index=ids, columns=list(dims))
        .fillna(0)
        .to_numpy(int)
        if not lik.empty
        else np.zeros((len(ids), len(dims)), int)
    )
    coders = scores.coders_by_interview(codings[codings["interview_id"].isin(ids)])
    return _Basis(items, [list(coders.get(i, ())) for i in ids])


def _row_basis(
    terr: _Territory, arrays: tuple, basis: _Basis | None, source: str, j: int
) -> tuple[float, float, float, float]:
    """Return (n_basis, n_items, n_coders, n_firms) for one row (NaN where it does not apply)."""
    nan = float("nan")
    if source == "registry":
        if terr.relay is None:
            return nan, nan, nan, nan
        return float(terr.relay.sum()), nan, nan, terr.n_firms
    if source not in ("likert", "coding") or basis is None:
        return nan, nan, nan, nan
    idx = (
        np.concatenate([np.concatenate(st.clusters) for st in terr.strata.values()])
        if terr.strata
        else np.empty(0, int)
    )
    if source == "likert":
        answered = basis.n_items[idx, j] if len(idx) else np.empty(0)
        return float((answered > 0).sum()), float(answered.sum()), nan, nan
    cod = arrays[1]
    coded = [i for i in idx if np.isfinite(cod[i, :, j]).any()]
    coders = {c for i in coded for c in basis.coders[i]}
    return float(len(coded)), nan, float(len(coders)), nan


def too_few(source: str, n: float) -> str:
    """The note of a row resting on fewer interviews than the saturation threshold."""
    what = "coded" if source == "coding" else "answered"
    return f"too few {what} interviews (n = {int(n)})"


def is_thin(source: str, value: float, n_basis: float) -> bool:
    """Tell whether an interview row (Likert or coding) with a value rests on fewer
    interviews than the saturation threshold: it then gets no interval, and says so."""
    return (
        source in ("likert", "coding")
        and not np.isnan(value)
        and not np.isnan(n_basis)
        and n_basis < scores.SATURATION_MIN
    )


def _usable_codings(codings: pd.DataFrame) -> pd.DataFrame:
    """Return codings with the needed columns (an empty table when there are none)."""
    if codings.empty:
        return pd.DataFrame(columns=list(scores.CODING_COLUMNS))
    missing = [c for c in scores.CODING_COLUMNS if c not in codings and c != "family"]
    if missing:
        raise ValueError(f"codings table lacks column(s): {', '.join(missing)}")
    return codings


def _territories(
    iv: pd.DataFrame, reg: dict[str, Any], level: str, only: Sequence[str] | None
) -> tuple[list[_Territory], list[str]]:
    codes = sorted(set(iv[level])) if len(iv) else sorted(reg)
    if only:
        codes = [str(c) for c in only]
    out, warnings = [], []
    for code in codes:
        sub = iv[iv[level] == code]
        strata = {}
        for st in STRATA:
            part = sub[sub["respondent_type"] == st]
            clusters = [g.index.to_numpy() for _, g in part.groupby("org_id", sort=True)]
            if clusters:
                strata[st] = _Stratum(clusters, len(part))
            if len(part) < MIN_STRATUM:
                warnings.append(
                    f"{level} {code}: {len(part)} {st} interview(s), fewer than "
                    f"{MIN_STRATUM}; D3/D4 are fragile"
                )
        name, counts, firms = reg.get(code, ("", None, float("nan")))
        out.append(_Territory(code, name, strata, counts, firms))
    return out, warnings


def _territory_rows(
    terr: _Territory,
    arrays: tuple,
    ref: float,
    s_max: int,
    n_boot: int,
    conf: float,
    rng: np.random.Generator,
    level: str,
    basis: _Basis | None = None,
) -> list[list[Any]]:
    inter = _interview_scores(terr, *arrays, None)
    use = np.where(np.isnan(inter[0]), 1, 0)  # fall back to coding where no Likert score
    point = _one_draw(terr, arrays, ref, s_max, use, None)
    draws = (
        np.stack([_one_draw(terr, arrays, ref, s_max, use, rng) for _ in range(n_boot)])
        if n_boot > 0
        else np.empty((0, len(point)))
    )
    n_sme = terr.strata["sme"].n if "sme" in terr.strata else 0
    n_relay = terr.strata["relay"].n if "relay" in terr.strata else 0
    rows = []
    thin = set()  # the D3/D4 rows below the saturation threshold
    for j, (dim, source) in enumerate(ROW_KEYS):
        low, high = _interval(draws[:, j], conf)
        flag = _flag(point, dim) if source in ("likert", "coding") else False
        note = _note(terr, dim, source, point[j], use, n_sme, n_relay)
        d = scores.DIMENSIONS.index(dim) if dim in scores.DIMENSIONS else -1
        n_basis, n_items, n_coders, n_firms = _row_basis(terr, arrays, basis, source, d)
        if basis is not None and is_thin(source, point[j], n_basis):
            # a bootstrap over so few cases looks certain ([0.500; 0.500]): no interval
            low = high = float("nan")
            note = "; ".join(filter(None, [too_few(source, n_basis), note]))
            thin.add((dim, source))
        if source in ("geometric", "arithmetic") and any(
            (scores.DIMENSIONS[k], "likert" if use[k] == 0 else "coding") in thin for k in range(3)
        ):
            low = high = float("nan")
            note = "; ".join(filter(None, [note, "no interval: a dimension rests on too few"]))
        rows.append(
            [
                level,
                terr.code,
                terr.name,
                dim,
                source,
                point[j],
                low,
                high,
                n_sme,
                n_relay,
                flag,
                note,
                n_basis,
                n_items,
                n_coders,
                n_firms,
            ]
        )
    return rows


def _interval(values: np.ndarray, conf: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if len(finite) < max(2, len(values) // 2):
        return float("nan"), float("nan")
    alpha = (1 - conf) / 2
    return float(np.quantile(finite, alpha)), float(np.quantile(finite, 1 - alpha))


def _flag(point: np.ndarray, dim: str) -> bool:
    j = scores.DIMENSIONS.index(dim)
    lik, cod = point[2 + j], point[5 + j]
    return bool(abs(lik - cod) > scores.TRIANGULATION_GAP) if np.isfinite(lik - cod) else False


def _note(
    terr: _Territory, dim: str, source: str, value: float, use: np.ndarray, n_sme: int, n_relay: int
) -> str:
    notes = []
    if source == "registry" and terr.relay is None:
        notes.append("territory not in registry table")
    elif source == "registry" and np.isnan(value):
        notes.append("no relay actor or no firm base")
    if source in ("likert", "coding"):
        if n_sme + n_relay == 0:
            notes.append("no interview")
        elif np.isnan(value):
            notes.append("no Likert item answered" if source == "likert" else "not coded")
        elif min(n_sme, n_relay) == 0:
            notes.append(f"only {'sme' if n_sme else 'relay'} respondents")
        if 0 < n_sme < MIN_STRATUM or 0 < n_relay < MIN_STRATUM:
            notes.append(f"fewer than {MIN_STRATUM} interviews in a stratum")
    if source == "geometric" and not np.isnan(value):
        fell_back = [scores.DIMENSIONS[j] for j in range(3) if use[j] == 1]
        if fell_back:
            notes.append("coding score used for " + ", ".join(fell_back))
    if dim == "composite" and np.isnan(value):
        notes.append("a dimension is missing")
    return "; ".join(notes)
