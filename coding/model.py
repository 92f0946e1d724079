"""Train, evaluate, save and load theme models (skops file + meta.json, never pickle)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import skops.io as sio
import spacy
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import Pipeline

from coding.agreement import _interval, alpha_draws, krippendorff_alpha
from coding.classifier import (
    PLAIN_CANDIDATE,
    analyse_texts,
    available_candidates,
    candidate_parts,
    make_candidate,
)
from coding.codebook import Codebook
from coding.nlp import MODEL_NAME
from coding.precision import DEFAULT_FLOOR, check_floor, precision_tables
from coding.selection import N_BOOT, THEMED_FAMILIES, is_grouped, select_model

MODEL_FILE = "model.skops"
META_FILE = "meta.json"
#: Types outside skops' defaults that a theme model may contain; anything else is refused.
TRUSTED_TYPES = [
    "coding.classifier.KeywordHits",
    "coding.classifier.PriorScores",
    "coding.classifier.SentenceEncoder",
    "coding.classifier.SpacyAnalyzer",
    "coding.classifier.ThresholdedOneVsRest",
    "sklearn.utils._bunch.Bunch",
    "builtins.slice",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
]


class ModelError(Exception):
    """Raised when a model directory cannot be used."""


class ModelCodebookMismatch(ModelError):
    """Raised when a model was trained on another codebook than the one in use."""


class LabelError(ValueError):
    """Raised when training labels name codes the codebook does not know."""


@dataclass
class ThemeModel:
    """A fitted pipeline with the codes its output columns stand for."""

    pipeline: Pipeline
    codes: list[str]
    level: str
    meta: dict = field(default_factory=dict)

    @property
    def thresholds(self) -> np.ndarray:
        """Return the per-code decision thresholds."""
        return self.pipeline[-1].thresholds_

    @property
    def candidate(self) -> str:
        """Return the name of the candidate pipeline model selection kept."""
        return self.meta.get("candidate", "full")  # models from before selection were "full"

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Return an (n, n_codes) matrix of scores."""
        if not texts:
            return np.zeros((0, len(self.codes)))
        return self.pipeline.predict_proba(list(texts))

    def precision_table(self, level: str = "code") -> dict | None:
        """Return {column: measured precision entry} for the model's codes, or for families
        (of a code-level model) with level="family"; None when training did not measure it."""
        block = self.meta.get("precision") or {}
        if level == "family" and self.level == "code":
            return block.get("families") or None
        return block.get("codes") or None


# --- labels --------------------------------------------------------------------------------


