"""The dataset bundle: the tidy tables every export and analysis consumes.

The web app's one builder fills a :class:`Dataset` from the database; everything derived
(answers wide, case x code matrix, data dictionary) is computed here once, from the bundle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Columns each tidy table must carry (the shared table contract).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "organisations": (
        "org_id",
        "pseudonym",
        "kind",
        "name",
        "relay_category",
        "naf",
        "size_band",
        "export_share",
        "territory_code",
    ),
    "interviews": (
        "interview_id",
        "org_id",
        "respondent_type",
        "instrument_id",
        "instrument_version",
        "fieldworker",
        "interview_date",
        "status",
        "commune",
        "departement",
        "region",
        "zone_emploi",
    ),
    "answers_long": ("interview_id", "question_key", "value", "missing"),
    "segments": (
        "segment_id",
        "interview_id",
        "transcript_id",
        "start",
        "end",
        "speaker",
        "kind",
        "text",
    ),
    "codings": (
        "coding_id",
        "interview_id",
        "transcript_id",
        "start",
        "end",
        "code",
        "family",
        "coder",
        "source",
        "confidence",
        "valence",
        "intensity",
        "round_id",
        "created_dt",
    ),
    "transcripts": ("transcript_id", "interview_id", "version", "sha256", "text"),
    "users": ("username", "role"),
    "codebook": ("code", "family", "label_fr", "label_en", "definition"),
}

#: Code prefix -> family, and family -> the D it informs.
FAMILY_OF_PREFIX = {"GOV": "GOVERNANCE", "STR": "STRATEGY", "DYN": "DYNAMICS", "OTH": "OTHER"}
D_OF_FAMILY = {"GOVERNANCE": "D4_GOV", "STRATEGY": "D4_STRAT", "DYNAMICS": "D3", "OTHER": None}
FAMILIES = ("GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER")

#: The three kinds of missing answer, kept distinct in every export.
MISSING_KINDS = ("refused", "dont_know", "not_asked")
MISSING_LABELS = {
    "refused": {"fr": "Refus de répondre", "en": "Refused"},
    "dont_know": {"fr": "Ne sait pas", "en": "Don't know"},
    "not_asked": {"fr": "Non posée", "en": "Not asked"},
}

#: Consent questions store "yes" / "no" without a choice list.
CONSENT_CHOICES = [
    {"value": "yes", "label": {"fr": "Oui", "en": "Yes"}},
    {"value": "no", "label": {"fr": "Non", "en": "No"}},
]

NUMERIC_TYPES = {"integer", "decimal", "number", "likert", "frequency", "scale", "range"}


#: Names of the derived tables and dictionary sheets, which extra tables may not take.
RESERVED_NAMES = {
    "cases",
    "answers_wide",
    "matrix_code_count",
    "matrix_code_presence",
    "matrix_family_count",
    "matrix_family_presence",
    "dictionary",
    "dictionary_tables",
}


class DatasetError(ValueError):
    """A tidy table does not follow the shared contract."""


def empty_table(name: str) -> pd.DataFrame:
    """Return an empty DataFrame with the contract columns of table `name`."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in TABLE_COLUMNS[name]})


def _empty(name: str) -> Any:
    return field(default_factory=lambda: empty_table(name))


