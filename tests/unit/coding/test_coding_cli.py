"""The `coding` command group: happy paths and every bad input, through CliRunner."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from coding.commands import coding_group


@pytest.fixture()
def runner():
    return CliRunner()


def _run(runner, *args):
    return runner.invoke(coding_group, [str(a) for a in args])


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def predict_csv(tmp_path):
    return _write(
        tmp_path / "in.csv",
        (
            "id,text\n"
            "1,\"Bon, euh, c'est la Région qui pilote, c'est elle le chef de file.\"\n"
            '2,"On passe par un distributeur exclusif en Italie, voilà."\n'
            '3,"   "\n'
            "4,\"Sans l'ISO 9001 on n'entrait pas chez ce client allemand.\"\n"
        ),
    )


@pytest.fixture(scope="module")
def train_csv(tmp_path_factory, corpus):
    """A CSV a researcher could write: text and codes only, 120 rows."""
    path = tmp_path_factory.mktemp("train") / "coded.csv"
    corpus[corpus["split"] == "train"].head(120)[["text", "codes"]].to_csv(path, index=False)
    return path


def _one_line_error(result, *needles):
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.startswith("Error")]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in result.output


def test_help_explains_each_command(runner):
    for cmd in ["train", "predict", "evaluate", "agreement"]:
        result = _run(runner, cmd, "--help")
        assert result.exit_code == 0 and "--data" in result.output


def test_predict_default_model(runner, predict_csv, tmp_path):
    out = tmp_path / "out.csv"
    result = _run(runner, "predict", "--model", "default", "--data", predict_csv, "--out", out)
    assert result.exit_code == 0, result.output
    assert "skipped 1 blank" in result.stderr
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(got.columns) == ["id", "codes", "scores", "precision"]
    assert list(got["id"]) == ["1", "2", "4"]
    scores = json.loads(got.loc[0, "scores"])
    assert len(scores) == 20 and all(0 <= v <= 1 for v in scores.values())
    assert "GOV.PILOT" in got.loc[0, "codes"].split(";")
    assert "STR.CERT" in got.loc[2, "codes"].split(";")


def test_predict_family_level(runner, predict_csv, tmp_path):
    out = tmp_path / "fam.csv"
    result = _run(runner, "predict", "--data", predict_csv, "--out", out, "--level", "family")
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(json.loads(got.loc[0, "scores"])) == {"GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER"}
    assert got.loc[0, "codes"] == "GOVERNANCE"


def test_predict_streams_chunks_over_two_workers(runner, tmp_path, monkeypatch):
    import coding.commands

    monkeypatch.setattr(coding.commands, "CHUNK_ROWS", 7)
    rows = [f'{i},"On se voit tous les mois avec la CCI, phrase {i}."' for i in range(30)]
    data = _write(tmp_path / "many.csv", "id,text\n" + "\n".join(rows) + "\n")
    out = tmp_path / "many_out.csv"
    result = _run(runner, "predict", "--data", data, "--out", out, "--workers", "2")
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, dtype=str)
    assert list(got["id"]) == [str(i) for i in range(30)]  # input order kept


def test_train_then_predict_then_evaluate(runner, train_csv, predict_csv, tmp_path):
    model_dir = tmp_path / "model"
    result = _run(runner, "train", "--data", train_csv, "--out", model_dir, "--folds", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n"] == 120 and summary["level"] == "code"
    assert (model_dir / "model.skops").exists() and (model_dir / "meta.json").exists()
    out = tmp_path / "p.csv"
    result = _run(runner, "predict", "--model", model_dir, "--data", predict_csv, "--out", out)
    assert result.exit_code == 0, result.output
    result = _run(runner, "evaluate", "--data", train_csv, "--folds", "3")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 120 and 0 <= report["macro_f1"] <= 1
    for code in ("GOV.FRAG", "STR.INTL"):
        assert {"f1", "precision", "recall", "alpha"} <= set(report["per_code"][code])
    assert set(report["per_family"]) == {"GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER"}


def test_train_family_level_reports_selection_and_predict_applies_a_floor(
    runner, train_csv, predict_csv, tmp_path
):
    model_dir = tmp_path / "fam"
    args = ["train", "--data", train_csv, "--out", model_dir, "--level", "family", "--folds", "3"]
    result = _run(runner, *args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["level"] == "family" and summary["candidate"] in summary["candidates"]
    from coding.classifier import available_candidates

    assert set(summary["candidates"]) == set(available_candidates())
    # the best candidate, or the plain model when the best does not surely beat it
    from coding.selection import reference_of

    alphas, plain = summary["candidates"], reference_of(summary["candidates"])
    assert summary["candidate"] in {max(alphas, key=alphas.get), plain}
    assert summary["mean_family_alpha"] == alphas[summary["candidate"]] >= alphas[plain]
    if summary["candidate"] != max(alphas, key=alphas.get):
        assert f"kept {plain}: " in result.stderr and "fewer than 95%" in result.stderr
    assert set(summary["family_alpha"]) == {"GOVERNANCE", "STRATEGY", "DYNAMICS"}
    for fam in summary["family_alpha"].values():
        assert fam["ci"][0] <= fam["alpha"] <= fam["ci"][1]
    assert "mean family alpha" in result.stderr  # one line per candidate for the reader
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["level"] == "family" and meta["candidate"] == summary["candidate"]
    out = tmp_path / "floor.csv"
    result = _run(
        runner, "predict", "--model", model_dir, "--data", predict_csv, "--out", out,
        "--level", "family", "--floor", "0.7",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    for codes, precision in zip(got["codes"], got["precision"], strict=True):
        measured = json.loads(precision)
        assert set(measured) == {c for c in codes.split(";") if c}
        assert all(v >= 0.7 for v in measured.values())


@pytest.mark.parametrize("cmd", ["train", "predict"])
def test_floor_out_of_range_is_refused(runner, train_csv, predict_csv, tmp_path, cmd):
    data = train_csv if cmd == "train" else predict_csv
    result = _run(runner, *COMMANDS[cmd](data, tmp_path), "--floor", "1.5")
    _one_line_error(result, "--floor")
    assert not (tmp_path / "m").exists() and not (tmp_path / "o.csv").exists()


AGREEMENT = (
    "unit,coder,codes\n"
    "1,ana,GOV.FRAG\n1,bob,GOV.FRAG\n2,ana,\n2,bob,STR.INTL\n"
    "3,ana,STR.INTL;DYN.FREQ\n3,bob,STR.INTL\n4,ana,\n4,bob,\n"
)


def test_agreement_table_and_json(runner, tmp_path):
    data = _write(tmp_path / "agree.csv", AGREEMENT)
    result = _run(runner, "agreement", "--data", data, "--boot", "50")
    assert result.exit_code == 0, result.output
    assert "GOV.FRAG" in result.stdout and "alpha" in result.stdout
    result = _run(runner, "agreement", "--data", data, "--json", "--boot", "50")
    payload = json.loads(result.stdout)
    rows = {r["code"]: r for r in payload["codes"]}
    assert rows["GOV.FRAG"]["alpha"] == pytest.approx(1.0)
    assert payload["coders"] == 2 and "ALL" in rows
    result = _run(runner, "agreement", "--data", data, "--json", "--level", "family", "--boot", "0")
    assert {r["code"] for r in json.loads(result.stdout)["codes"]} >= {"GOVERNANCE", "STRATEGY"}


# --- bad input ------------------------------------------------------------------------------

COMMANDS = {
    "train": lambda d, t: ["train", "--data", d, "--out", t / "m"],
    "predict": lambda d, t: ["predict", "--data", d, "--out", t / "o.csv"],
    "evaluate": lambda d, t: ["evaluate", "--data", d],
    "agreement": lambda d, t: ["agreement", "--data", d],
}
HEADERS = {
    "train": "text,codes",
    "predict": "id,text",
    "evaluate": "text,codes",
    "agreement": "unit,coder,codes",
}


@pytest.mark.parametrize("cmd", COMMANDS)
def test_missing_file(runner, tmp_path, cmd):
    _one_line_error(_run(runner, *COMMANDS[cmd](tmp_path / "nope.csv", tmp_path)), "nope.csv")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_unreadable_file(runner, tmp_path, cmd):
    # A directory where a file is expected cannot be read (works as root, unlike chmod 000).
    (tmp_path / "dir.csv").mkdir()
    _one_line_error(_run(runner, *COMMANDS[cmd](tmp_path / "dir.csv", tmp_path)), "cannot read")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_empty_file(runner, tmp_path, cmd):
    data = _write(tmp_path / "empty.csv", "")
    _one_line_error(_run(runner, *COMMANDS[cmd](data, tmp_path)), "empty")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_header_only(runner, tmp_path, cmd):
    data = _write(tmp_path / "head.csv", HEADERS[cmd] + "\n")
    _one_line_error(_run(runner, *COMMANDS[cmd](data, tmp_path)), "no data rows")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_missing_column(runner, tmp_path, cmd):
    data = _write(tmp_path / "cols.csv", "foo,bar\n1,2\n")
    result = _run(runner, *COMMANDS[cmd](data, tmp_path))
    _one_line_error(result, "missing column")
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "m").exists()


@pytest.mark.parametrize("cmd", ["train", "evaluate", "agreement"])
def test_unknown_code(runner, tmp_path, cmd):
    body = {"agreement": "1,ana,GOV.FRAG\n1,bob,GOV.BOGUS\n"}.get(
        cmd, "un texte,GOV.FRAG\nun autre,GOV.BOGUS\n"
    )
    data = _write(tmp_path / "codes.csv", HEADERS[cmd] + "\n" + body)
    _one_line_error(_run(runner, *COMMANDS[cmd](data, tmp_path)), "unknown code", "GOV.BOGUS")


def test_unknown_model_dir(runner, predict_csv, tmp_path):
    result = _run(
        runner,
        "predict",
        "--model",
        tmp_path / "nomodel",
        "--data",
        predict_csv,
        "--out",
        tmp_path / "o.csv",
    )
    _one_line_error(result, "nomodel")
    assert not (tmp_path / "o.csv").exists()


def test_agreement_needs_two_coders(runner, tmp_path):
    data = _write(tmp_path / "one.csv", "unit,coder,codes\n1,ana,GOV.FRAG\n2,ana,\n")
    _one_line_error(_run(runner, "agreement", "--data", data), "two coders")


def test_blank_texts_are_skipped_and_counted_in_evaluate(runner, tmp_path, train_csv):
    frame = pd.read_csv(train_csv, dtype=str, keep_default_na=False).head(60)
    frame.loc[0, "text"] = "  "
    data = tmp_path / "blank.csv"
    frame.to_csv(data, index=False)
    result = _run(runner, "evaluate", "--data", data, "--folds", "2")
    assert result.exit_code == 0, result.output
    assert "skipped 1 blank" in result.stderr
    assert json.loads(result.stdout)["n"] == 59