def parse_code_cell(cell: object) -> frozenset[str]:
    """Split one ';'-separated codes cell; blank gives the empty set."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return frozenset()
    return frozenset(c.strip() for c in str(cell).split(";") if c.strip())


def parse_labels(
    cells: Iterable[object], codebook: Codebook, level: str | None = None
) -> tuple[list[frozenset[str]], str]:
    """Validate code cells; return the code sets and the level ("code" or "family").

    Cells hold leaf codes and/or family keys. With `level` None the level is inferred: when any
    cell uses a family key, every leaf code is mapped up to its family so that one model is
    trained at one level. `level="family"` always maps up; `level="code"` refuses family keys.
    """
    if level not in (None, "code", "family"):
        raise ValueError(f"unknown level {level!r}; expected 'code' or 'family'")
    sets = [parse_code_cell(c) for c in cells]
    for i, codes in enumerate(sets, 1):
        unknown = sorted(c for c in codes if not codebook.is_known(c))
        if unknown:
            raise LabelError(f"unknown code {unknown[0]!r} in data row {i}")
        if level == "code":
            fams = sorted(c for c in codes if c in codebook.families)
            if fams:
                raise LabelError(
                    f"family {fams[0]!r} in data row {i} cannot train a code-level model; "
                    "use the family level"
                )
    if level == "family" or (
        level is None and any(c in codebook.families for s in sets for c in s)
    ):
        sets = [frozenset(codebook.family_of(c) for c in s) for s in sets]
        return sets, "family"
    return sets, "code"


def label_space(codebook: Codebook, level: str) -> list[str]:
    """Return the output columns for a level."""
    return list(codebook.families) if level == "family" else codebook.codes


def indicator(sets: list[frozenset[str]], codes: list[str]) -> np.ndarray:
    """Return the (n, n_codes) 0/1 matrix of code sets."""
    pos = {c: j for j, c in enumerate(codes)}
    Y = np.zeros((len(sets), len(codes)), dtype=int)
    for i, s in enumerate(sets):
        for c in s:
            Y[i, pos[c]] = 1
    return Y


def keywords_for(codebook: Codebook, level: str) -> dict[str, list[str]]:
    """Return the keyword lists per output column (families pool their codes' keywords)."""
    if level == "family":
        return {
            f: [k for c in codebook.codes_of(f) for k in codebook.code_map[c].keywords]
            for f in codebook.families
        }
    return {c: list(codebook.code_map[c].keywords) for c in codebook.codes}


# --- metrics -------------------------------------------------------------------------------


def _prf(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    tp = int((y & p).sum())
    prec = tp / p.sum() if p.sum() else 0.0
    rec = tp / y.sum() if y.sum() else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"f1": f1, "precision": prec, "recall": rec, "support": int(y.sum())}


def _alpha(y: np.ndarray, p: np.ndarray) -> float:
    """Nominal alpha between gold and model treated as two coders of code presence."""
    return krippendorff_alpha(np.vstack([y, p]).astype(float), "nominal")


def family_matrix(
    Y: np.ndarray, codes: list[str], codebook: Codebook
) -> tuple[np.ndarray, list[str]]:
    """Map a code indicator matrix up to family presence."""
    fams = list(codebook.families)
    F = np.zeros((Y.shape[0], len(fams)), dtype=int)
    for j, c in enumerate(codes):
        F[:, fams.index(codebook.family_of(c))] |= Y[:, j]
    return F, fams


def metrics_report(
    Y: np.ndarray,
    P: np.ndarray,
    codes: list[str],
    codebook: Codebook,
    clusters=None,
    n_boot: int = 0,
    seed: int = 0,
    keep_draws: bool = False,
) -> dict:
    """Return macro-F1, per-code F1/precision/recall/alpha and per-family alpha.

    With `n_boot` > 0 each family alpha and the mean family alpha get a 95 % percentile
    interval (``alpha_ci``, ``mean_family_alpha_ci``) from a seeded bootstrap that resamples
    `clusters` (e.g. the document of each row; default: the rows). With `keep_draws` the mean
    family alpha of every draw is kept too (``mean_family_alpha_draws``, an array): reports
    with the same seed and clusters draw the same resamples, so two can be compared draw by
    draw.
    """
    per_code = {}
    for j, c in enumerate(codes):
        per_code[c] = {**_prf(Y[:, j], P[:, j]), "alpha": _nan_none(_alpha(Y[:, j], P[:, j]))}
    scored = [v["f1"] for v in per_code.values() if v["support"] > 0]
    FY, fams = family_matrix(Y, codes, codebook)
    FP, _ = family_matrix(P, codes, codebook)
    fam = {
        f: {**_prf(FY[:, k], FP[:, k]), "alpha": _nan_none(_alpha(FY[:, k], FP[:, k]))}
        for k, f in enumerate(fams)
    }
    themed = [fam[f]["alpha"] for f in THEMED_FAMILIES if fam[f]["alpha"] is not None]
    report = {
        "n": int(Y.shape[0]),
        "macro_f1": float(np.mean(scored)) if scored else 0.0,
        "per_code": per_code,
        "per_family": fam,
        "mean_family_alpha": float(np.mean(themed)) if themed else None,
        "exact_match": float((Y == P).all(axis=1).mean()) if len(Y) else 0.0,
    }
    if n_boot > 0 and len(Y):
        clusters = np.arange(len(Y)) if clusters is None else clusters
        draws = {}
        for k, f in enumerate(fams):
            d = alpha_draws(
                np.vstack([FY[:, k], FP[:, k]]), "nominal", None, n_boot, seed, clusters
            )
            fam[f]["alpha_ci"] = _percentile_ci(d)
            draws[f] = d
        rows = np.column_stack([draws[f] for f in THEMED_FAMILIES if f in draws])
        with np.errstate(all="ignore"):
            ok = np.isfinite(rows).any(axis=1)
            means = np.full(len(rows), np.nan)
            means[ok] = np.nanmean(rows[ok], axis=1)
        report["mean_family_alpha_ci"] = _percentile_ci(means)
        if keep_draws:
            report["mean_family_alpha_draws"] = means
        report["bootstrap"] = {"n_boot": n_boot, "seed": seed, "resampled": "documents"}
    return report


def _percentile_ci(draws: np.ndarray, ci: float = 0.95) -> list[float | None]:
    return [_nan_none(x) for x in _interval(draws, ci)]


def _nan_none(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


# --- training and cross-validation ---------------------------------------------------------


def cv_splits(n: int, folds: int, groups=None, seed: int = 0) -> list:
    """Return (train, test) index pairs; grouped when a group column is given."""
    if is_grouped(groups, folds):
        return list(
            GroupKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), groups=groups)
        )
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n)))


