"""D1 and D2 from the SIRENE establishment stock, streamed through DuckDB.

One scan of the register aggregates establishments by commune, relay category and employer
flag inside DuckDB (rows never reach Python); everything after that works on the small
aggregate: arrondissement mapping, geography join, roll-up to each level, indices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analysis import indices
from analysis.file_io import InputError, read_header, read_table, suffix_of, to_number
from analysis.territorial_levels import LEVELS
from analysis.typology import Rule, Typology, load_typology

REQUIRED_COLUMNS = (
    "siret",
    "etatAdministratifEtablissement",
    "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "codeCommuneEtablissement",
)
EMPLOYER_COLUMN = "caractereEmployeurEtablissement"
LEGAL_COLUMN = "categorieJuridiqueUniteLegale"
UNIT_NAME_COLUMN = "denominationUniteLegale"
NAME_COLUMNS = ("denominationUsuelleEtablissement", "enseigne1Etablissement", UNIT_NAME_COLUMN)
#: Columns of the legal-unit stock (StockUniteLegale) that the join needs.
UNIT_REQUIRED_COLUMNS = ("siren", LEGAL_COLUMN)
LEVEL_NAME_COLUMNS = {
    "commune": "LIBGEO",
    "departement": "LIBDEP",
    "region": "LIBREG",
    "zone_emploi": "LIBZE2020",
}
NIVGEO = {"departement": "DEP", "region": "REG", "zone_emploi": "ZE2020"}
OUTPUT_COLUMNS = [
    "territory_level",
    "territory_code",
    "territory_name",
    "indicator",
    "value",
    "ci_low",
    "ci_high",
    "note",
]
POPULATION_COLUMNS = ("PMUN", "PTOT", "POPULATION", "POP", "P21_POP", "P20_POP", "P19_POP")
AREA_COLUMNS = ("SUPERF", "SUPERFICIE", "AREA_KM2", "AREA")
# Status of a register row after the scan; everything but ok/inactive is malformed.
MALFORMED = {
    "bad_siret": "siret is not 14 digits (among establishments not closed)",
    "bad_state": "etatAdministratifEtablissement is neither A nor F",
    "missing_commune": "active establishment without a commune code (abroad or blank)",
    "unknown_commune": "commune code not in the geography table",
    "unparsable": "line could not be parsed (wrong number of fields, broken quotes)",
}


class RegistryError(InputError):
    """Raised when a register or geography file cannot be used."""


@dataclass
class RegistryResult:
    """The long tidy table and what happened to the rows on the way."""

    table: pd.DataFrame
    malformed: dict[str, int]
    info: dict[str, int]
    typology_version: str
    warnings: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        """Return human-readable lines on rows read, kept and rejected."""
        lines = [f"{k.replace('_', ' ')}: {v:,}" for k, v in self.info.items()]
        lines += [f"malformed, {MALFORMED[k]}: {v:,}" for k, v in self.malformed.items() if v]
        return lines + [f"warning: {w}" for w in self.warnings]


Progress = Callable[[str], None]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def register_source(path: str | Path, what: str = "registry") -> tuple[str, list[str]]:
    """Return a DuckDB table expression reading the register (or another SIRENE stock file,
    named by what in messages) and its column names."""
    p = Path(path)
    if not p.is_file():
        raise RegistryError(f"{what} file not found: {p}")
    suffix = suffix_of(p)
    if suffix == ".parquet":
        try:
            described = duckdb.sql(
                f"DESCRIBE SELECT * FROM read_parquet({_quote(str(p))})"
            ).fetchall()
        except duckdb.Error as exc:
            raise RegistryError(f"cannot read Parquet file {p}: {exc}") from exc
        names = [r[0] for r in described]
        if len(set(names)) != len(names):
            raise RegistryError(f"{p.name}: duplicate column names")
        columns = ", ".join(_text_column(name, kind) for name, kind, *_ in described)
        return f"(SELECT {columns} FROM read_parquet({_quote(str(p))}))", names
    if suffix not in (".csv", ".csv.gz", ".txt", ".txt.gz"):
        raise RegistryError(f"unsupported {what} format {p.name}: use .csv, .csv.gz or .parquet")
    names, delim = read_header(p)
    if len(set(names)) != len(names):
        raise RegistryError(f"{p.name}: duplicate column names in header")
    # Column types given by name from our own header read: no sniffing, so a few bad lines
    # cannot derail dialect detection, and bad lines land in the rejects table.
    columns = "{" + ", ".join(f"{_quote(n)}: 'VARCHAR'" for n in names) + "}"
    expr = (
        f"read_csv({_quote(str(p))}, header=true, auto_detect=false, columns={columns}, "
        f"delim={_quote(delim)}, quote='\"', escape='\"', store_rejects=true)"
    )
    return expr, names


# INSEE and SIRENE codes of fixed width: a spreadsheet, or a file converted with type
# guessing, that stored them as numbers lost their leading zeros (01001, 00552...).
CODE_WIDTHS = {
    "CODGEO": 5,
    "DEP": 2,
    "REG": 2,
    "ZE2020": 4,
    "siret": 14,
    "siren": 9,
    "nic": 5,
    "codeCommuneEtablissement": 5,
    LEGAL_COLUMN: 4,
}
_INTEGER_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
)


def _text_column(name: str, kind: str) -> str:
    """Return the SQL reading one Parquet column as text, as it reads in the CSV files.

    A Parquet file written from the CSV by a tool that guesses types holds sirets, commune
    codes and legal categories as numbers: they become text again, with their leading zeros
    for whole numbers shorter than the code (a longer one stays as it is, and is reported
    as malformed where it is checked). Text columns are read as they are.
    """
    col = _ident(name)
    if kind == "VARCHAR":
        return col
    text = f"CAST({col} AS VARCHAR)"
    width = CODE_WIDTHS.get(name)
    if width is None or not (
        kind in _INTEGER_TYPES or kind in ("FLOAT", "DOUBLE") or kind.startswith("DECIMAL")
    ):
        return f"{text} AS {col}"
    if kind not in _INTEGER_TYPES:  # a whole number stored as a float or decimal
        whole = f"CAST(CAST({col} AS HUGEINT) AS VARCHAR)"
        text = f"CASE WHEN {col} = trunc({col}) THEN {whole} ELSE {text} END"
    return (
        f"CASE WHEN {col} >= 0 AND strlen({text}) < {width}"
        f" THEN lpad({text}, {width}, '0') ELSE {text} END AS {col}"
    )


def legal_units_sql(source: str, names: Sequence[str], typology: Typology) -> str:
    """Return the legal units (siren, legal category, name) that can change a classification.

    StockUniteLegale has tens of millions of rows; only two kinds matter to the rules: a
    unit whose legal category some rule lists, and a unit whose name a keyword rule could
    read. The name of the legal unit comes last in the text the keywords are looked for in
    (establishment names, then the unit's, joined by spaces), so a keyword can only use it
    by appearing in it, or by starting before it and going on into it after one of the
    keyword's spaces: the name starts with the rest of the keyword. Any other unit leaves
    every row's category as it would be without it (no listed category, no keyword), so it
    is dropped, and the join stays small. A siren listed twice keeps its smallest values.
    """
    conditions = []
    lookup = _Lookup.build(typology, has_legal=True)
    if lookup.legal:
        conditions.append(f"{_ident(LEGAL_COLUMN)} IN ({', '.join(map(_quote, lookup.legal))})")
    keywords = sorted({k for _i, r in lookup.keyword_rules for k in r.name_keywords})
    has_name = UNIT_NAME_COLUMN in names
    if has_name and keywords:
        rests = sorted(
            {k[i + 1 :] for k in keywords for i, ch in enumerate(k) if ch == " " and k[i + 1 :]}
        )
        # One regular expression over the normalised name (computed once per unit, below):
        # any keyword anywhere, or the rest of a keyword at the start.
        pattern = "|".join(
            [_re_literal(k) for k in keywords] + [f"^ {_re_literal(r)}" for r in rests]
        )
        conditions.append(f"regexp_matches(norm, {_quote(pattern)})")
    unit_name = _ident(UNIT_NAME_COLUMN) if has_name else "NULL::VARCHAR"
    norm = (
        f"' ' || strip_accents(upper({_ident(UNIT_NAME_COLUMN)})) || ' '"
        if has_name
        else "NULL::VARCHAR"
    )
    where = " OR ".join(conditions) or "FALSE"
    return (
        f"SELECT siren, min({_ident(LEGAL_COLUMN)}) AS {_ident(LEGAL_COLUMN)},"
        f" min(unit_name) AS {_ident(UNIT_NAME_COLUMN)}, count(*) AS copies FROM ("
        f"SELECT siren, {_ident(LEGAL_COLUMN)}, {unit_name} AS unit_name, {norm} AS norm"
        f" FROM {source}) WHERE siren IS NOT NULL AND ({where}) GROUP BY siren"
    )


def _re_literal(text: str) -> str:
    """Return text as a regular expression matching itself (RE2 syntax)."""
    return "".join(f"\\{ch}" if ch in r"\.+*?()|[]{}^$" else ch for ch in text)


def check_columns(names: Sequence[str], employers_only: bool) -> None:
    """Raise naming the first required column missing from the register."""
    needed = list(REQUIRED_COLUMNS) + ([EMPLOYER_COLUMN] if employers_only else [])
    missing = [c for c in needed if c not in names]
    if missing:
        raise RegistryError(f"registry lacks required column(s): {', '.join(missing)}")


@dataclass(frozen=True)
class _Lookup:
    """The typology compiled for the scan: codes become small positions, rules a table.

    Comparing each row's NAF code and legal category with every rule costs more than the
    rest of the scan, so each is looked up once in the sorted list of codes any rule names
    (np, lp: 1-based position, 0 when absent) and the first category matched by rules
    without name keywords is read from a flat table indexed by (np, lp). Keyword rules,
    which need the name, are checked only on the rows their codes allow.
    """

    nafs: tuple[str, ...]
    legal: tuple[str, ...]
    base: tuple[int, ...]  # category index (NO_CATEGORY if none) at np + (len(nafs)+1) * lp
    keyword_rules: tuple[tuple[int, Rule], ...]  # (category index, rule), in typology order
    keyword_codes: tuple[bool, ...]  # at np + (len(nafs)+1) * lp: may a keyword rule match?

    @classmethod
    def build(cls, typology: Typology, has_legal: bool) -> _Lookup:
        rules = [
            (i, r)
            for i, cat in enumerate(typology.categories)
            for r in cat.rules
            if has_legal or not r.legal_categories
        ]
        nafs = tuple(sorted({c for _i, r in rules for c in r.naf}))
        legal = tuple(sorted({c for _i, r in rules for c in r.legal_categories}))

        def codes_match(r: Rule, naf: str | None, code: str | None) -> bool:
            return (not r.naf or naf in r.naf) and (
                not r.legal_categories or code in r.legal_categories
            )

        base, keyword_codes = [], []
        for lp in range(len(legal) + 1):
            for np_ in range(len(nafs) + 1):
                naf = nafs[np_ - 1] if np_ else None
                code = legal[lp - 1] if lp else None
                base.append(
                    next(
                        (i for i, r in rules if not r.name_keywords and codes_match(r, naf, code)),
                        NO_CATEGORY,
                    )
                )
                keyword_codes.append(
                    any(r.name_keywords and codes_match(r, naf, code) for _i, r in rules)
                )
        keyword = tuple((i, r) for i, r in rules if r.name_keywords)
        return cls(nafs, legal, tuple(base), keyword, tuple(keyword_codes))

    def rule_codes(self, rule: Rule) -> str:
        """Return the condition on (np, lp) of one rule's NAF and legal-category parts."""
        parts = []
        if rule.naf:
            parts.append(f"np IN ({', '.join(str(self.nafs.index(c) + 1) for c in rule.naf)})")
        if rule.legal_categories:
            positions = ", ".join(str(self.legal.index(c) + 1) for c in rule.legal_categories)
            parts.append(f"lp IN ({positions})")
        return " AND ".join(parts)

    def table_index(self) -> str:
        """Return the 1-based index into base and keyword_codes of a row's (np, lp)."""
        return f"1 + np + {len(self.nafs) + 1} * lp"


def _string_hashes(codes: Sequence[str], con: duckdb.DuckDBPyConnection | None = None) -> list[int]:
    """Return DuckDB's hash() of each code, as the scan will compute it on the column (in
    con if given: opening an in-memory database costs more than the hashing)."""
    own = con is None
    con = duckdb.connect() if own else con
    try:
        calls = ", ".join("hash(?::VARCHAR)" for _ in codes)
        return list(con.execute(f"SELECT {calls}", list(codes)).fetchone())
    finally:
        if own:
            con.close()


def position_sql(
    column: str,
    codes: Sequence[str],
    max_slots: int | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> str:
    """Return the 1-based position of column in the codes (0 if absent or NULL).

    This lookup runs on every active row, so it is a perfect hash rather than a search:
    the smallest table size m for which DuckDB's hash() of the codes falls in distinct
    slots is found here, and the row reads the one slot its own hash names, then checks
    that slot's code. That is one hash and one string comparison per row instead of the
    five comparisons of a binary search (about half the lookup's time). Should no size up
    to max_slots (by default 64 per code) separate the codes, list_position is used.
    con, if given, is the database the codes are hashed in (else a new one).
    """
    if not codes:
        return "0"
    hashes = _string_hashes(codes, con)
    limit = max_slots if max_slots is not None else 64 * len(codes)
    size = next(
        (m for m in range(len(codes), limit + 1) if len({h % m for h in hashes}) == len(codes)),
        None,
    )
    if size is None:
        listed = ", ".join(map(_quote, codes))
        return f"coalesce(list_position([{listed}], {column}), 0)"
    slot_code, slot_position = [""] * size, [0] * size
    for i, (code, h) in enumerate(zip(codes, hashes, strict=True)):
        slot_code[h % size], slot_position[h % size] = code, i + 1
    slot = f"((hash({column}) % {size})::BIGINT + 1)"
    return (
        f"CASE WHEN [{', '.join(map(_quote, slot_code))}][{slot}] = {column}"
        f" THEN [{', '.join(map(str, slot_position))}][{slot}] ELSE 0 END"
    )


def _name_expr(names: Sequence[str]) -> str | None:
    present = [c for c in NAME_COLUMNS if c in names]
    if not present:
        return None
    joined = " || ' ' || ".join(f"coalesce({_ident(c)}, '')" for c in present)
    return f"(' ' || strip_accents(upper({joined})) || ' ')"


def keyword_name_sql(lookup: _Lookup, names: Sequence[str]) -> str:
    """Return the normalised name, computed only for rows a keyword rule could match.

    Upper-casing and stripping accents from every name of a multi-million-row register
    would cost more than the rest of the scan, so rows whose NAF and legal category rule
    out every keyword rule (read from a table indexed by np, lp) get NULL.
    """
    name_expr = _name_expr(names)
    if name_expr is None or not any(lookup.keyword_codes):
        return "NULL"
    allowed = "[" + ", ".join("true" if k else "false" for k in lookup.keyword_codes) + "]"
    # Keywords are never blank, so a row without any name cannot match: skip it too.
    named = " OR ".join(f"{_ident(c)} IS NOT NULL" for c in NAME_COLUMNS if c in names)
    return (
        f"CASE WHEN (np <> 0 OR lp <> 0) AND {allowed}[{lookup.table_index()}]"
        f" AND ({named}) THEN {name_expr} END"
    )


def base_sql(lookup: _Lookup) -> str:
    """Return the first category matched by rules without keywords, read from the table.

    Most rows carry no listed code: they skip the table at once.
    """
    table = f"[{', '.join(map(str, lookup.base))}]"
    return (
        f"CASE WHEN np = 0 AND lp = 0 THEN {NO_CATEGORY} ELSE {table}[{lookup.table_index()}] END"
    )


def category_sql(lookup: _Lookup) -> str:
    """Return the expression giving a row's category index (NO_CATEGORY if none) from np, lp
    and kwname (first matching category wins, as in Typology.classify).

    The table lookup (base_sql) is written into each branch rather than computed as a column:
    a row takes one branch, and only rows that reach this expression (active, well-formed
    ones) pay for it.
    """
    base = f"({base_sql(lookup)})"
    whens = []
    for i, rule in lookup.keyword_rules:
        words = " OR ".join(f"contains(kwname, {_quote(k)})" for k in rule.name_keywords)
        # A keyword category wins unless a rule without keywords matched an earlier one.
        whens.append(f"WHEN {lookup.rule_codes(rule)} AND ({words}) THEN least({i}, {base})")
    if not whens:
        return base
    # kwname is NULL unless some keyword rule's codes match: those rows read the table only.
    return f"CASE WHEN kwname IS NULL THEN {base} {' '.join(whens)} ELSE {base} END"


def siret_ok_sql(column: str) -> str:
    """Return whether column is exactly 14 ASCII digits (NULL gives FALSE).

    The regular expression costs more than any other step of the scan, so most sirets are
    settled by a quicker test that can only accept 14 digits: 14 bytes, a first byte from
    1 to 9, no exponent mark, and a value of at least 10^13 as a number. A number cast
    accepts more than digits (spaces, sign, separators, a decimal point, hex after 0), but
    a 14-byte text holding any such character holds at most 13 digits, which without an
    exponent cannot make 10^13. Sirets starting with 0, and anything the quick test does
    not accept, go to the regular expression, so the answer is the expression's.
    """
    quick = (
        f"{column} >= '1' AND strlen({column}) = 14"
        f" AND TRY_CAST({column} AS UBIGINT) >= 10000000000000"
        f" AND NOT contains({column}, 'e') AND NOT contains({column}, 'E')"
    )
    return (
        f"CASE WHEN {quick} THEN TRUE"
        f" ELSE coalesce(regexp_full_match({column}, '[0-9]{{14}}'), FALSE) END"
    )


# Row statuses packed with the category, employer and NAFRev2 flags into one small integer
# per row, so the scan groups by (commune, code) only.
STATUS_CODES = {"bad_siret": 1, "inactive": 2, "bad_state": 3, "missing_commune": 4}
OK_BASE = 100
NO_CATEGORY = 99


def scan_sql(
    source: str,
    names: Sequence[str],
    typology: Typology,
    employers_only: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
) -> str:
    """Return the single-scan aggregation over the register: (commune, code, n).

    The number of (commune, code) groups drives the cost of the scan, so the key carries
    only what later steps read: the commune of rows that are not ok is dropped (their
    status alone is counted), and the employer flag only when employers_only needs it.
    The status comes first, so closed establishments (most of a full stock file) skip the
    siret check and the code lookups: a closed row counts as inactive whatever its siret,
    and bad_siret counts the rows that would otherwise have been counted. con, if given,
    is the database that will run the query (the code lists' hashes are computed there).
    """
    has_legal = LEGAL_COLUMN in names
    lookup = _Lookup.build(typology, has_legal)
    # Flags computed only where the row is ok (in the CASE branch), not for every row.
    use_employer = employers_only and EMPLOYER_COLUMN in names
    employer = f"coalesce({_ident(EMPLOYER_COLUMN)} = 'O', FALSE)" if use_employer else "FALSE"
    employer_col = f"{_ident(EMPLOYER_COLUMN)}, " if use_employer else ""
    nafrev2 = "coalesce(nomenclature = 'NAFRev2', FALSE)"
    siret = _ident("siret")
    np_sql = (
        f"CASE WHEN status = 0 AND nomenclature = 'NAFRev2'"
        f" THEN {position_sql('naf', lookup.nafs, con=con)} ELSE 0 END"
        if lookup.nafs
        else "0"
    )
    # The listed legal categories are few and close together (public bodies, 7xxx), while
    # most establishments are companies or associations: a range test, two comparisons,
    # spares most rows the lookup (and is false on NULL).
    lp_sql = (
        f"CASE WHEN status = 0 AND legal BETWEEN {_quote(lookup.legal[0])}"
        f" AND {_quote(lookup.legal[-1])}"
        f" THEN {position_sql('legal', lookup.legal, con=con)} ELSE 0 END"
        if lookup.legal
        else "0"
    )
    legal_col = f"{_ident(LEGAL_COLUMN)} AS legal, " if has_legal else ""
    name_cols = "".join(f"{_ident(n)}, " for n in NAME_COLUMNS if n in names)
    c = STATUS_CODES
    return f"""
    SELECT CASE WHEN code >= {OK_BASE} THEN commune END AS commune, code, count(*) AS n FROM (
      SELECT commune,
        CASE WHEN status <> 0 THEN status
             ELSE {OK_BASE} + 4 * ({category_sql(lookup)})
                  + 2 * ({employer})::INTEGER + ({nafrev2})::INTEGER
        END::SMALLINT AS code
      FROM (
        SELECT *, {keyword_name_sql(lookup, names)} AS kwname FROM (
          SELECT *, {np_sql} AS np, {lp_sql} AS lp FROM (
            SELECT *,
              CASE WHEN state = 'F' THEN {c["inactive"]}
                   WHEN NOT ({siret_ok_sql(siret)}) THEN {c["bad_siret"]}
                   WHEN state IS DISTINCT FROM 'A' THEN {c["bad_state"]}
                   WHEN commune IS NULL OR commune = '' THEN {c["missing_commune"]}
                   ELSE 0 END AS status
            FROM (
              SELECT {siret}, {legal_col}{name_cols}{employer_col}
                     {_ident("etatAdministratifEtablissement")} AS state,
                     {_ident("codeCommuneEtablissement")} AS commune,
                     {_ident("activitePrincipaleEtablissement")} AS naf,
                     {_ident("nomenclatureActivitePrincipaleEtablissement")} AS nomenclature
              FROM {source}
            )
          )
        )
      )
    ) GROUP BY ALL
    """


def unpack_sql(typology: Typology) -> str:
    """Return the query decoding (commune, code, n) into named columns."""
    keys = "[" + ", ".join(map(_quote, typology.category_keys)) + "]"
    statuses = " ".join(f"WHEN {v} THEN {_quote(k)}" for k, v in STATUS_CODES.items())
    return f"""
    SELECT CASE WHEN code < {OK_BASE} THEN CASE code {statuses} END ELSE 'ok' END AS status,
           commune,
           CASE WHEN code >= {OK_BASE} AND (code - {OK_BASE}) // 4 <> {NO_CATEGORY}
                THEN {keys}[(code - {OK_BASE}) // 4 + 1] END AS category,
           code >= {OK_BASE} AND ((code - {OK_BASE}) // 2) % 2 = 1 AS employer,
           code >= {OK_BASE} AND (code - {OK_BASE}) % 2 = 1 AS nafrev2,
           n
    FROM scan
    """


ARRONDISSEMENTS = (
    ("75101", "75120", "75056"),
    ("69381", "69389", "69123"),
    ("13201", "13216", "13055"),
)


def arrondissement_sql(column: str = "commune") -> str:
    """Return the SQL mapping arrondissement codes in column to their commune."""
    code = f"trim({column})"
    whens = " ".join(
        f"WHEN length({code}) = 5 AND {code} BETWEEN '{a}' AND '{b}' THEN '{p}'"
        for a, b, p in ARRONDISSEMENTS
    )
    return f"CASE {whens} ELSE {code} END"


ARRONDISSEMENT_SQL = arrondissement_sql()


def map_arrondissement(code: str) -> str:
    """Map a Paris/Lyon/Marseille arrondissement code to its commune code (as the scan does)."""
    code = str(code).strip()
    for first, last, parent in ARRONDISSEMENTS:
        if len(code) == 5 and first <= code <= last:
            return parent
    return code


def pad_code(values: pd.Series, width: int) -> pd.Series:
    """Strip codes and restore leading zeros of all-digit codes shorter than width."""
    text = values.astype("string").str.strip()
    digits = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    padded = text.where(~digits, text.str.zfill(width)).astype(object)
    return padded.where(padded.notna(), None)


def load_geography(path: str | Path, levels: Sequence[str]) -> pd.DataFrame:
    """Read an INSEE 'table d'appartenance géographique' (CSV or XLSX), keeping what we need."""
    geo = read_table(path, header_marker="CODGEO")
    needed = ["CODGEO", "LIBGEO"] + [LEVELS[lv] for lv in levels]
    missing = [c for c in dict.fromkeys(needed) if c not in geo.columns]
    if missing:
        raise RegistryError(f"geography table lacks column(s): {', '.join(missing)}")
    keep = [c for c in dict.fromkeys(needed + list(LEVEL_NAME_COLUMNS.values())) if c in geo]
    geo = geo[keep].dropna(subset=["CODGEO"]).copy()
    for col, width in CODE_WIDTHS.items():
        if col in geo:
            geo[col] = pad_code(geo[col], width)
    if geo["CODGEO"].duplicated().any():
        dup = geo.loc[geo["CODGEO"].duplicated(), "CODGEO"].iloc[0]
        raise RegistryError(f"geography table lists commune {dup} twice")
    names = _supra_names(path) if suffix_of(path) in (".xlsx", ".xlsm") else {}
    for level, col in LEVEL_NAME_COLUMNS.items():
        if col not in geo and level in names and LEVELS[level] in geo:
            geo[col] = geo[LEVELS[level]].map(names[level])
    return geo.reset_index(drop=True)


def _supra_names(path: str | Path) -> dict[str, dict[str, str]]:
    """Return level -> code -> label from INSEE's 'zones supra-communales' sheet if any."""
    from analysis.file_io import _rows_to_frame, read_xlsx_sheets

    for rows in read_xlsx_sheets(Path(path)).values():
        frame = _rows_to_frame(rows, "NIVGEO")
        if frame is not None and {"CODGEO", "LIBGEO"} <= set(frame.columns):
            return {
                lv: dict(zip(sub["CODGEO"].astype(str), sub["LIBGEO"].astype(str), strict=True))
                for lv, niv in NIVGEO.items()
                for sub in [frame[frame["NIVGEO"] == niv]]
            }
    return {}


def load_commune_values(path: str | Path, candidates: Sequence[str], what: str) -> pd.Series:
    """Read a table keyed by CODGEO and return its value column (population or area)."""
    table = read_table(path, header_marker="CODGEO")
    if "CODGEO" not in table.columns:
        raise RegistryError(f"{what} table lacks column CODGEO")
    upper = {str(c).upper(): c for c in table.columns}
    col = next((upper[c] for c in candidates if c in upper), None)
    if col is None:
        others = [c for c in table.columns if c != "CODGEO"]
        if len(others) != 1:
            raise RegistryError(
                f"{what} table needs a value column named one of {', '.join(candidates)}"
            )
        col = others[0]
    values = to_number(table[col])
    bad = int(values.isna().sum())
    if bad:
        raise RegistryError(f"{what} table: {bad} unparsable value(s) in column {col}")
    return pd.Series(values.to_numpy(), index=pad_code(table["CODGEO"], 5).to_numpy())


CURATED_COMMUNE_COLUMNS = ("CODGEO", "COMMUNE", "CODECOMMUNE", "CODE_COMMUNE")


def load_curated(path: str | Path, typology: Typology) -> pd.DataFrame:
    """Read a curated list of relay actors that SIRENE does not show (one row per actor:
    a commune code and a typology category key; other columns, such as a name or a
    source, are kept in the file for the reader) and return (commune, category, n)."""
    table = read_table(path)
    upper = {str(c).strip().upper(): c for c in table.columns}
    commune = next((upper[c] for c in CURATED_COMMUNE_COLUMNS if c in upper), None)
    category = upper.get("CATEGORY")
    if commune is None or category is None:
        raise RegistryError(
            f"curated list {Path(path).name} needs a column CODGEO (the"
            " commune code) and a column category (a typology key)"
        )
    frame = pd.DataFrame(
        {
            "commune": pad_code(table[commune], 5),
            "category": table[category].astype("string").str.strip(),
        }
    )
    blank = frame["commune"].isna() | frame["category"].isna() | (frame["category"] == "")
    if blank.any():
        first = int(np.flatnonzero(blank.to_numpy())[0]) + 2  # the header is line 1
        raise RegistryError(
            f"curated list {Path(path).name}: {int(blank.sum())} row(s) without"
            f" a commune or a category (first on line {first})"
        )
    unknown = sorted(set(frame["category"]) - set(typology.category_keys))
    if unknown:
        raise RegistryError(
            f"curated list {Path(path).name}: unknown categor"
            f"{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown[:3])}"
            f" (the typology's keys: {', '.join(typology.category_keys[:4])}, ...)"
        )
    counted = frame.groupby(["commune", "category"]).size().rename("n").reset_index()
    return counted.astype({"commune": object, "category": object, "n": "int64"})


def compute_registry(
    registry: str | Path,
    geography: str | Path,
    levels: Sequence[str] = ("departement",),
    population: str | Path | None = None,
    area: str | Path | None = None,
    employers_only: bool = False,
    typology: Typology | None = None,
    conf: float = 0.95,
    progress: Progress | None = None,
    memory_limit: str = "1GB",
    threads: int | None = None,
    legal_units: str | Path | None = None,
    curated: str | Path | None = None,
) -> RegistryResult:
    """Count relay actors and compute D1/D2 indices for every territory of each level.

    legal_units is SIRENE's legal-unit stock (StockUniteLegale), joined by siren to give
    the establishments their legal category and the unit's name, which the establishment
    stock lacks; a register that already has them needs no join. curated is a list of relay
    actors SIRENE does not show (load_curated), added to the counts of their territories
    and to the national total the location quotient compares with.
    """
    say = progress or (lambda _msg: None)
    levels = list(dict.fromkeys(levels))
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise RegistryError(f"unknown level {bad[0]}: use one of {', '.join(LEVELS)}")
    typ = typology or load_typology()
    source, names = register_source(registry)
    check_columns(names, employers_only)
    units = _check_legal_units(legal_units, names) if legal_units is not None else None
    extra = load_curated(curated, typ) if curated is not None else None
    geo = load_geography(geography, levels)
    geo = _attach(geo, population, POPULATION_COLUMNS, "population", "POP")
    geo = _attach(geo, area, AREA_COLUMNS, "area", "AREA")
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = {_quote(memory_limit)}")
        con.execute("SET enable_progress_bar = false")  # stdout belongs to the caller
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        unit_info: dict[str, int] = {}
        if units is not None:
            source, names, unit_info = _join_legal_units(con, source, names, units, typ, say)
        say(f"scanning {Path(registry).name} ...")
        try:
            query = scan_sql(source, names, typ, employers_only, con)
            con.execute(f"CREATE TEMP TABLE scan AS {query}")
        except duckdb.Error as exc:
            raise RegistryError(
                f"cannot read registry {Path(registry).name}: {str(exc).splitlines()[0]}"
            ) from exc
        unparsable = _rejects(con, registry)
        say("scan done; aggregating by territory")
        result = _aggregate(con, typ, levels, employers_only, conf, unparsable, names, geo, extra)
        result.info.update(unit_info)
        if units is not None and not unit_info.get("legal_units_kept"):
            result.warnings.append(
                f"no legal unit in {Path(units[0]).name} has a legal category or a name the"
                " typology's rules read: is it SIRENE's StockUniteLegale?"
            )
    finally:
        con.close()
    return result


def _attach(
    geo: pd.DataFrame, path: str | Path | None, cands: Sequence[str], what: str, col: str
) -> pd.DataFrame:
    if path is None:
        return geo
    values = load_commune_values(path, cands, what)
    values = values.groupby(level=0).sum()
    geo[col] = geo["CODGEO"].map(values)
    return geo


def _check_legal_units(path: str | Path, names: Sequence[str]) -> tuple[str | Path, str, list[str]]:
    """Check the register and the legal-unit file can be joined; return (path, source,
    names) of the legal-unit file."""
    if "siren" not in names:
        raise RegistryError("registry lacks column siren, needed to join the legal units")
    already = [c for c in (LEGAL_COLUMN, UNIT_NAME_COLUMN) if c in names]
    if already:
        raise RegistryError(
            f"registry already has {already[0]}: leave out the legal-unit file, or that column"
        )
    source, unit_names = register_source(path, what="legal-unit")
    missing = [c for c in UNIT_REQUIRED_COLUMNS if c not in unit_names]
    if missing:
        raise RegistryError(
            f"legal-unit file {Path(path).name} lacks column(s): {', '.join(missing)}"
        )
    return path, source, unit_names


def _join_legal_units(
    con: duckdb.DuckDBPyConnection,
    source: str,
    names: list[str],
    units: tuple[str | Path, str, list[str]],
    typ: Typology,
    say: Progress,
) -> tuple[str, list[str], dict[str, int]]:
    """Keep the legal units that matter and return the register joined to them by siren."""
    path, unit_source, unit_names = units
    say(f"reading legal units from {Path(path).name} ...")
    try:
        con.execute(
            "CREATE TEMP TABLE legal_units AS " + legal_units_sql(unit_source, unit_names, typ)
        )
    except duckdb.Error as exc:
        raise RegistryError(
            f"cannot read legal-unit file {Path(path).name}: {str(exc).splitlines()[0]}"
        ) from exc
    kept, repeated = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE copies > 1) FROM legal_units"
    ).fetchone()
    joined = (
        f"(SELECT e.*, u.{_ident(LEGAL_COLUMN)}, u.{_ident(UNIT_NAME_COLUMN)}"
        f" FROM {source} e LEFT JOIN legal_units u ON u.siren = e.siren)"
    )
    info = {"legal_units_kept": int(kept), "legal_units_unparsable": _rejects(con, path)}
    if repeated:
        info["legal_units_listed_twice"] = int(repeated)
    return joined, [*names, LEGAL_COLUMN, UNIT_NAME_COLUMN], info


