"""Speaker-turn units of a round, without a database: a coding belongs to every turn it overlaps."""

import pandas as pd

from coding.agreement import agreement_table
from survey_app.rounds.agreement import turn_cells, turn_table
from survey_app.rounds.lifecycle import FRAME_COLUMNS
from survey_app.rounds.queries import highlight

TURNS = {7: [(0, 10), (11, 20), (21, 30)]}


def frame(rows):
    return pd.DataFrame(rows, columns=FRAME_COLUMNS)


def test_a_coding_across_two_turns_counts_in_both_and_is_clipped():
    cells = turn_cells(frame([(7, "a", 5, 15, "GOV.PROX", 1)]), TURNS)
    assert cells[(7, 0, 10)] == [("a", 1, 5, 10, "GOV.PROX")]
    assert cells[(7, 11, 20)] == [("a", 1, 11, 15, "GOV.PROX")]
    assert cells[(7, 21, 30)] == []


def test_touching_a_boundary_is_not_overlapping():
    cells = turn_cells(frame([(7, "a", 10, 11, "X", 1), (7, "b", 20, 21, "Y", 2)]), TURNS)
    assert all(pieces == [] for pieces in cells.values())  # both sit in the gaps


def test_turn_table_gives_every_coder_a_row_per_turn():
    rows = [(7, "a", 5, 15, "GOV.PROX", 1), (7, "b", 12, 14, "GOV.PROX", 2)]
    units = turn_table(turn_cells(frame(rows), TURNS), ["a", "b"])
    assert len(units) == 6
    coded = {(u[1], c): set(codes) for u, c, codes in units.itertuples(index=False)}
    assert coded[(0, "a")] == {"GOV.PROX"} and coded[(0, "b")] == set()
    assert coded[(11, "a")] == coded[(11, "b")] == {"GOV.PROX"}
    table = agreement_table(units, n_boot=0).set_index("code")
    assert table.loc["GOV.PROX", "percent_agreement"] == 2 / 3


def test_highlight_marks_only_the_spans_inside_the_turn():
    assert highlight("abcdef", 10, [(8, 12), (14, 20)]) == [
        ("ab", True),
        ("cd", False),
        ("ef", True),
    ]