def _select(
    frame: pd.DataFrame,
    sets: list[frozenset[str]],
    codebook: Codebook,
    level: str,
    folds: int,
    seed: int,
    groups,
    progress,
    candidates,
    n_boot: int,
):
    codes = label_space(codebook, level)
    Y = indicator(sets, codes)
    groups = None if groups is None else np.asarray(groups)
    if candidates is None:  # train and evaluate compare the same candidates
        candidates = candidates_for(codebook)
    selection = select_model(
        frame,
        Y,
        codes,
        codebook,
        keywords_for(codebook, level),
        cv_splits(len(Y), folds, groups, seed),
        groups=groups,
        candidates=candidates,
        seed=seed,
        n_boot=n_boot,
        progress=progress,
    )
    report = {
        **selection.best.report,
        "folds": folds,
        "grouped": is_grouped(groups, folds),
        "candidate": selection.chosen,
    }
    return selection, report, Y, codes


def cross_validate(
    texts: list[str],
    sets: list[frozenset[str]],
    codebook: Codebook,
    level: str,
    folds: int = 5,
    seed: int = 0,
    analysed: pd.DataFrame | None = None,
    groups=None,
    progress=None,
    candidates=None,
    n_boot: int = N_BOOT,
) -> dict:
    """Return pooled out-of-fold metrics of the candidate model selection keeps, with the
    selection record (texts are analysed once, not per fold or candidate)."""
    frame = analysed if analysed is not None else analyse_texts(texts)
    selection, report, _, _ = _select(
        frame, sets, codebook, level, folds, seed, groups, progress, candidates, n_boot
    )
    return {**report, "selection": selection.summary()}


def train_model(
    texts: list[str],
    sets: list[frozenset[str]],
    codebook: Codebook,
    level: str = "code",
    folds: int = 5,
    groups=None,
    progress=None,
    candidates=None,
    floor: float = DEFAULT_FLOOR,
    seed: int = 0,
    n_boot: int = N_BOOT,
) -> ThemeModel:
    """Choose a candidate by grouped cross-validation, fit it on all rows, keep the figures.

    The metadata records the selection (each candidate's family alpha with its interval), the
    chosen candidate's cross-validated metrics and its measured precision per code (the
    out-of-fold precision curves behind suggestion floors). With ``folds`` 0 nothing is
    measured and the plain candidate (or the first of ``candidates``) is fitted.
    """
    floor = check_floor(floor)
    candidates = None if candidates is None else list(candidates)
    codes = label_space(codebook, level)
    keywords = keywords_for(codebook, level)
    frame = analyse_texts(texts)
    Y = indicator(sets, codes)
    selection = cv = precision = None
    chosen = PLAIN_CANDIDATE if candidates is None else candidates[0]
    if folds >= 2:
        selection, cv, Y, codes = _select(
            frame, sets, codebook, level, folds, seed, groups, progress, candidates, n_boot
        )
        chosen = selection.chosen
        precision = precision_tables(
            Y,
            selection.best.scores,
            codes,
            codebook.family_of,
            list(codebook.families),
            level,
            floor,
        )
    pipe = make_candidate(chosen, keywords, random_state=seed)
    pipe[0].fit(texts)
    fit_params = {"model__groups": np.asarray(groups)} if groups is not None else {}
    pipe[1:].fit(frame, Y, **fit_params)  # fits the shared step objects
    meta = _meta(codebook, level, codes, len(texts), cv, chosen, selection, precision)
    return ThemeModel(pipe, codes, level, meta)


def _meta(
    codebook: Codebook,
    level: str,
    codes: list[str],
    n: int,
    cv: dict | None,
    chosen: str,
    selection,
    precision: dict | None,
) -> dict:
    return {
        "codebook_version": codebook.version,
        "codebook_sha256": codebook.sha256,
        "level": level,
        "codes": codes,
        "training_size": n,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "candidate": chosen,
        "selection": None if selection is None else selection.summary(),
        "cv_metrics": cv,
        "precision": precision,
        "spacy_model": MODEL_NAME,
        "versions": {"sklearn": sklearn.__version__, "spacy": spacy.__version__},
    }


