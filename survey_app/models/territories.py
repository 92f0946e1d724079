"""Territories (commune, département, région, zone d'emploi) and organisations in them."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.models.base import Base, choice, utcnow

TERRITORY_LEVELS = ("commune", "departement", "region", "zone_emploi")
ORGANISATION_KINDS = ("sme", "relay")
#: INSEE headcount bands (trancheEffectifs), NN = no employee on record
SIZE_BANDS = (
    "NN",
    "00",
    "01",
    "02",
    "03",
    "11",
    "12",
    "21",
    "22",
    "31",
    "32",
    "41",
    "42",
    "51",
    "52",
    "53",
)


class Territory(Base):
    __tablename__ = "territories"
    __table_args__ = (sa.UniqueConstraint("level", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(choice(*TERRITORY_LEVELS, name="territory_level"))
    #: INSEE code (COG): commune 34172, département 34, région 76, zone d'emploi 7611
    code: Mapped[str] = mapped_column(sa.String(10))
    name: Mapped[str] = mapped_column(sa.String(200))
    #: administrative parent: commune -> département -> région
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    #: a commune's zone d'emploi (not part of the administrative chain)
    zone_emploi_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"))
    population: Mapped[int | None]
    area_km2: Mapped[float | None]

    parent: Mapped["Territory | None"] = relationship(remote_side=[id], foreign_keys=[parent_id])
    zone_emploi: Mapped["Territory | None"] = relationship(
        remote_side=[id], foreign_keys=[zone_emploi_id]
    )

    def ancestor(self, level: str) -> "Territory | None":
        """Return this territory or the ancestor at `level` (zone d'emploi for communes)."""
        if level == "zone_emploi":
            return self if self.level == level else self.zone_emploi
        node = self
        while node is not None and node.level != level:
            node = node.parent
        return node


class Organisation(Base):
    """An SME or a relay actor met in the field."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(choice(*ORGANISATION_KINDS, name="organisation_kind"))
    name: Mapped[str] = mapped_column(sa.String(300))
    #: stable pseudonym shown in exports: PME_001, REL_001
    pseudonym: Mapped[str] = mapped_column(sa.String(20), unique=True)
    territory_id: Mapped[int | None] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    siret: Mapped[str | None] = mapped_column(sa.String(14))
    #: SME: NAF rev. 2 code of the main activity, e.g. 28.29B
    naf_code: Mapped[str | None] = mapped_column(sa.String(6))
    #: SME: INSEE headcount band (trancheEffectifs), e.g. 12
    size_band: Mapped[str | None] = mapped_column(sa.String(2))
    #: SME: share of turnover made abroad, 0..1
    export_share: Mapped[float | None]
    #: relay actor: category key from instruments/relay_typology.yaml
    relay_category: Mapped[str | None] = mapped_column(sa.String(50))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    territory: Mapped[Territory | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
