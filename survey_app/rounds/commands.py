"""`milieu rounds`: list blind double-coding rounds and print their agreement (as the web does)."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from coding.agreement import TABLE_COLUMNS
from survey_app.extensions import db
from survey_app.models import CodingRound
from survey_app.rounds import agreement as agreement_svc
from survey_app.rounds import lifecycle as svc

#: the agreement table's columns (the coder count is the same on every row, so it is left out)
COLUMNS = [c for c in TABLE_COLUMNS if c != "n_coders"]


@click.group("rounds")
def rounds_group() -> None:
    """Blind double-coding rounds: list them and read their inter-coder agreement."""


@rounds_group.command("list")
@with_appcontext
def list_command() -> None:
    """Print one line per round: id, status, name, coders (done ones marked *), transcripts."""
    for rnd in db.session.scalars(sa.select(CodingRound).order_by(CodingRound.id)):
        done = svc.done_dates(rnd)
        coders = ",".join(
            u.username + ("*" if done.get(u.id) else "")
            for u in sorted(rnd.coders, key=lambda u: u.username)
        )
        click.echo(f"{rnd.id}\t{rnd.status}\t{rnd.name}\t{coders}\t{len(rnd.transcript_versions)}")


def _table(report: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
    writer.writerow(["level", *COLUMNS])
    for kind in ("codes", "families"):
        for row in report[kind]:
            writer.writerow(
                [{"codes": "code", "families": "family"}[kind], *(_cell(row[c]) for c in COLUMNS)]
            )
    return buffer.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else value


def _write_atomically(path: Path, text: str) -> None:
    """Write next to the target, then rename: nothing half-written on failure."""
    fd, tmp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@rounds_group.command("agreement")
@click.argument("round_id", type=int)
@click.option(
    "--level",
    type=click.Choice(agreement_svc.LEVELS),
    default="unit",
    show_default=True,
    help="Unit of agreement: speaker turn, character or document.",
)
@click.option("--exclude-uncoded", is_flag=True, help="Leave out units no coder coded.")
@click.option(
    "--boot",
    type=click.IntRange(0, 100_000),
    default=1000,
    show_default=True,
    help="Bootstrap draws for alpha's 95% interval.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table (tab-separated), csv or json (as the web endpoint).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@with_appcontext
def agreement_command(
    round_id: int, level: str, exclude_uncoded: bool, boot: int, fmt: str, out: Path | None
) -> None:
    """Print per-code and per-family agreement of a closed round (alpha, kappa, agreement).

    Computed on the coders' original codings, frozen when the round closed, by the same
    service as the round's agreement page.
    """
    rnd = db.session.get(CodingRound, round_id)
    if rnd is None:
        raise click.ClickException(f"no coding round {round_id}")
    click.echo(f"computing agreement of round {rnd.id} ({boot} bootstrap draws)...", err=True)
    try:
        report = agreement_svc.agreement_report(rnd, level, exclude_uncoded, boot)
    except svc.RoundError as err:
        raise click.ClickException(f"round {rnd.id}: {err.message_en}") from None
    text = _table(report, fmt)
    if out is None:
        click.echo(text, nl=False)
    else:
        if not out.parent.exists():
            raise click.ClickException(f"{out.parent}: no such folder")
        _write_atomically(out, text)
        click.echo(f"wrote {out}", err=True)
