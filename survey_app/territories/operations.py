"""Territories from INSEE's geography table: communes with their département, région and
zone d'emploi, and optionally their population and area."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from analysis.registry import (
    AREA_COLUMNS,
    LEVEL_NAME_COLUMNS,
    LEVELS,
    POPULATION_COLUMNS,
    load_commune_values,
    load_geography,
)
from survey_app.core.audit import record
from survey_app.extensions import db
from survey_app.models import Territory

#: levels above the commune, each with its parent level (None: no administrative parent)
SUPRA = (("region", None), ("departement", "region"), ("zone_emploi", None))


def load_territories(
    geography: Path, population: Path | None = None, area: Path | None = None
) -> dict[str, int]:
    """Add or update territories from the files; return how many were added per level."""
    geo = load_geography(geography, list(LEVELS)[1:])
    pop = load_commune_values(population, POPULATION_COLUMNS, "population") if population else None
    km2 = load_commune_values(area, AREA_COLUMNS, "area") if area else None
    existing = {(t.level, t.code): t for t in db.session.scalars(sa.select(Territory))}
    added = dict.fromkeys(LEVELS, 0)

    def upsert(level: str, code: str, name: str) -> Territory:
        terr = existing.get((level, code))
        if terr is None:
            terr = Territory(level=level, code=code, name=name)
            db.session.add(terr)
            existing[(level, code)] = terr
            added[level] += 1
        elif name and name != code:
            terr.name = name
        return terr

    for level, parent_level in SUPRA:
        column, label = LEVELS[level], LEVEL_NAME_COLUMNS[level]
        for code, rows in geo.groupby(column, sort=True):
            name = _first_text(rows.get(label), str(code))
            terr = upsert(level, str(code), name)
            if parent_level:
                parent_code = str(rows[LEVELS[parent_level]].iloc[0])
                terr.parent = existing[(parent_level, parent_code)]
            _set_sizes(terr, rows["CODGEO"].astype(str), pop, km2)
    for row in geo.itertuples(index=False):
        values = row._asdict()
        commune = upsert("commune", str(values["CODGEO"]), str(values["LIBGEO"]))
        commune.parent = existing[("departement", str(values["DEP"]))]
        commune.zone_emploi = existing[("zone_emploi", str(values["ZE2020"]))]
        _set_sizes(commune, pd.Series([commune.code]), pop, km2)
    db.session.flush()
    record(
        "territories.load",
        object_type="territories",
        payload={"file": Path(geography).name, "added": added},
    )
    return added


def _set_sizes(
    terr: Territory, communes: pd.Series, pop: pd.Series | None, km2: pd.Series | None
) -> None:
    """Set population and area from the files given; a file not given changes nothing."""
    if pop is not None:
        terr.population = _total(pop, communes)
    if km2 is not None:
        terr.area_km2 = _total(km2, communes)


def _first_text(column: pd.Series | None, default: str) -> str:
    if column is None:
        return default
    values = column.dropna().astype(str)
    return values.iloc[0] if len(values) else default


def _total(values: pd.Series, communes: pd.Series) -> float | None:
    """Sum of a commune-level value over communes, None when any commune lacks it."""
    picked = values.reindex(communes.tolist())
    return None if picked.isna().any() else float(picked.sum())
