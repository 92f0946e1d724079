"""Case × code counts and saturation (new codes per interview, per stratum), per reader."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from survey_app.codings.operations import visible_codings_query
from survey_app.extensions import db
from survey_app.models import Coding, User
from survey_app.workspace.cases import Case

#: interviews per stratum before a score is shown without a warning (docs/METHODS.md, "Saturation")
SATURATION_MIN = 10


def code_counts(user: User, cases: list[Case], level: str = "code") -> dict[int, Counter]:
    """Count the codings the user may see, per transcript version and code (or family)."""
    out = {}
    for case in cases:
        stmt = visible_codings_query(user, case.version.id).where(Coding.source != "model")
        counts: Counter = Counter()
        for coding in db.session.scalars(stmt):
            counts[coding.code.family if level == "family" else coding.code.key] += 1
        out[case.version.id] = counts
    return out


def matrix_columns(counts: dict[int, Counter]) -> list[str]:
    return sorted({key for row in counts.values() for key in row})


@dataclass
class Point:
    case: Case
    new: list[str]
    total: int


@dataclass
class Stratum:
    territory: str
    respondent_type: str
    points: list[Point] = field(default_factory=list)

    @property
    def warning(self) -> bool:
        return len(self.points) < SATURATION_MIN


def saturation(
    cases: list[Case], counts: dict[int, Counter], territory_level: str = "departement"
) -> list[Stratum]:
    """Walk each stratum's interviews by date; record the codes never seen before in it."""
    strata: dict[tuple[str, str], Stratum] = {}
    seen: dict[tuple[str, str], set[str]] = {}
    ordered = sorted(cases, key=lambda c: (c.when is None, c.when or 0, c.interview.id))
    for case in ordered:
        key = (case.territory_name(territory_level), case.respondent_type)
        stratum = strata.setdefault(key, Stratum(*key))
        known = seen.setdefault(key, set())
        new = sorted(set(counts.get(case.version.id, {})) - known)
        known.update(new)
        stratum.points.append(Point(case, new, len(known)))
    return sorted(strata.values(), key=lambda s: (s.territory, s.respondent_type))


def chart(stratum: Stratum, width: int = 360, height: int = 140, pad: int = 24) -> dict:
    """Geometry of a small SVG chart: bars of new codes, a line of the cumulated count."""
    n = max(len(stratum.points), 1)
    top = max([p.total for p in stratum.points] + [1])
    step = (width - 2 * pad) / n
    scale = (height - 2 * pad) / top
    bars, line = [], []
    for i, p in enumerate(stratum.points):
        x = pad + i * step
        h = len(p.new) * scale
        bars.append(
            {
                "x": round(x + step * 0.15, 1),
                "y": round(height - pad - h, 1),
                "w": round(step * 0.7, 1),
                "h": round(h, 1),
                "n": len(p.new),
                "label": p.case.pseudonym,
            }
        )
        line.append(f"{round(x + step / 2, 1)},{round(height - pad - p.total * scale, 1)}")
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "bars": bars,
        "line": " ".join(line),
        "top": top,
        "top_y": pad,
    }