@dataclass
class Dataset:
    """Bundle of the project's tidy tables and instrument question metadata.

    `instruments` maps (instrument_id, instrument_version) to {question_key: metadata}, the
    metadata being {type, d, reverse, codes, choices: [{value, label: {fr, en}}], label}.
    """

    organisations: pd.DataFrame = _empty("organisations")
    interviews: pd.DataFrame = _empty("interviews")
    answers_long: pd.DataFrame = _empty("answers_long")
    segments: pd.DataFrame = _empty("segments")
    codings: pd.DataFrame = _empty("codings")
    transcripts: pd.DataFrame = _empty("transcripts")
    users: pd.DataFrame = _empty("users")
    codebook: pd.DataFrame = _empty("codebook")
    instruments: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    name: str = "milieu"
    #: Further tables exported as they are, by name (e.g. the 4D scores when computed).
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for table in TABLE_COLUMNS:
            validate_table(table, getattr(self, table))
        reserved = set(TABLE_COLUMNS) | RESERVED_NAMES
        for name, frame in self.extra_tables.items():
            if name in reserved or not re.fullmatch(r"[A-Za-z][0-9A-Za-z_]{0,30}", name):
                raise DatasetError(f"extra table name {name!r} is reserved or not a plain name")
            if not isinstance(frame, pd.DataFrame):
                raise DatasetError(f"extra table {name!r} is not a DataFrame")

    def table(self, name: str) -> pd.DataFrame:
        """Return the base tidy table `name`."""
        if name not in TABLE_COLUMNS:
            raise DatasetError(f"unknown table {name!r}")
        return getattr(self, name)


def validate_table(name: str, frame: pd.DataFrame) -> None:
    """Raise DatasetError naming the table and the first missing contract column."""
    if not isinstance(frame, pd.DataFrame):
        raise DatasetError(f"table {name!r} is not a DataFrame")
    for column in TABLE_COLUMNS[name]:
        if column not in frame.columns:
            raise DatasetError(f"table {name!r} lacks column {column!r}")


def family_of(code: str) -> str:
    """Return the codebook family of a code key by its prefix."""
    prefix = str(code).split(".", 1)[0].upper()
    return FAMILY_OF_PREFIX.get(prefix, "OTHER")


# --- question metadata -----------------------------------------------------------------


def question_kind(meta: Mapping[str, Any]) -> str:
    """Classify a question as 'multi', 'categorical', 'numeric', 'date' or 'text'."""
    qtype = str(meta.get("type") or "text").split()[0].lower()
    if qtype.startswith("select_multiple"):
        return "multi"
    if qtype in NUMERIC_TYPES:
        return "numeric"
    if qtype.startswith("select_one") or meta.get("choices"):
        return "categorical"
    if qtype in {"date", "datetime"}:
        return "date"
    return "text"


def merged_questions(ds: Dataset) -> dict[str, dict[str, Any]]:
    """Return {question_key: metadata + 'versions'} over every instrument version, in order.

    A key that several guides share with different answer lists (``role`` in both guides)
    gets the union of their choices, in order of first appearance, so that no guide's
    answers fall outside the labels; a value labelled differently keeps both labels.
    """
    merged: dict[str, dict[str, Any]] = {}
    for (instrument_id, version), questions in ds.instruments.items():
        for key, meta in questions.items():
            if str(meta.get("type")) == "consent" and not meta.get("choices"):
                meta = {**meta, "choices": CONSENT_CHOICES}
            entry = merged.get(key)
            if entry is None:
                entry = merged[key] = {**meta, "choices": list(meta.get("choices") or [])}
                entry["versions"] = []
            else:
                entry["choices"] = _merged_choices(entry["choices"], meta.get("choices") or [])
            entry["versions"].append(f"{instrument_id}@{version}")
    for key in ds.answers_long["question_key"].dropna().unique():
        merged.setdefault(str(key), {"type": "text", "label": {}, "versions": []})
    return merged