# --- persistence ---------------------------------------------------------------------------


def save_model(model: ThemeModel, directory: str | Path) -> Path:
    """Write model.skops and meta.json atomically into `directory`."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        **model.meta,
        "codes": model.codes,
        "level": model.level,
        "thresholds": [float(t) for t in model.thresholds],
    }
    # The TF-IDF vocabulary lives in the JSON schema: deflate keeps the file a few MB.
    data = sio.dumps(model.pipeline, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    _atomic_write(out / MODEL_FILE, data)
    _atomic_write(out / META_FILE, _meta_json(meta).encode())
    return out


_NUMBER_LIST = re.compile(r"\[\s*((?:[-\d.eE+]+|null)(?:,\s*(?:[-\d.eE+]+|null))*)\s*\]")


def _meta_json(meta: dict) -> str:
    """Indented JSON with each list of numbers on one line (precision curves stay readable)."""
    text = json.dumps(meta, indent=2, ensure_ascii=False)
    return _NUMBER_LIST.sub(
        lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text
    )


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; models are shipped and shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def default_model_dir() -> Path:
    """Return the directory of the shipped cold-start model."""
    return Path(__file__).resolve().parent / "models" / "default"


def read_meta(directory: str | Path) -> dict:
    """Read meta.json of a model directory."""
    path = Path(directory) / META_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot read model metadata {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"model metadata {path} is not valid JSON") from exc


def check_codebook(meta: dict, codebook: Codebook, where: str = "model") -> None:
    """Refuse a model trained on another codebook version or code list."""
    version = meta.get("codebook_version")
    if version != codebook.version:
        raise ModelCodebookMismatch(
            f"{where} was trained on codebook version {version!r} but the codebook in use is "
            f"version {codebook.version!r}; retrain it with `milieu coding train`"
        )
    expected = label_space(codebook, meta.get("level", "code"))
    if list(meta.get("codes", [])) != expected:
        raise ModelCodebookMismatch(
            f"{where} codes differ from codebook version {codebook.version!r}; retrain it"
        )


def load_model(directory: str | Path, codebook: Codebook) -> ThemeModel:
    """Load a saved model, refusing unknown types and codebook mismatches."""
    directory = Path(directory)
    meta = read_meta(directory)
    check_codebook(meta, codebook, f"model {directory}")
    pipeline = _load_pipeline(directory / MODEL_FILE)
    return ThemeModel(pipeline, list(meta["codes"]), meta.get("level", "code"), meta)


def candidates_for(codebook: Codebook) -> list[str]:
    """The candidates this installation can run for a codebook: those reading the shipped
    model's scores (``+prior``) only where that model is present and knows some of its codes."""
    names = available_candidates()
    try:
        shipped = set(read_meta(default_model_dir())["codes"])
    except ModelError:
        shipped = set()
    if not shipped & set(codebook.codes):
        names = [n for n in names if "prior" not in candidate_parts(n)]
    return names


def _load_pipeline(path: Path) -> Pipeline:
    """Load a skops archive, refusing any type outside ``TRUSTED_TYPES``."""
    try:
        untrusted = set(sio.get_untrusted_types(file=path))
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    except Exception as exc:  # skops raises assorted errors on corrupt archives
        raise ModelError(f"model file {path} is not a valid skops archive") from exc
    unexpected = sorted(untrusted - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(f"model file {path} contains untrusted types: {', '.join(unexpected)}")
    return sio.load(path, trusted=sorted(untrusted))


_SHIPPED: dict[tuple[str, int], tuple[Pipeline, list[str]]] = {}
_SHIPPED_LOCK = threading.Lock()  # model selection fits candidates on two threads


def load_shipped() -> tuple[Pipeline, list[str]]:
    """Return the shipped cold-start pipeline and its codes, loaded once per process.

    Whatever codebook a project uses, its scores are only features here (``PriorScores``), so
    the codebook is not checked. Reloaded when the file changes (``make model``).
    """
    directory = default_model_dir()
    path = directory / MODEL_FILE
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError as exc:
        raise ModelError(f"the shipped cold-start model {path} is missing") from exc
    with _SHIPPED_LOCK:
        if key not in _SHIPPED:
            _SHIPPED.clear()
            _SHIPPED[key] = (_load_pipeline(path), list(read_meta(directory)["codes"]))
        return _SHIPPED[key]
