"""Load and validate the versioned 4D codebook (instruments/codebook.yaml)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

FAMILIES: tuple[str, ...] = ("GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER")
#: Codes imported from another QDA tool under their own names live beside the families, in
#: the codebook's optional `imported` section: kept for exchange, outside the 4D themes, the
#: classifier's label space and the scores.
IMPORTED_FAMILY = "IMPORTED"
PREFIXES: dict[str, str] = {
    "GOV": "GOVERNANCE",
    "STR": "STRATEGY",
    "DYN": "DYNAMICS",
    "OTH": "OTHER",
}
CODE_FIELDS: tuple[str, ...] = (
    "label",
    "definition",
    "include",
    "exclude",
    "keywords",
    "example",
)


class CodebookError(ValueError):
    """Raised when a codebook file is unreadable or invalid."""


@dataclass(frozen=True)
class Code:
    """One leaf code of the codebook."""

    key: str
    family: str
    label: dict[str, str]
    definition: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    keywords: tuple[str, ...]
    example: str


@dataclass(frozen=True)
class Codebook:
    """An immutable codebook version: families, codes, version and file hash."""

    version: str
    sha256: str
    families: tuple[str, ...]
    code_map: dict[str, Code] = field(repr=False)
    family_labels: dict[str, dict[str, str]] = field(repr=False, default_factory=dict)
    #: imported codes by key: {label, definition, parent, color}; not in code_map
    imported: dict[str, dict[str, object]] = field(repr=False, default_factory=dict)

    @property
    def codes(self) -> list[str]:
        """Return the leaf code keys in file order."""
        return list(self.code_map)

    def family_of(self, code: str) -> str:
        """Return the family of a leaf code or of a family key itself."""
        if code in self.families:
            return code
        if code in self.code_map:
            return self.code_map[code].family
        raise KeyError(f"unknown code {code!r}")

    def codes_of(self, family: str) -> list[str]:
        """Return the leaf codes of one family."""
        return [k for k, c in self.code_map.items() if c.family == family]

    def is_known(self, code: str) -> bool:
        """Tell whether a string is a leaf code or a family key of this codebook."""
        return code in self.code_map or code in self.families


def default_codebook_path() -> Path:
    """Locate the shipped codebook file."""
    from milieu_instruments import path

    return path("codebook.yaml")


def _as_tuple(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CodebookError(f"{where}: expected a list of strings")
    return tuple(value)


def _parse_code(key: str, family: str, prefix: str, raw: object) -> Code:
    if not isinstance(raw, dict):
        raise CodebookError(f"code {key}: expected a mapping")
    missing = [f for f in CODE_FIELDS if f not in raw]
    if missing:
        raise CodebookError(f"code {key}: missing field(s) {', '.join(missing)}")
    if not key.startswith(prefix + "."):
        raise CodebookError(f"code {key}: must start with {prefix}. in family {family}")
    label = raw["label"]
    if not isinstance(label, dict) or not {"fr", "en"} <= set(label):
        raise CodebookError(f"code {key}: label needs fr and en")
    return Code(
        key=key,
        family=family,
        label={"fr": str(label["fr"]), "en": str(label["en"])},
        definition=str(raw["definition"]).strip(),
        include=_as_tuple(raw["include"], f"code {key} include"),
        exclude=_as_tuple(raw["exclude"], f"code {key} exclude"),
        keywords=_as_tuple(raw["keywords"], f"code {key} keywords"),
        example=str(raw["example"]),
    )


def parse_codebook(data: object, sha256: str = "") -> Codebook:
    """Validate a parsed YAML document and build the Codebook."""
    if not isinstance(data, dict):
        raise CodebookError("codebook: top level must be a mapping")
    if "version" not in data:
        raise CodebookError("codebook: missing version")
    fams = data.get("families")
    if not isinstance(fams, dict) or tuple(fams) != FAMILIES:
        raise CodebookError(f"codebook: families must be exactly {', '.join(FAMILIES)}")
    code_map: dict[str, Code] = {}
    labels: dict[str, dict[str, str]] = {}
    for family, fdata in fams.items():
        prefix = next(p for p, f in PREFIXES.items() if f == family)
        if not isinstance(fdata, dict) or not isinstance(fdata.get("codes"), dict):
            raise CodebookError(f"family {family}: needs a codes mapping")
        labels[family] = dict(fdata.get("label") or {})
        for key, raw in fdata["codes"].items():
            if key in code_map:
                raise CodebookError(f"code {key}: defined twice")
            code_map[key] = _parse_code(key, family, prefix, raw)
    imported = _parse_imported(data.get("imported") or {}, code_map)
    return Codebook(str(data["version"]), sha256, FAMILIES, code_map, labels, imported)


def _parse_imported(raw: object, code_map: dict[str, Code]) -> dict[str, dict[str, object]]:
    """Validate the `imported` section: any name, a label, an optional parent and colour."""
    if not isinstance(raw, dict):
        raise CodebookError("imported: expected a mapping of code names")
    result: dict[str, dict[str, object]] = {}
    for key, entry in raw.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 200:
            raise CodebookError(f"imported code {key!r}: needs a name of 1 to 200 characters")
        if key in code_map:
            raise CodebookError(f"code {key}: defined twice")
        if not isinstance(entry, dict) or not isinstance(entry.get("label"), dict):
            raise CodebookError(f"imported code {key}: needs a label")
        parent = entry.get("parent")
        if parent is not None and parent not in raw:
            raise CodebookError(f"imported code {key}: parent {parent!r} is not an imported code")
        result[key] = dict(entry)
    return result


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read, hash and validate a codebook YAML file (the shipped one by default)."""
    path = Path(path) if path is not None else default_codebook_path()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CodebookError(f"cannot read codebook {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CodebookError(f"codebook {path} is not valid YAML") from exc
    return parse_codebook(data, hashlib.sha256(raw).hexdigest())


@lru_cache(maxsize=1)
def default_codebook() -> Codebook:
    """Return the shipped codebook, loaded once."""
    return load_codebook()
