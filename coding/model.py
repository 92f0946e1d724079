"""Train, evaluate, save and load theme models (skops file + meta.json, never pickle)."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import skops.io as sio
import spacy
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import Pipeline

from coding.agreement import krippendorff_alpha
from coding.classifier import analyse_texts, make_theme_pipeline, without_analysis
from coding.codebook import Codebook
from coding.nlp import MODEL_NAME

MODEL_FILE = "model.skops"
META_FILE = "meta.json"
#: Types outside skops' defaults that a theme model may contain; anything else is refused.
TRUSTED_TYPES = [
    "coding.classifier.KeywordHits",
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

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Return an (n, n_codes) matrix of calibrated scores."""
        if not texts:
            return np.zeros((0, len(self.codes)))
        return self.pipeline.predict_proba(list(texts))


# --- labels --------------------------------------------------------------------------------


def parse_code_cell(cell: object) -> frozenset[str]:
    """Split one ';'-separated codes cell; blank gives the empty set."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return frozenset()
    return frozenset(c.strip() for c in str(cell).split(";") if c.strip())


def parse_labels(cells: Iterable[object], codebook: Codebook) -> tuple[list[frozenset[str]], str]:
    """Validate code cells; return the code sets and the level ("code" or "family").

    When any cell uses a family key, every leaf code is mapped up to its family so that one
    model is trained at one level.
    """
    sets = [parse_code_cell(c) for c in cells]
    for i, codes in enumerate(sets, 1):
        unknown = sorted(c for c in codes if not codebook.is_known(c))
        if unknown:
            raise LabelError(f"unknown code {unknown[0]!r} in data row {i}")
    if any(c in codebook.families for s in sets for c in s):
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


def metrics_report(Y: np.ndarray, P: np.ndarray, codes: list[str], codebook: Codebook) -> dict:
    """Return macro-F1, per-code F1/precision/recall/alpha and per-family alpha."""
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
    themed = [
        fam[f]["alpha"]
        for f in ("GOVERNANCE", "STRATEGY", "DYNAMICS")
        if fam[f]["alpha"] is not None
    ]
    return {
        "n": int(Y.shape[0]),
        "macro_f1": float(np.mean(scored)) if scored else 0.0,
        "per_code": per_code,
        "per_family": fam,
        "mean_family_alpha": float(np.mean(themed)) if themed else None,
        "exact_match": float((Y == P).all(axis=1).mean()) if len(Y) else 0.0,
    }


def _nan_none(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


# --- training and cross-validation ---------------------------------------------------------


def cv_splits(n: int, folds: int, groups=None, seed: int = 0) -> list:
    """Return (train, test) index pairs; grouped when a group column is given."""
    if groups is not None and len(set(groups)) >= folds:
        return list(
            GroupKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), groups=groups)
        )
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n)))


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
    **params,
) -> dict:
    """Return pooled out-of-fold metrics (texts are analysed once, not per fold)."""
    codes = label_space(codebook, level)
    Y = indicator(sets, codes)
    frame = (
        analysed if analysed is not None else analyse_texts(texts, params.get("model", MODEL_NAME))
    )
    base = without_analysis(make_theme_pipeline(keywords_for(codebook, level), **params))
    groups = None if groups is None else np.asarray(groups)
    P = np.zeros_like(Y)
    for k, (tr, te) in enumerate(cv_splits(len(Y), folds, groups, seed), 1):
        fit_params = {} if groups is None else {"model__groups": groups[tr]}
        P[te] = clone(base).fit(frame.iloc[tr], Y[tr], **fit_params).predict(frame.iloc[te])
        if progress:
            progress(f"fold {k}/{folds} done")
    report = metrics_report(Y, P, codes, codebook)
    report["folds"] = folds
    report["grouped"] = groups is not None
    return report


def train_model(
    texts: list[str],
    sets: list[frozenset[str]],
    codebook: Codebook,
    level: str = "code",
    folds: int = 5,
    groups=None,
    progress=None,
    **params,
) -> ThemeModel:
    """Fit a model on all rows; record cross-validated metrics in its metadata."""
    codes = label_space(codebook, level)
    pipe = make_theme_pipeline(keywords_for(codebook, level), **params)
    frame = analyse_texts(texts, pipe[0].model)
    cv = None
    if folds >= 2:
        cv = cross_validate(
            texts,
            sets,
            codebook,
            level,
            folds,
            analysed=frame,
            groups=groups,
            progress=progress,
            **params,
        )
    pipe[0].fit(texts)
    fit_params = {} if groups is None else {"model__groups": np.asarray(groups)}
    pipe[1:].fit(frame, indicator(sets, codes), **fit_params)  # fits the shared step objects
    meta = _meta(codebook, level, codes, len(texts), cv, params)
    return ThemeModel(pipe, codes, level, meta)


def _meta(
    codebook: Codebook, level: str, codes: list[str], n: int, cv: dict | None, params: dict
) -> dict:
    return {
        "codebook_version": codebook.version,
        "codebook_sha256": codebook.sha256,
        "level": level,
        "codes": codes,
        "training_size": n,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cv_metrics": cv,
        "params": params,
        "spacy_model": f"{params.get('model', 'fr_core_news_md')}",
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
    _atomic_write(out / META_FILE, json.dumps(meta, indent=2, ensure_ascii=False).encode())
    return out


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
    path = directory / MODEL_FILE
    try:
        untrusted = set(sio.get_untrusted_types(file=path))
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    except Exception as exc:  # skops raises assorted errors on corrupt archives
        raise ModelError(f"model file {path} is not a valid skops archive") from exc
    unexpected = sorted(untrusted - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(f"model file {path} contains untrusted types: {', '.join(unexpected)}")
    pipeline = sio.load(path, trusted=sorted(untrusted))
    return ThemeModel(pipeline, list(meta["codes"]), meta.get("level", "code"), meta)
