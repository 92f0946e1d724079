"""Predict codes for many texts: chunked, streaming, optionally over two worker processes."""

from __future__ import annotations

import json
import multiprocessing as mp
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np

from coding.classifier import candidate_parts
from coding.codebook import Codebook
from coding.model import ThemeModel
from coding.precision import check_floor, floor_threshold, precision_at

#: Set in the parent before forking so workers inherit the loaded model without pickling it.
_WORKER_MODEL: ThemeModel | None = None


def _one_thread() -> None:
    """Keep BLAS/OpenMP to one thread per worker: two workers already fill two cores, and
    thread pools inherited through fork otherwise compete (measured: slower than 1 worker)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def _predict_chunk(texts: list[str]) -> np.ndarray:
    assert _WORKER_MODEL is not None
    return _WORKER_MODEL.predict_proba(texts)


def iter_scores(
    model: ThemeModel, chunks: Iterable[list[str]], workers: int = 1
) -> Iterator[np.ndarray]:
    """Yield score matrices chunk by chunk, in input order.

    With workers > 1 each worker process runs the whole pipeline (spaCy included) on its
    chunk and returns only the scores; at most 2 chunks per worker are in flight, so memory
    stays flat however long the input is.
    """
    # the sentence encoder's OpenMP threads do not survive a fork: one process for it
    encoder = "encoder" in candidate_parts(model.candidate)
    if workers <= 1 or "fork" not in mp.get_all_start_methods() or encoder:
        for chunk in chunks:
            yield model.predict_proba(chunk)
        return
    global _WORKER_MODEL
    _WORKER_MODEL = model
    model.predict_proba(["."])  # load spaCy once here; forked workers share it copy-on-write
    pending: deque[Future] = deque()
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_one_thread) as pool:
        for chunk in chunks:
            pending.append(pool.submit(_predict_chunk, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    _WORKER_MODEL = None


def decide(
    scores: np.ndarray,
    model: ThemeModel,
    codebook: Codebook,
    level: str = "code",
    floor: float | None = None,
) -> list[tuple[list[str], dict[str, float]]]:
    """Turn a score matrix into (codes, scores) per row, at code or family level.

    Without a floor a code is given when its score reaches the model's decision threshold: the
    rule whose agreement with the coders training measured. With a precision `floor` (e.g.
    0.6) a code is given when its score reaches the threshold at which out-of-fold precision
    reaches the floor, and codes that never reach it are not given. A model trained without
    cross-validation has no measured precision and keeps its decision thresholds.
    """
    table = None if floor is None else model.precision_table(level)
    if floor is not None:
        check_floor(floor)
    cols, S = _columns(scores, model, codebook, level if table is not None else "code")
    if table is None:
        hits = scores >= model.thresholds
    else:
        hits = S >= floor_thresholds(table, cols, floor)
    rows = []
    for srow, hrow in zip(S, hits, strict=True):
        codes = [c for c, h in zip(cols, hrow, strict=True) if h]
        sc = {c: float(s) for c, s in zip(cols, srow, strict=True)}
        if level == "family" and model.level == "code" and table is None:
            codes = list(dict.fromkeys(codebook.family_of(c) for c in codes))
            codes.sort(key=list(codebook.families).index)
            sc = _family_scores(sc, codebook)
        rows.append((codes, sc))
    return rows


def _family_scores(sc: dict[str, float], codebook: Codebook) -> dict[str, float]:
    fam: dict[str, float] = {}
    for c, s in sc.items():
        f = codebook.family_of(c)
        fam[f] = max(fam.get(f, 0.0), s)  # the strongest code speaks for the family
    return fam


def _columns(
    scores: np.ndarray, model: ThemeModel, codebook: Codebook, level: str
) -> tuple[list[str], np.ndarray]:
    """Return the output columns and scores at a level (a family scores as its best code)."""
    if level != "family" or model.level != "code":
        return list(model.codes), np.asarray(scores)
    fams = [f for f in codebook.families if any(codebook.family_of(c) == f for c in model.codes)]
    cols = [[j for j, c in enumerate(model.codes) if codebook.family_of(c) == f] for f in fams]
    S = np.asarray(scores)
    out = np.column_stack([S[:, j].max(axis=1) for j in cols]) if len(S) else np.zeros((0, 0))
    return fams, out.reshape(len(S), len(fams))


def floor_thresholds(table: dict, columns: list[str], floor: float) -> np.ndarray:
    """Return per-column score thresholds for a precision floor (inf: never suggested)."""
    out = []
    for c in columns:
        entry = table.get(c)
        t = (
            floor_threshold(entry["curve"], floor, base_rate=entry.get("base_rate"))[0]
            if entry
            else None
        )
        out.append(np.inf if t is None else t)
    return np.array(out, dtype=float)


def measured_precision(model: ThemeModel, level: str, code: str, score: float) -> float | None:
    """Return the out-of-fold precision measured for a code (or family) at this score."""
    table = model.precision_table(level)
    entry = table.get(code) if table else None
    return precision_at(entry["curve"], score) if entry else None


def scores_json(scores: dict[str, float]) -> str:
    """Serialise scores compactly (4 decimals)."""
    return json.dumps({k: round(v, 4) for k, v in scores.items()}, separators=(",", ":"))