def _rejects(con: duckdb.DuckDBPyConnection, path: str | Path) -> int:
    """Return the lines of the CSV file at path that could not be parsed (0 for Parquet)."""
    if suffix_of(path) == ".parquet":
        return 0
    try:
        row = con.execute(
            "SELECT count(DISTINCT (e.scan_id, e.line)) FROM reject_errors e"
            " JOIN reject_scans s ON s.scan_id = e.scan_id AND s.file_id = e.file_id"
            " WHERE s.file_path = ?",
            [str(Path(path))],
        ).fetchall()[0]
    except duckdb.Error:
        return 0
    return int(row[0]) if row else 0


def _locate_sql(rows: str, picked: str) -> str:
    """Return rows (with a commune column) with their commune code (arrondissements
    mapped), whether the geography knows it, and the picked level codes."""
    return (
        f"SELECT u.*, g.CODGEO IS NOT NULL AS known{picked}"
        f" FROM (SELECT *, {ARRONDISSEMENT_SQL} AS codgeo FROM ({rows})) u"
        f" LEFT JOIN geo_codes g ON g.CODGEO = u.codgeo"
    )


def _unknown_communes(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Return the most frequent communes of table's ok rows the geography lacks, as text."""
    found = con.execute(
        f"SELECT codgeo, sum(n) FROM {table} WHERE status = 'ok' AND NOT known"
        " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5"
    ).fetchall()
    return ", ".join(f"{c} ({n})" for c, n in found)


def _aggregate(
    con: duckdb.DuckDBPyConnection,
    typ: Typology,
    levels: Sequence[str],
    employers_only: bool,
    conf: float,
    unparsable: int,
    names: Sequence[str],
    geo: pd.DataFrame,
    curated: pd.DataFrame | None = None,
) -> RegistryResult:
    # The scan's rows decoded, located once with every level's code: the level tables then
    # read this one small table without joining again.
    level_cols = list(dict.fromkeys(LEVELS[lv] for lv in levels))
    con.register("geo_frame", geo[list(dict.fromkeys(["CODGEO", *level_cols]))])
    con.execute("CREATE TEMP TABLE geo_codes AS SELECT * FROM geo_frame")
    con.unregister("geo_frame")
    picked = "".join(f", g.{_ident(c)} AS {_ident('level_' + c)}" for c in level_cols)
    con.execute(f"CREATE TEMP TABLE located AS {_locate_sql(unpack_sql(typ), picked)}")
    status = dict(
        con.execute(
            "SELECT CASE WHEN status = 'ok' AND NOT known THEN 'unknown_commune' ELSE status END,"
            " sum(n) FROM located GROUP BY 1"
        ).fetchall()
    )
    malformed = {k: int(status.get(k, 0)) for k in MALFORMED if k != "unparsable"}
    malformed["unparsable"] = unparsable
    ok = "status = 'ok' AND known"
    info = {
        "rows_read": int(sum(status.values())) + unparsable,
        "inactive": int(status.get("inactive", 0)),
        "active_kept": int(status.get("ok", 0)),
        "active_not_nafrev2": int(
            con.execute(
                f"SELECT coalesce(sum(n), 0) FROM located WHERE {ok} AND NOT nafrev2"
            ).fetchall()[0][0]
        ),
    }
    warnings = _warnings(con, names, typ)
    if curated is not None:
        info.update(_add_curated(con, curated, picked, warnings))
    firm_filter = " AND employer" if employers_only else ""
    totals = con.execute(
        f"SELECT coalesce(sum(n) FILTER (WHERE category IS NOT NULL), 0),"
        f" coalesce(sum(n) FILTER (WHERE category IS NULL{firm_filter}), 0)"
        f" FROM located WHERE {ok}"
    ).fetchall()[0]
    ref_rate = totals[0] / totals[1] if totals[1] else None
    frames = [_level_table(con, typ, lv, firm_filter, ok, ref_rate, conf, geo) for lv in levels]
    table = pd.concat(frames, ignore_index=True)[OUTPUT_COLUMNS]
    return RegistryResult(table, malformed, info, typ.version, warnings)


def _add_curated(
    con: duckdb.DuckDBPyConnection, curated: pd.DataFrame, picked: str, warnings: list[str]
) -> dict[str, int]:
    """Add the curated actors to the located rows as relay establishments of their commune
    (arrondissements mapped); those in communes the geography lacks are left out and named."""
    con.register("curated_frame", curated)
    rows = (
        "SELECT 'ok' AS status, commune, category, FALSE AS employer, TRUE AS nafrev2,"
        " n::BIGINT AS n FROM curated_frame"
    )
    con.execute(f"CREATE TEMP TABLE curated_located AS {_locate_sql(rows, picked)}")
    con.unregister("curated_frame")
    con.execute("INSERT INTO located BY NAME SELECT * FROM curated_located WHERE known")
    added, lost = con.execute(
        "SELECT coalesce(sum(n) FILTER (WHERE known), 0),"
        " coalesce(sum(n) FILTER (WHERE NOT known), 0)"
        " FROM curated_located"
    ).fetchone()
    out = {"curated_actors_added": int(added)}
    if lost:
        out["curated_actors_unknown_commune"] = int(lost)
        warnings.append(
            "curated actors in communes not in geography, left out: "
            + _unknown_communes(con, "curated_located")
        )
    return out


def _warnings(con: duckdb.DuckDBPyConnection, names: Sequence[str], typ: Typology) -> list[str]:
    out = []
    if LEGAL_COLUMN not in names and any(
        r.legal_categories for c in typ.categories for r in c.rules
    ):
        out.append(f"no {LEGAL_COLUMN} column: rules on legal categories cannot match")
    if not any(c in names for c in NAME_COLUMNS):
        out.append("no establishment name column: rules on name keywords cannot match")
    unknown = _unknown_communes(con, "located")
    if unknown:
        out.append(f"communes not in geography (most frequent): {unknown}")
    return out


def _level_table(
    con: duckdb.DuckDBPyConnection,
    typ: Typology,
    level: str,
    firm_filter: str,
    ok: str,
    ref_rate: float | None,
    conf: float,
    geo: pd.DataFrame,
) -> pd.DataFrame:
    """Compute every indicator for the territories of one level as long rows."""
    col = LEVELS[level]
    # One pass: relay counts by category, and the firm base on the category-less row
    # (zero, not absent, for a territory whose establishments are all filtered out).
    rows = con.execute(f"""
        SELECT {_ident("level_" + col)} AS code, category,
               coalesce(sum(n) FILTER (WHERE category IS NOT NULL OR (TRUE{firm_filter})), 0)
                   AS n
        FROM located WHERE {ok} AND {_ident("level_" + col)} IS NOT NULL
        GROUP BY ALL""").df()
    rows["code"] = rows["code"].astype(str)
    codes = sorted(rows["code"].unique())
    relay = rows[rows["category"].notna()]
    matrix = (
        relay.pivot_table(index="code", columns="category", values="n", aggfunc="sum")
        .reindex(index=codes, columns=typ.category_keys)
        .fillna(0)
        .to_numpy(float)
    )
    firm_n = (
        rows[rows["category"].isna()]
        .groupby("code")["n"]
        .sum()
        .reindex(codes)
        .fillna(0)
        .to_numpy(float)
    )
    pop = _sum_by(geo, col, "POP", codes)
    area = _sum_by(geo, col, "AREA", codes)
    inds = indices.density_indicators(matrix.sum(axis=1), firm_n, pop, area, ref_rate, conf)
    families = [typ.family_of()[k] for k in typ.category_keys]
    inds.update(indices.diversity_indicators(matrix, families, len(typ.category_keys)))
    inds.update(_count_indicators(matrix, typ, families, conf))
    return _long(level, codes, _territory_names(geo, level, codes), inds)


def _sum_by(geo: pd.DataFrame, col: str, value: str, codes: list[str]) -> np.ndarray | None:
    """Sum a commune value over each territory; NaN if any commune lacks it."""
    if value not in geo:
        return None
    grouped = geo.groupby(col)[value].agg(lambda s: s.sum() if s.notna().all() else np.nan)
    return grouped.reindex(codes).to_numpy(float)


def _count_indicators(
    matrix: np.ndarray, typ: Typology, families: list[str], conf: float
) -> dict[str, indices.Indicator]:
    out = {}
    blank = np.full(matrix.shape[0], "", dtype=object)
    for j, key in enumerate(typ.category_keys):
        low, high = indices.garwood_interval(matrix[:, j], conf)
        out[f"count:{key}"] = indices.Indicator(matrix[:, j], low, high, blank.copy())
    fam = np.asarray(families)
    for f in typ.family_keys:
        n = matrix[:, fam == f].sum(axis=1)
        low, high = indices.garwood_interval(n, conf)
        out[f"count_family:{f}"] = indices.Indicator(n, low, high, blank.copy())
    return out


def _territory_names(geo: pd.DataFrame, level: str, codes: list[str]) -> list[str]:
    col, name_col = LEVELS[level], LEVEL_NAME_COLUMNS[level]
    if name_col not in geo:
        return ["" for _ in codes]
    names = geo.dropna(subset=[name_col]).drop_duplicates(col).set_index(col)[name_col]
    return [str(names.get(c, "")) for c in codes]


def _long(
    level: str, codes: list[str], names: list[str], inds: dict[str, indices.Indicator]
) -> pd.DataFrame:
    """Stack indicators into long rows, territory by territory, in a fixed order."""
    if codes and list(codes) == sorted(set(codes)):
        # Codes are unique and sorted: the row order is code-major, indicator-minor, so
        # the columns are built directly instead of sorting one frame per indicator.
        k = len(inds)

        def stack(attr: str) -> np.ndarray:
            return np.stack(
                [np.asarray(getattr(ind, attr)) for ind in inds.values()], axis=1
            ).ravel()

        frame = pd.DataFrame(
            {
                "territory_level": level,
                "territory_code": np.repeat(np.asarray(codes, dtype=object), k),
                "territory_name": np.repeat(np.asarray(names, dtype=object), k),
                "indicator": np.tile(np.asarray(list(inds), dtype=object), len(codes)),
                "value": stack("value"),
                "ci_low": stack("ci_low"),
                "ci_high": stack("ci_high"),
                "note": np.stack([ind.note.astype(str) for ind in inds.values()], axis=1)
                .ravel()
                .astype(object),
            }
        )
        return frame
    parts = []
    for name, ind in inds.items():
        parts.append(
            pd.DataFrame(
                {
                    "territory_level": level,
                    "territory_code": codes,
                    "territory_name": names,
                    "indicator": name,
                    "value": ind.value,
                    "ci_low": ind.ci_low,
                    "ci_high": ind.ci_high,
                    "note": ind.note.astype(str),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    order = {name: i for i, name in enumerate(inds)}
    frame["_o"] = frame["indicator"].map(order)
    frame = frame.sort_values(["territory_code", "_o"], kind="stable").drop(columns="_o")
    return frame.reset_index(drop=True)
