"""Predict codes for many texts: chunked, streaming, optionally over two worker processes."""

from __future__ import annotations

import json
import multiprocessing as mp
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np

from coding.codebook import Codebook
from coding.model import ThemeModel

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
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
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
    scores: np.ndarray, model: ThemeModel, codebook: Codebook, level: str = "code"
) -> list[tuple[list[str], dict[str, float]]]:
    """Turn a score matrix into (codes, scores) per row, at code or family level."""
    hits = scores >= model.thresholds
    rows = []
    for srow, hrow in zip(scores, hits, strict=True):
        codes = [c for c, h in zip(model.codes, hrow, strict=True) if h]
        sc = {c: float(s) for c, s in zip(model.codes, srow, strict=True)}
        if level == "family" and model.level == "code":
            codes = list(dict.fromkeys(codebook.family_of(c) for c in codes))
            fam: dict[str, float] = {}
            for c, s in sc.items():
                f = codebook.family_of(c)
                fam[f] = max(fam.get(f, 0.0), s)  # the strongest code speaks for the family
            codes.sort(key=list(codebook.families).index)
            sc = fam
        rows.append((codes, sc))
    return rows


def scores_json(scores: dict[str, float]) -> str:
    """Serialise scores compactly (4 decimals)."""
    return json.dumps({k: round(v, 4) for k, v in scores.items()}, separators=(",", ":"))