def _merged_choices(
    first: list[dict[str, Any]], other: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    out = [dict(c) for c in first]
    at = {str(c["value"]): i for i, c in enumerate(out)}
    for choice in other:
        value = str(choice["value"])
        if value not in at:
            at[value] = len(out)
            out.append(dict(choice))
            continue
        mine = out[at[value]]
        if mine.get("label") != choice.get("label") and isinstance(choice.get("label"), dict):
            mine["label"] = {
                lang: " / ".join(
                    dict.fromkeys([choice_label(mine, lang), choice_label(choice, lang)])
                )
                for lang in ("fr", "en")
            }
    return out


def choice_values(meta: Mapping[str, Any]) -> list[str]:
    """Return the choice values of a question as strings, in instrument order."""
    return [str(c["value"]) for c in meta.get("choices") or []]


def choice_label(choice: Mapping[str, Any], lang: str = "fr") -> str:
    """Return a choice's label in `lang`, falling back to the other language or the value."""
    label = choice.get("label") or {}
    if isinstance(label, str):
        return label
    return label.get(lang) or label.get("en") or label.get("fr") or str(choice["value"])


def question_label(meta: Mapping[str, Any], lang: str = "fr") -> str:
    """Return a question's text in `lang`, with the same fallbacks as choice labels."""
    label = meta.get("label") or {}
    if isinstance(label, str):
        return label
    return label.get(lang) or label.get("en") or label.get("fr") or ""


def split_multi(value: Any) -> list[str]:
    """Split a select_multiple answer (space, ';' or ',' separated) into choice values."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return [v for v in re.split(r"[\s;,]+", str(value)) if v]


def multi_column(key: str, choice: str) -> str:
    """Return the name of the 0/1 column of choice `choice` of question `key`."""
    return f"{key}_{re.sub(r'[^0-9A-Za-z_]', '_', choice)}"


def _is_int_like(values: Iterable[str]) -> bool:
    values = list(values)
    return bool(values) and all(re.fullmatch(r"-?\d+", v) for v in values)


def categorical_is_numeric(meta: Mapping[str, Any]) -> bool:
    """Tell whether a categorical question's choice values are all integers."""
    return _is_int_like(choice_values(meta))


# --- answers wide ----------------------------------------------------------------------


def _typed(series: pd.Series, kind: str, meta: Mapping[str, Any]) -> pd.Series:
    if kind == "numeric" or (kind == "categorical" and categorical_is_numeric(meta)):
        return pd.to_numeric(series, errors="coerce")
    if kind == "date":
        return pd.to_datetime(series, errors="coerce")
    return series.astype(object).where(series.notna(), None)


def _pivot(long: pd.DataFrame, column: str, ids: pd.Index) -> pd.DataFrame:
    if not len(long):
        return pd.DataFrame(index=ids)
    last = long.drop_duplicates(["interview_id", "question_key"], keep="last")
    return last.pivot(index="interview_id", columns="question_key", values=column).reindex(ids)


def _wide_parts(ds: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    long = ds.answers_long
    ids = pd.Index(
        sorted(set(ds.interviews["interview_id"].dropna()) | set(long["interview_id"].dropna())),
        name="interview_id",
    )
    values, kinds = _pivot(long, "value", ids), _pivot(long, "missing", ids)
    columns: dict[str, pd.Series] = {}
    missing_of: dict[str, pd.Series] = {}
    none = pd.Series(None, index=ids, dtype=object)
    for key, meta in merged_questions(ds).items():
        raw = values[key] if key in values.columns else none
        kind_col = kinds[key] if key in kinds.columns else none
        kind = question_kind(meta)
        if kind == "multi":
            chosen = raw.map(split_multi)
            for choice in choice_values(meta):
                col = multi_column(key, choice)
                flags = chosen.map(lambda vs, c=choice: int(c in vs)).astype("Int64")
                columns[col] = flags.mask(raw.isna())
                missing_of[col] = kind_col
        else:
            columns[key] = _typed(raw, kind, meta)
            missing_of[key] = kind_col
    wide = pd.DataFrame(columns, index=ids).reset_index()
    kinds_wide = pd.DataFrame(missing_of, index=ids)
    kinds_wide = _mark_not_in_instrument(ds, kinds_wide, wide.set_index("interview_id"))
    kinds_wide = kinds_wide.reset_index()
    return wide, kinds_wide.astype(object).where(kinds_wide.notna(), None)


def _mark_not_in_instrument(ds: Dataset, kinds: pd.DataFrame, wide: pd.DataFrame) -> pd.DataFrame:
    """Mark as 'not_asked' the empty cells of questions absent from the interview's guide."""
    if not ds.instruments or not len(kinds):
        return kinds
    guide = ds.interviews.set_index("interview_id")[["instrument_id", "instrument_version"]]
    guide = guide[~guide.index.duplicated()].reindex(kinds.index)
    # Versions may be numbers on one side and strings on the other: compare as strings.
    pairs = list(
        zip(
            guide["instrument_id"].astype(str), guide["instrument_version"].astype(str), strict=True
        )
    )
    guides = {(str(i), str(v)): q for (i, v), q in ds.instruments.items()}
    questions = merged_questions(ds)
    kinds = kinds.copy()
    for column in kinds.columns:
        key = _question_of_column(column, questions)
        if key is None:
            continue
        absent = [key not in guides.get(pair, {key: None}) for pair in pairs]
        empty = wide[column].isna().to_numpy() & kinds[column].isna().to_numpy()
        kinds.loc[pd.Series(absent, index=kinds.index).to_numpy() & empty, column] = "not_asked"
    return kinds


def _question_of_column(column: str, questions: Mapping[str, Any]) -> str | None:
    if column in questions:
        return column
    for key, meta in questions.items():
        if question_kind(meta) == "multi" and column.startswith(f"{key}_"):
            return key
    return None


def answers_wide(ds: Dataset) -> pd.DataFrame:
    """Return one row per interview, one column per question key (multi: key_choice 0/1)."""
    return _wide_parts(ds)[0]


def answers_missing(ds: Dataset) -> pd.DataFrame:
    """Return the missing kind (or None) of every cell of `answers_wide`, same shape."""
    return _wide_parts(ds)[1]


# --- case x code matrix ----------------------------------------------------------------


def case_code_matrix(ds: Dataset, level: str = "code", measure: str = "count") -> pd.DataFrame:
    """Return interviews x codes (or families): coding counts or 0/1 presence."""
    if level not in {"code", "family"}:
        raise DatasetError(f"level must be 'code' or 'family', not {level!r}")
    if measure not in {"count", "presence"}:
        raise DatasetError(f"measure must be 'count' or 'presence', not {measure!r}")
    codings = ds.codings
    keys = _matrix_keys(ds, level)
    ids = pd.Index(sorted(ds.interviews["interview_id"].dropna().unique()), name="interview_id")
    if len(codings):
        column = (
            codings[level]
            if level == "code"
            else codings["family"].fillna(codings["code"].map(family_of))
        )
        # groupby().size() is vectorised; pd.crosstab aggregates in Python (100x slower).
        counts = codings.groupby([codings["interview_id"], column.rename("_key")]).size()
        counts = counts.unstack("_key", fill_value=0)
        ids = ids.union(counts.index)
        keys = keys + [k for k in counts.columns if k not in keys]
    else:
        counts = pd.DataFrame(index=ids)
    ids.name = "interview_id"
    matrix = counts.reindex(index=ids, columns=keys, fill_value=0).fillna(0).astype("int64")
    if measure == "presence":
        matrix = (matrix > 0).astype("int64")
    matrix.columns = [str(c) for c in matrix.columns]
    matrix.columns.name = None
    return matrix.reset_index()


def _matrix_keys(ds: Dataset, level: str) -> list[str]:
    if level == "family":
        return list(FAMILIES)
    return [str(c) for c in ds.codebook["code"].dropna().tolist()]


def matrix_column(code: str, measure: str) -> str:
    """Return the variable name of a code's count/presence column in the cases table."""
    prefix = "n" if measure == "count" else "has"
    return f"{prefix}_{re.sub(r'[^0-9A-Za-z]', '_', code)}"


# --- the cases table and every table --------------------------------------------------


#: Organisation attributes carried on each interview row, under an `org_` prefix so they
#: never collide with question keys (an instrument may ask `export_share` too).
ORG_ATTRIBUTES = ("pseudonym", "kind", "relay_category", "naf", "size_band", "export_share")


def attribute_names(ds: Dataset) -> dict[str, str]:
    """Map interview columns to their case-table names, prefixing those a question uses."""
    questions = set(answers_wide(ds).columns) - {"interview_id"}
    return {c: f"interview_{c}" if c in questions else c for c in TABLE_COLUMNS["interviews"]}


def case_attributes(ds: Dataset) -> pd.DataFrame:
    """Return one row per interview: its attributes and its organisation's (org_*)."""
    orgs = ds.organisations[["org_id", *ORG_ATTRIBUTES]].rename(
        columns={c: f"org_{c}" for c in ORG_ATTRIBUTES}
    )
    table = ds.interviews.merge(orgs, on="org_id", how="left")
    return table.rename(columns=attribute_names(ds))


def cases(ds: Dataset) -> pd.DataFrame:
    """Return one row per interview: attributes, organisation, answers wide, code counts."""
    table = case_attributes(ds).merge(answers_wide(ds), on="interview_id", how="left")
    for level in ("family", "code"):
        matrix = case_code_matrix(ds, level=level, measure="count")
        matrix = matrix.rename(
            columns={c: matrix_column(c, "count") for c in matrix.columns if c != "interview_id"}
        )
        table = table.merge(matrix, on="interview_id", how="left")
    return table


def derived_tables(ds: Dataset) -> dict[str, pd.DataFrame]:
    """Return the derived tables: answers wide and the four case x code matrices."""
    tables = {"answers_wide": answers_wide(ds)}
    for level in ("code", "family"):
        for measure in ("count", "presence"):
            tables[f"matrix_{level}_{measure}"] = case_code_matrix(ds, level, measure)
    return tables


def table_builders(ds: Dataset) -> dict[str, Callable[[], pd.DataFrame]]:
    """Return every exported table's builder by name: base, derived, then extra tables."""
    builders: dict[str, Callable[[], pd.DataFrame]] = {
        name: (lambda n=name: ds.table(n)) for name in TABLE_COLUMNS
    }
    builders["answers_wide"] = lambda: answers_wide(ds)
    for level in ("code", "family"):
        for measure in ("count", "presence"):
            builders[f"matrix_{level}_{measure}"] = lambda lv=level, m=measure: case_code_matrix(
                ds, lv, m
            )
    builders.update({n: (lambda f=f: f) for n, f in ds.extra_tables.items()})
    return builders


def all_tables(ds: Dataset) -> dict[str, pd.DataFrame]:
    """Return every exported table by name: base, derived, then the extra tables."""
    return {name: build() for name, build in table_builders(ds).items()}


# --- data dictionary -------------------------------------------------------------------

#: Labels of the contract's own columns (not questions), fr then en.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "interview_id": ("Identifiant de l'entretien", "Interview id"),
    "org_id": ("Identifiant de l'organisation", "Organisation id"),
    "respondent_type": ("Type de répondant", "Respondent type"),
    "instrument_id": ("Guide d'entretien", "Interview guide"),
    "instrument_version": ("Version du guide", "Guide version"),
    "fieldworker": ("Enquêteur", "Fieldworker"),
    "interview_date": ("Date de l'entretien", "Interview date"),
    "status": ("Statut", "Status"),
    "commune": ("Commune (code INSEE)", "Municipality (INSEE code)"),
    "departement": ("Département", "Département"),
    "region": ("Région", "Region"),
    "zone_emploi": ("Zone d'emploi", "Employment zone"),
    "org_pseudonym": ("Pseudonyme de l'organisation", "Organisation pseudonym"),
    "org_kind": ("Type d'organisation", "Organisation kind"),
    "org_relay_category": ("Catégorie d'acteur-relais", "Relay-actor category"),
    "org_naf": ("Code NAF de l'organisation", "Organisation NAF code"),
    "org_size_band": ("Tranche d'effectif (registre)", "Headcount band (registry)"),
    "org_export_share": ("Part du CA à l'export (registre)", "Export share (registry)"),
}

#: Allowed values of the contract's closed columns.
COLUMN_VALUES: dict[str, tuple[str, ...]] = {
    "respondent_type": ("sme", "relay"),
    "org_kind": ("sme", "relay"),
    "status": ("draft", "submitted", "has_issues", "approved", "rejected"),
}

DICTIONARY_COLUMNS = (
    "variable",
    "label_fr",
    "label_en",
    "type",
    "allowed_values",
    "instrument_version",
    "d",
    "codes",
    "question_key",
)


def variables(ds: Dataset) -> pd.DataFrame:
    """Return the data dictionary of the cases table, one row per variable."""
    rows = [_column_row(col, source, dtype) for col, source, dtype in _base_columns(ds)]
    for key, meta in merged_questions(ds).items():
        rows.extend(_question_rows(key, meta))
    rows.extend(_matrix_rows(ds))
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def _base_columns(ds: Dataset) -> list[tuple[str, str, str]]:
    """Return (case-table name, contract name, type) of the attribute columns."""
    renamed = attribute_names(ds)
    types = {
        "interview_id": "integer",
        "org_id": "integer",
        "interview_date": "date",
        "org_export_share": "decimal",
    }
    names = [(renamed[c], c) for c in TABLE_COLUMNS["interviews"]]
    names += [(f"org_{c}", f"org_{c}") for c in ORG_ATTRIBUTES]
    return [(name, source, types.get(source, "string")) for name, source in names]


def _column_row(column: str, source: str, dtype: str) -> dict[str, Any]:
    fr, en = COLUMN_LABELS.get(source, (source, source))
    return {
        "variable": column,
        "label_fr": fr,
        "label_en": en,
        "type": dtype,
        "allowed_values": " | ".join(COLUMN_VALUES.get(source, ())),
        "instrument_version": "",
        "d": "",
        "codes": "",
        "question_key": "",
    }


def _missing_note() -> str:
    return "; ".join(f"{k} (missing)" for k in MISSING_KINDS)


def _question_rows(key: str, meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    kind = question_kind(meta)
    base = {
        "instrument_version": " ".join(meta.get("versions", [])),
        "d": meta.get("d") or "",
        "codes": " ".join(meta.get("codes") or []),
        "question_key": key,
    }
    if kind == "multi":
        return [
            {
                **base,
                "variable": multi_column(key, str(c["value"])),
                "label_fr": f"{question_label(meta, 'fr')} : {choice_label(c, 'fr')}",
                "label_en": f"{question_label(meta, 'en')}: {choice_label(c, 'en')}",
                "type": "binary",
                "allowed_values": f"0 = non | 1 = oui | {_missing_note()}",
            }
            for c in meta.get("choices") or []
        ]
    allowed = " | ".join(
        f"{c['value']} = {choice_label(c, 'fr')}" for c in meta.get("choices") or []
    )
    dtype = {
        "numeric": "integer"
        if meta.get("type") in {"likert", "frequency", "integer"}
        else "decimal",
        "date": "date",
        "text": "string",
    }.get(kind, "categorical")
    reverse = " (reverse-scored)" if meta.get("reverse") else ""
    return [
        {
            **base,
            "variable": key,
            "label_fr": question_label(meta, "fr"),
            "label_en": question_label(meta, "en") + reverse,
            "type": dtype,
            "allowed_values": " | ".join(x for x in (allowed, _missing_note()) if x),
        }
    ]


def _matrix_rows(ds: Dataset) -> list[dict[str, Any]]:
    rows = []
    labels = dict(zip(ds.codebook["code"], ds.codebook["label_fr"], strict=False))
    labels_en = dict(zip(ds.codebook["code"], ds.codebook["label_en"], strict=False))
    for family in FAMILIES:
        rows.append(
            {
                "variable": matrix_column(family, "count"),
                "label_fr": f"Nombre de codages de la famille {family}",
                "label_en": f"Number of codings in family {family}",
                "type": "integer",
                "allowed_values": ">= 0",
                "instrument_version": "",
                "d": D_OF_FAMILY[family] or "",
                "codes": family,
                "question_key": "",
            }
        )
    for code in _matrix_keys(ds, "code"):
        rows.append(
            {
                "variable": matrix_column(code, "count"),
                "label_fr": f"Nombre de codages {code} ({labels.get(code) or ''})",
                "label_en": f"Number of codings {code} ({labels_en.get(code) or ''})",
                "type": "integer",
                "allowed_values": ">= 0",
                "instrument_version": "",
                "d": D_OF_FAMILY[family_of(code)] or "",
                "codes": code,
                "question_key": "",
            }
        )
    return rows


#: What each column of the exported tables holds (the contract, for analysts).
COLUMN_DOCS: dict[str, str] = {
    "org_id": "organisation id",
    "pseudonym": "organisation pseudonym (ORG_nnn)",
    "kind": "sme or relay",
    "name": "organisation name (a token when pseudonymised)",
    "relay_category": "relay-actor category of the typology (or its family when coarsened)",
    "naf": "NAF activity code",
    "size_band": "SIRENE headcount band",
    "export_share": "export share of turnover",
    "territory_code": "commune INSEE code (or coarser code when coarsened)",
    "interview_id": "interview id",
    "respondent_type": "sme or relay",
    "instrument_id": "interview guide id",
    "instrument_version": "guide version",
    "fieldworker": "fieldworker username",
    "interview_date": "date of the interview",
    "status": "draft, submitted, has_issues, approved or rejected",
    "commune": "commune INSEE code",
    "departement": "département code",
    "region": "région code",
    "zone_emploi": "employment zone code",
    "question_key": "question key (variable name)",
    "value": "answer as text (select_multiple: space-separated choice values)",
    "missing": "refused, dont_know, not_asked or empty",
    "segment_id": "segment id",
    "transcript_id": "transcript id",
    "start": "first character, 0-based, in the transcript text (code points)",
    "end": "character after the last one (spans are [start, end))",
    "speaker": "speaker label",
    "text": "text (segment span or full transcript)",
    "coding_id": "coding id",
    "code": "codebook code (e.g. GOV.FRAG)",
    "family": "GOVERNANCE, STRATEGY, DYNAMICS, OTHER, or IMPORTED (a code brought from "
    "another QDA tool under its own name: outside the 4D themes and scores)",
    "coder": "coder username",
    "source": "human, model or consensus",
    "confidence": "model score (model codings)",
    "valence": "-1, 0 or +1",
    "intensity": "0 to 3",
    "round_id": "blind coding round",
    "created_dt": "creation time, UTC",
    "version": "transcript version",
    "sha256": "SHA-256 of the transcript text (UTF-8)",
    "username": "user name",
    "role": "fieldworker, researcher or admin",
    "label_fr": "label in French",
    "label_en": "label in English",
    "definition": "definition",
    "memo": "notes: on a coding, the coder's memo; on a transcript, its notes (REFI-QDA "
    "notes and descriptions); empty when none",
    "title": "transcript title (a REFI-QDA source's name)",
    "parent": "an imported code's parent code in its tool's code tree",
    "color": "an imported code's colour in its tool (#RRGGBB)",
}

TABLE_DOCS: dict[str, str] = {
    "cases": "one row per interview: attributes, organisation, answers wide, coding counts",
    "organisations": "organisation registry",
    "interviews": "one row per interview",
    "answers_long": "one row per interview and question",
    "answers_wide": "one row per interview, one column per question (multi: 0/1 per choice)",
    "segments": "speaker turns and sentences with their offsets",
    "codings": "one row per coding of a text span",
    "transcripts": "transcript texts",
    "users": "project users",
    "codebook": "codes and their families",
    "matrix_code_count": "interviews x codes: number of codings",
    "matrix_code_presence": "interviews x codes: 1 if coded at least once",
    "matrix_family_count": "interviews x families: number of codings",
    "matrix_family_presence": "interviews x families: 1 if coded at least once",
}


def table_columns(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Return the table-level dictionary: table, what it holds, each column and its meaning."""
    rows = []
    for table, frame in tables.items():
        for column in frame.columns:
            doc = COLUMN_DOCS.get(str(column))
            if doc is None and table.startswith("matrix_"):
                doc = f"{table.split('_')[2]} of {column} for the interview"
            rows.append(
                {
                    "table": table,
                    "table_description": TABLE_DOCS.get(table, ""),
                    "column": str(column),
                    "description": doc or "see the variables dictionary",
                }
            )
    return pd.DataFrame(rows, columns=["table", "table_description", "column", "description"])
