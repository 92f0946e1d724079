"""Active learning queue: uncertainty first, with a cap per transcript."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coding.active import mean_entropy, next_to_code, threshold_uncertainty


def test_uncertainty_peaks_at_the_threshold():
    t = np.array([0.3, 0.6])
    u = threshold_uncertainty(np.array([[0.3, 0.0], [0.0, 1.0], [0.65, 0.0], [0.0, 0.55]]), t)
    assert u[0] == pytest.approx(1.0)
    assert u[1] == pytest.approx(0.0)
    assert u[3] > u[2]  # 0.55 vs t=0.6 is closer (relative) than 0.65 vs t=0.3


def test_entropy_is_highest_at_half():
    e = mean_entropy(np.array([[0.5], [0.9], [0.01]]))
    assert e[0] == pytest.approx(1.0) and e[0] > e[1] > e[2]


def test_cap_per_transcript_and_duplicates():
    segs = pd.DataFrame(
        {
            "transcript_id": ["A"] * 6 + ["B", "C"],
            "text": ["a1", "a2", "a3", "a4", "a5", "a1", "b", "c"],
        }
    )
    scores = np.array([[0.50], [0.49], [0.48], [0.47], [0.46], [0.50], [0.2], [0.1]])
    queue = next_to_code(segs, scores, np.array([0.5]), k=5, per_transcript=2)
    assert list(queue["text"]) == ["a1", "a2", "b", "c"]
    assert list(queue["rank"]) == [1, 2, 3, 4]
    assert (queue.groupby("transcript_id").size() <= 2).all()


def test_bad_input():
    with pytest.raises(ValueError, match="transcript_id"):
        next_to_code(pd.DataFrame({"x": [1]}), np.zeros((1, 1)), np.array([0.5]))
