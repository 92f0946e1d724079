"""Exports: build the dataset a user may see, pseudonymise and coarsen it, write one format.

The CLI, the exports page (as a job) and the API all call `write_export`. The pseudonymisation
key lives in `pseudonym_entries`, so a name keeps its token from one export to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from flask import current_app

from analysis.datasets import Dataset, DatasetError
from analysis.typology import load_typology
from analysis.writers import SUFFIXES, WRITERS
from analysis.writers.tabular import select_tables, write_dictionary
from survey_app.core.audit import record
from survey_app.exports.builder import build_dataset
from survey_app.extensions import db
from survey_app.models import Interview, PseudonymEntry, Territory, User

FORMATS = tuple(WRITERS)
#: formats whose writer takes a list of tables
TABLE_FORMATS = ("csv", "xlsx", "parquet")
TERRITORY_LEVELS = ("commune", "zone_emploi", "departement", "region")
MIME_TYPES = {
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".sav": "application/x-spss-sav",
    ".dta": "application/x-stata-dta",
    ".qdpx": "application/zip",
    ".qdc": "application/xml",
    ".csv": "text/csv",
    ".md": "text/markdown",
}
#: token kinds of coding.pseudonymise <-> kinds stored in pseudonym_entries
KIND_TO_DB = {"PERS": "person", "FIRM": "firm", "LIEU": "place"}
KIND_FROM_DB = {v: k for k, v in KIND_TO_DB.items()}

Progress = Callable[[float, str], None]


class ExportError(ValueError):
    """An export cannot be made as asked; the message names the problem."""


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how: format, tables, pseudonymisation and coarsening."""

    fmt: str
    tables: tuple[str, ...] | None = None
    pseudonymise: bool = False
    territory_level: str = "commune"
    coarsen_roles: bool = False
    extra_terms: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """Return the options as JSON-friendly job parameters."""
        return {
            "format": self.fmt,
            "tables": list(self.tables) if self.tables else None,
            "pseudonymise": self.pseudonymise,
            "territory_level": self.territory_level,
            "coarsen_roles": self.coarsen_roles,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ExportOptions:
        """Rebuild options from job parameters, checking them."""
        return check_options(
            cls(
                fmt=params["format"],
                tables=tuple(params["tables"]) if params.get("tables") else None,
                pseudonymise=bool(params.get("pseudonymise")),
                territory_level=params.get("territory_level") or "commune",
                coarsen_roles=bool(params.get("coarsen_roles")),
            )
        )


def table_names() -> list[str]:
    """Return the tables csv, parquet and xlsx exports can hold."""
    return list(select_tables(Dataset()))


def check_options(options: ExportOptions) -> ExportOptions:
    """Return `options` when they make sense; raise ExportError naming the first problem."""
    if options.fmt not in WRITERS:
        raise ExportError(f"unknown format {options.fmt!r}; choose from {', '.join(FORMATS)}")
    if options.territory_level not in TERRITORY_LEVELS:
        raise ExportError(
            f"unknown territory level {options.territory_level!r}; choose from "
            f"{', '.join(TERRITORY_LEVELS)}"
        )
    if options.tables:
        if options.fmt not in TABLE_FORMATS:
            raise ExportError(f"tables can be chosen only for {', '.join(TABLE_FORMATS)}")
        unknown = [t for t in options.tables if t not in table_names()]
        if unknown:
            raise ExportError(
                f"unknown table {unknown[0]!r}; choose from {', '.join(table_names())}"
            )
    return options


def default_filename(fmt: str, stem: str = "milieu-export") -> str:
    """Return the file name an export of `fmt` takes (csv and parquet are zip bundles)."""
    suffix = SUFFIXES[fmt]
    return f"{stem}-{fmt}{suffix}" if suffix == ".zip" else f"{stem}{suffix}"


def mime_type(path: str | Path) -> str:
    """Return the MIME type to send an exported file with."""
    return MIME_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


# --- the pseudonymisation key ----------------------------------------------------------


def stored_key() -> pd.DataFrame:
    """Return the stored key as (original, token, kind) with the library's kind names."""
    rows = db.session.execute(
        sa.select(PseudonymEntry.original, PseudonymEntry.token, PseudonymEntry.kind).order_by(
            PseudonymEntry.id
        )
    ).all()
    return pd.DataFrame(
        [(o, t, KIND_FROM_DB[k]) for o, t, k in rows], columns=["original", "token", "kind"]
    )


def store_key(key: pd.DataFrame) -> int:
    """Add the key rows not stored yet; return how many were added."""
    from coding.pseudonymise import name_key

    known = set(
        db.session.execute(sa.select(PseudonymEntry.kind, PseudonymEntry.original_normalised)).all()
    )
    tokens = set(db.session.scalars(sa.select(PseudonymEntry.token)))
    added = 0
    for row in key.itertuples():
        kind, normalised = KIND_TO_DB[str(row.kind)], name_key(str(row.original))[:300]
        if (kind, normalised) in known or str(row.token) in tokens:
            continue  # spelling variants share the first spelling's entry and token
        db.session.add(
            PseudonymEntry(
                kind=kind,
                original=str(row.original)[:300],
                original_normalised=normalised,
                token=str(row.token),
            )
        )
        known.add((kind, normalised))
        tokens.add(str(row.token))
        added += 1
    db.session.flush()
    return added


def project_terms() -> dict[str, str]:
    """Return names always replaced: communes of the database plus the configured terms."""
    terms = {
        t: "LIEU"
        for t in db.session.scalars(sa.select(Territory.name).where(Territory.level == "commune"))
    }
    terms.update(current_app.config.get("PSEUDONYM_TERMS") or {})
    return terms


def make_pseudonymiser(extra_terms: dict[str, str] | None = None) -> Any:
    """Return a Pseudonymiser continuing the stored key (NER model plus known names)."""
    from coding.pseudonymise import PseudonymisationError, Pseudonymiser

    terms = {**project_terms(), **(extra_terms or {})}
    try:
        return Pseudonymiser(
            terms=terms,
            key=stored_key(),
            model=current_app.config.get("PSEUDONYM_NER_MODEL", "fr_core_news_md"),
        )
    except PseudonymisationError as err:
        raise ExportError(str(err)) from None


# --- the export ------------------------------------------------------------------------


def prepare_dataset(
    user: User | None, options: ExportOptions, progress: Progress | None = None
) -> Dataset:
    """Build what `user` may see, then pseudonymise and coarsen it as `options` ask."""
    say = progress or (lambda _f, _m: None)
    say(0.05, "reading the database")
    ds = build_dataset(user)
    if options.pseudonymise:
        from coding.pseudonymise import pseudonymise_dataset

        say(0.3, "pseudonymising transcripts and answers")
        ds, key = pseudonymise_dataset(ds, make_pseudonymiser(options.extra_terms))
        store_key(key)
    ds = _coarsen(ds, options)
    return ds


def _coarsen(ds: Dataset, options: ExportOptions) -> Dataset:
    from coding.pseudonymise import coarsen_relay_roles, coarsen_territory

    ds = coarsen_territory(ds, options.territory_level)
    if options.coarsen_roles:
        try:
            ds = coarsen_relay_roles(ds, load_typology().family_of())
        except ValueError as err:
            raise ExportError(str(err)) from None
    return ds


def write_export(
    user: User | None, options: ExportOptions, path: str | Path, progress: Progress | None = None
) -> list[Path]:
    """Export what `user` may see to `path`; return every file written (dictionary too)."""
    check_options(options)
    say = progress or (lambda _f, _m: None)
    ds = prepare_dataset(user, options, say)
    say(0.6, "writing the file")
    kwargs = {"tables": list(options.tables)} if options.tables else {}
    try:
        paths = WRITERS[options.fmt](ds, path, **kwargs)
        if options.fmt == "qdc":
            stem = Path(path)
            paths += write_dictionary(
                ds, stem.with_name(f"{stem.stem}_dictionary.csv"), tables=("codebook",)
            )
    except DatasetError as err:
        raise ExportError(str(err)) from None
    record(
        "export.write",
        None,
        {**options.params(), "files": [p.name for p in paths]},
        user=user,
        object_type="export",
    )
    say(1.0, "done")
    return [Path(p) for p in paths]


def visible_interview_count(user: User | None) -> int:
    """Return how many interviews an export by `user` would hold."""
    stmt = sa.select(sa.func.count(Interview.id))
    if user is not None and user.role == "fieldworker":
        stmt = stmt.where(Interview.fieldworker_id == user.id)
    return int(db.session.scalar(stmt) or 0)


def key_entries() -> list[PseudonymEntry]:
    """Return the pseudonymisation key, token order (admins only)."""
    return list(
        db.session.scalars(
            sa.select(PseudonymEntry).order_by(PseudonymEntry.kind, PseudonymEntry.token)
        )
    )


def parse_terms(lines: Iterable[str]) -> dict[str, str]:
    """Parse extra terms, one `KIND,term` per line (KIND: PERS, FIRM or LIEU)."""
    terms = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, sep, term = line.partition(",")
        if not sep or kind.strip().upper() not in KIND_TO_DB or not term.strip():
            raise ExportError(
                f"terms line {number}: expected KIND,term with KIND one of PERS, FIRM, LIEU"
            )
        terms[term.strip()] = kind.strip().upper()
    return terms
