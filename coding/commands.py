"""`milieu coding ...` commands: train, predict, evaluate, agreement (a plain click group)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from coding.codebook import Codebook, CodebookError, default_codebook, load_codebook

if TYPE_CHECKING:
    import pandas as pd

CHUNK_ROWS = 256


def _log(msg: str) -> None:
    click.echo(msg, err=True)


def _codebook(path: str | None) -> Codebook:
    try:
        return load_codebook(path) if path else default_codebook()
    except CodebookError as exc:
        raise click.ClickException(str(exc)) from exc


# --- reading input -------------------------------------------------------------------------


def _open_check(path: Path) -> None:
    """Fail early and clearly on missing, unreadable or empty files."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from exc
    if size == 0:
        raise click.ClickException(f"{path} is empty")


def _read_chunks(
    path: Path, required: list[str], chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Yield the CSV in chunks of strings, after checking the header names the columns."""
    import pandas as pd  # here, not at the top: `milieu coding --help` need not load pandas

    _open_check(path)
    try:
        # A context manager so the file is closed even when a check below raises.
        with pd.read_csv(
            path, dtype=str, keep_default_na=False, chunksize=chunk_rows, encoding="utf-8-sig"
        ) as reader:
            rows = 0
            for chunk in reader:
                if rows == 0:
                    _check_columns(path, chunk, required)
                if len(chunk) == 0:
                    continue
                rows += len(chunk)
                yield chunk
        if rows == 0:
            raise click.ClickException(f"{path} has no data rows")
    except pd.errors.EmptyDataError as exc:
        raise click.ClickException(f"{path} is empty") from exc
    except pd.errors.ParserError as exc:
        raise click.ClickException(
            f"{path} is not a readable CSV file ({_first_line(exc)})"
        ) from exc
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path} is not UTF-8 text") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_columns(path: Path, frame: pd.DataFrame, required: list[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise click.ClickException(f"{path}: missing column {', '.join(repr(c) for c in missing)}")


def _read_all(path: Path, required: list[str]) -> pd.DataFrame:
    import pandas as pd

    chunks = list(_read_chunks(path, required))
    return pd.concat(chunks, ignore_index=True)


def _drop_blank(frame: pd.DataFrame) -> pd.DataFrame:
    blank = frame["text"].str.strip() == ""
    if blank.any():
        _log(f"skipped {int(blank.sum())} blank text(s)")
    return frame[~blank].reset_index(drop=True)


def _labels(frame: pd.DataFrame, cb: Codebook, path: Path, level: str | None = None):
    from coding.model import LabelError, parse_labels

    try:
        return parse_labels(frame["codes"], cb, level)
    except LabelError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


#: Columns naming the document a row comes from, first found wins: folds keep documents whole.
GROUP_COLUMNS = ("group", "document_id", "transcript_id")


def _groups(frame: pd.DataFrame) -> list | None:
    for col in GROUP_COLUMNS:
        if col in frame.columns:
            return frame[col].tolist()
    return None


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _log_selection(selection: dict) -> None:
    """Print one line per candidate (mean and per-family alpha with 95 % intervals)."""
    for c in selection["candidates"]:
        mark = "*" if c["name"] == selection["chosen"] else " "
        lo, hi = (c["mean_family_alpha_ci"] + [None, None])[:2]
        fams = "  ".join(f"{f[0]} {_fmt(v['alpha'])}" for f, v in c["family_alpha"].items())
        _log(
            f"{mark} {c['name']:<14} mean family alpha {_fmt(c['mean_family_alpha'])} "
            f"[{_fmt(lo)}, {_fmt(hi)}]  {fams}"
        )
    alphas = {c["name"]: c["mean_family_alpha"] for c in selection["candidates"]}
    scored = {n: a for n, a in alphas.items() if a is not None}
    best = max(scored, key=scored.get) if scored else None
    if best is not None and best != selection["chosen"]:
        _log(
            f"kept {selection['chosen']}: {best} scores higher but beats it in fewer than 95% "
            "of the bootstrap draws"
        )


# --- writing output ------------------------------------------------------------------------


class _AtomicCsv:
    """Write CSV rows to a temp file beside the target; rename on success only."""

    def __init__(self, target: Path, header: list[str]):
        self.target = target
        self.header = header

    def __enter__(self) -> csv.writer:
        try:
            fd, self.tmp = tempfile.mkstemp(
                dir=self.target.parent or ".", suffix=".tmp", prefix=f".{self.target.name}."
            )
        except OSError as exc:
            raise click.ClickException(f"cannot write {self.target}: {exc.strerror}") from exc
        self.fh = os.fdopen(fd, "w", newline="", encoding="utf-8")
        writer = csv.writer(self.fh)
        writer.writerow(self.header)
        return writer

    def __exit__(self, exc_type, exc, tb) -> None:
        self.fh.close()
        if exc_type is None:
            os.chmod(self.tmp, 0o644)  # mkstemp makes 0600; the output is a normal file
            os.replace(self.tmp, self.target)
        else:
            Path(self.tmp).unlink(missing_ok=True)


# --- commands ------------------------------------------------------------------------------

coding_group = click.Group(
    "coding", help="Segment, classify and check agreement on coded interview text."
)

_codebook_opt = click.option(
    "--codebook",
    "codebook_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Codebook YAML (default: the shipped instruments/codebook.yaml).",
)


@coding_group.command("train")
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV with columns text and codes (';'-separated leaf codes or family keys; "
    "empty for none); an optional group, document_id or transcript_id column keeps the rows "
    "of one document in the same fold.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write model.skops and meta.json into.",
)
@click.option(
    "--folds",
    default=5,
    show_default=True,
    type=click.IntRange(0),
    help="Cross-validation folds for model selection, metrics and measured precision "
    "(0: skip them and fit the plain model).",
)
@click.option(
    "--level",
    type=click.Choice(["auto", "code", "family"]),
    default="auto",
    show_default=True,
    help="Train on leaf codes or on families (family keys in the data, or leaf codes mapped "
    "up); auto: family as soon as a family key appears.",
)
@click.option(
    "--candidate",
    "candidates",
    multiple=True,
    help="Compare only these candidate models (repeatable): tfidf, vectors, tfidf+vectors, "
    "full, encoder (needs the [encoder] extra). Default: every one installed.",
)
@click.option(
    "--floor",
    default=0.6,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True),
    help="Precision floor for the suggestion thresholds stored with the model.",
)
@_codebook_opt
def train_cmd(
    data: Path,
    out: Path,
    folds: int,
    level: str,
    candidates: tuple[str, ...],
    floor: float,
    codebook_path: str | None,
) -> None:
    """Choose a theme model by cross-validation, train it on coded segments and save it."""
    from coding.model import save_model, train_model

    cb = _codebook(codebook_path)
    frame = _drop_blank(_read_all(data, ["text", "codes"]))
    sets, level = _labels(frame, cb, data, None if level == "auto" else level)
    if len(frame) < 2 or not any(sets):
        raise click.ClickException(f"{data}: need at least 2 rows and one coded row to train")
    if folds == 1 or folds > len(frame):
        raise click.ClickException(f"--folds must be 0 or between 2 and {len(frame)}")
    _check_candidates(candidates)
    _log(f"training a {level}-level model on {len(frame)} segments")
    model = train_model(
        frame["text"].tolist(),
        sets,
        cb,
        level,
        folds=folds,
        groups=_groups(frame),
        progress=_log,
        candidates=list(candidates) or None,
        floor=floor,
    )
    save_model(model, out)
    cv = model.meta.get("cv_metrics") or {}
    selection = model.meta.get("selection")
    summary = {"out": str(out), "level": level, "n": len(frame), "candidate": model.candidate}
    if selection:
        _log_selection(selection)
        chosen = next(c for c in selection["candidates"] if c["name"] == model.candidate)
        summary.update(
            {
                "macro_f1": cv.get("macro_f1"),
                **chosen,
                "candidates": {c["name"]: c["mean_family_alpha"] for c in selection["candidates"]},
            }
        )
        summary.pop("name"), summary.pop("seconds")
    else:
        summary.update({"macro_f1": None, "mean_family_alpha": None})
    click.echo(json.dumps(summary, ensure_ascii=False))


def _check_candidates(names: tuple[str, ...]) -> None:
    from coding.classifier import check_candidates

    try:
        if names:  # none named: every available candidate competes
            check_candidates(names)
    except (ValueError, ModuleNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None


def _load(model_arg: str, cb: Codebook):
    from coding.model import ModelError, default_model_dir, load_model

    directory = default_model_dir() if model_arg == "default" else Path(model_arg)
    try:
        return load_model(directory, cb)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc


@coding_group.command("predict")
@click.option(
    "--model",
    "model_arg",
    default="default",
    show_default=True,
    help="Model directory, or 'default' for the shipped cold-start model.",
)
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV with columns id and text.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV to write: id, codes (';'-separated), scores (JSON code -> score), precision "
    "(JSON code -> out-of-fold precision measured at that score, for the codes given).",
)
@click.option(
    "--level",
    type=click.Choice(["code", "family"]),
    default="code",
    show_default=True,
    help="Report leaf codes or their families.",
)
@click.option(
    "--floor",
    default=None,
    type=click.FloatRange(0, 1, min_open=True),
    help="Give only codes whose measured precision reaches this floor (e.g. 0.6) instead of "
    "the model's decision thresholds.",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 8),
    help="Worker processes for inputs longer than one chunk.",
)
@_codebook_opt
def predict_cmd(
    model_arg: str,
    data: Path,
    out: Path,
    level: str,
    floor: float | None,
    workers: int,
    codebook_path: str | None,
) -> None:
    """Suggest codes for each text; streams large files chunk by chunk."""
    cb = _codebook(codebook_path)
    model = _load(model_arg, cb)
    if level == "code" and model.level == "family":
        raise click.ClickException("this model predicts families only; use --level family")
    if floor is not None and model.precision_table(level) is None:
        _log("this model has no measured precision (trained without folds): --floor ignored")
    n, blank = predict_file(model, cb, data, out, level, workers, floor)
    if blank:
        _log(f"skipped {blank} blank text(s)")
    _log(f"wrote {n} prediction(s) to {out}")


def _texts(chunks: Iterator[pd.DataFrame], ids: list, counter: dict) -> Iterator[list[str]]:
    """Yield non-blank texts per chunk, remembering their ids in order."""
    for chunk in chunks:
        keep = chunk["text"].str.strip() != ""
        counter["blank"] += int((~keep).sum())
        ids.append(chunk.loc[keep, "id"].tolist())
        yield chunk.loc[keep, "text"].tolist()


def predict_file(
    model,
    cb: Codebook,
    data: Path,
    out: Path,
    level: str = "code",
    workers: int = 2,
    floor: float | None = None,
) -> tuple[int, int]:
    """Predict a CSV into another; return (rows written, blank texts skipped)."""
    from coding.predict import decide, iter_scores, measured_precision, scores_json

    chunks = _read_chunks(data, ["id", "text"])
    first = next(chunks)
    second = next(chunks, None)
    chunk_iter = _chain(first, second, chunks)
    use = workers if second is not None else 1  # one chunk: forking would only cost time
    ids: list[list] = []
    counter = {"blank": 0}
    n = 0
    with _AtomicCsv(out, ["id", "codes", "scores", "precision"]) as writer:
        for k, scores in enumerate(iter_scores(model, _texts(chunk_iter, ids, counter), use)):
            decided = decide(scores, model, cb, level, floor)
            for row_id, (codes, sc) in zip(ids[k], decided, strict=True):
                prec = {c: measured_precision(model, level, c, sc[c]) for c in codes}
                writer.writerow([row_id, ";".join(codes), scores_json(sc), _json_or_null(prec)])
            n += len(scores)
            ids[k] = []
            if second is not None:
                _log(f"predicted {n} row(s)")
    return n, counter["blank"]


def _json_or_null(values: dict) -> str:
    return json.dumps(
        {k: None if v is None else round(v, 3) for k, v in values.items()}, separators=(",", ":")
    )


def _chain(first: pd.DataFrame, second: pd.DataFrame | None, rest) -> Iterator[pd.DataFrame]:
    yield first
    if second is not None:
        yield second
        yield from rest


@coding_group.command("evaluate")
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV with columns text and codes (optional group column for grouped folds).",
)
@click.option(
    "--folds",
    default=5,
    show_default=True,
    type=click.IntRange(2),
    help="Number of cross-validation folds.",
)
@_codebook_opt
def evaluate_cmd(data: Path, folds: int, codebook_path: str | None) -> None:
    """Cross-validate the candidate models on coded segments; print the chosen one's metrics
    and the selection as JSON."""
    from coding.model import cross_validate

    cb = _codebook(codebook_path)
    frame = _drop_blank(_read_all(data, ["text", "codes"]))
    sets, level = _labels(frame, cb, data)
    if folds > len(frame):
        raise click.ClickException(f"--folds {folds} is more than the {len(frame)} usable rows")
    report = cross_validate(
        frame["text"].tolist(), sets, cb, level, folds, groups=_groups(frame), progress=_log
    )
    _log_selection(report["selection"])
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))


@coding_group.command("agreement")
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV with one row per unit and coder: unit, coder, codes (';'-separated).",
)
@click.option("--level", type=click.Choice(["code", "family"]), default="code", show_default=True)
@click.option("--exclude-uncoded", is_flag=True, help="Drop units no coder applied any code to.")
@click.option(
    "--boot",
    default=1000,
    show_default=True,
    type=click.IntRange(0),
    help="Bootstrap resamples for the alpha interval.",
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_codebook_opt
def agreement_cmd(
    data: Path,
    level: str,
    exclude_uncoded: bool,
    boot: int,
    seed: int,
    as_json: bool,
    codebook_path: str | None,
) -> None:
    """Per-code Krippendorff's alpha, Cohen's kappa, agreement and prevalence between coders."""
    from coding.agreement import agreement_table, split_codes

    cb = _codebook(codebook_path)
    frame = _read_all(data, ["unit", "coder", "codes"])
    for i, cell in enumerate(frame["codes"], 1):
        unknown = sorted(c for c in split_codes(cell) if not cb.is_known(c))
        if unknown:
            raise click.ClickException(f"{data}: unknown code {unknown[0]!r} in data row {i}")
    if frame["coder"].nunique() < 2:
        raise click.ClickException(f"{data}: agreement needs at least two coders")
    mixed = any(c in cb.families for cell in frame["codes"] for c in split_codes(cell))
    use_level = "family" if mixed else level
    table = agreement_table(
        frame,
        level=use_level,
        exclude_uncoded=exclude_uncoded,
        family_of=cb.family_of,
        n_boot=boot,
        seed=seed,
    )
    if as_json:
        rows = json.loads(table.to_json(orient="records"))
        click.echo(
            json.dumps(
                {
                    "level": use_level,
                    "exclude_uncoded": exclude_uncoded,
                    "units": int(frame["unit"].nunique()),
                    "coders": int(frame["coder"].nunique()),
                    "codes": rows,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        import pandas as pd

        with pd.option_context("display.width", 200, "display.max_rows", None):
            click.echo(table.round(3).to_string(index=False))


def main() -> None:  # pragma: no cover - convenience for `python -m coding.commands`
    """Run the group standalone."""
    coding_group(prog_name="milieu coding")


if __name__ == "__main__":  # pragma: no cover
    main()
