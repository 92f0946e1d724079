"""Relay-actor typology: load and validate instruments/relay_typology.yaml."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: a NAF rev. 2 code (94.11Z), whole text: ASCII digits, no trailing newline; the organisation
#: form checks its NAF field with the same pattern
NAF_RE = re.compile(r"^[0-9]{2}\.[0-9]{2}[A-Z]\Z")
LEGAL_RE = re.compile(r"[0-9]{4}")
KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
FILE_NAME = "relay_typology.yaml"


class TypologyError(ValueError):
    """Raised when a typology file is invalid."""


@dataclass(frozen=True)
class Rule:
    """One identification rule; all present conditions must hold."""

    naf: tuple[str, ...] = ()
    legal_categories: tuple[str, ...] = ()
    name_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Category:
    """A relay-actor category with its family and rules."""

    key: str
    family: str
    label: dict[str, str]
    rules: tuple[Rule, ...]
    imprecision: str


@dataclass(frozen=True)
class Typology:
    """The versioned typology: families and ordered categories (first match wins)."""

    version: str
    families: dict[str, dict[str, str]]
    categories: tuple[Category, ...]
    source: str = field(default="", compare=False)

    @property
    def category_keys(self) -> list[str]:
        """Return category keys in evaluation order."""
        return [c.key for c in self.categories]

    @property
    def family_keys(self) -> list[str]:
        """Return family keys in file order."""
        return list(self.families)

    def family_of(self) -> dict[str, str]:
        """Return a mapping category key -> family key."""
        return {c.key: c.family for c in self.categories}

    def classify(
        self, naf: str | None, nafrev2: bool, legal: str | None, names: tuple[str | None, ...] = ()
    ) -> str | None:
        """Return the key of the first category matching one establishment, or None.

        The plain statement of the rules, one row at a time; the registry scan computes the
        same thing in SQL over millions of rows and is tested against this.
        """
        name = " " + _plain_upper(" ".join(n or "" for n in names)) + " "
        named = any(n is not None for n in names)
        for cat in self.categories:
            for rule in cat.rules:
                if rule.naf and not (nafrev2 and naf in rule.naf):
                    continue
                if rule.legal_categories and legal not in rule.legal_categories:
                    continue
                if rule.name_keywords and not (
                    named and any(k in name for k in rule.name_keywords)
                ):
                    continue
                return cat.key
        return None


def default_typology_path() -> Path:
    """Return the shipped typology file."""
    from milieu_instruments import path

    return path(FILE_NAME)


def load_typology(path: str | Path | None = None) -> Typology:
    """Load and validate a typology file (the packaged one by default)."""
    p = Path(path) if path is not None else default_typology_path()
    try:
        # libyaml's loader when PyYAML has it: ten times faster on this file
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=loader)
    except OSError as exc:
        raise TypologyError(f"cannot read typology {p}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise TypologyError(f"typology {p} is not valid YAML: {exc}") from exc
    return parse_typology(data, source=str(p))


def parse_typology(data: Any, source: str = "") -> Typology:
    """Validate a typology mapping and build a Typology."""
    if not isinstance(data, dict):
        raise TypologyError("typology must be a mapping with version, families, categories")
    for key in ("version", "families", "categories"):
        if key not in data:
            raise TypologyError(f"typology lacks '{key}'")
    families = data["families"]
    if not isinstance(families, dict) or not families:
        raise TypologyError("typology 'families' must be a non-empty mapping")
    fams = {str(k): _labels(v, f"family {k}") for k, v in families.items()}
    cats_raw = data["categories"]
    if not isinstance(cats_raw, list) or not cats_raw:
        raise TypologyError("typology 'categories' must be a non-empty list")
    cats = tuple(_category(c, fams) for c in cats_raw)
    _check_unique([c.key for c in cats])
    unused = [f for f in fams if not any(c.family == f for c in cats)]
    if unused:
        raise TypologyError(f"family without category: {', '.join(unused)}")
    return Typology(str(data["version"]), fams, cats, source)


def _labels(value: Any, where: str) -> dict[str, str]:
    label = value.get("label") if isinstance(value, dict) else None
    if not isinstance(label, dict) or "en" not in label:
        raise TypologyError(f"{where}: needs label with at least 'en'")
    return {str(k): str(v) for k, v in label.items()}


def _category(raw: Any, families: dict[str, dict[str, str]]) -> Category:
    if not isinstance(raw, dict) or "key" not in raw:
        raise TypologyError(f"category without key: {raw!r}")
    key = str(raw["key"])
    if not KEY_RE.fullmatch(key):
        raise TypologyError(f"category key '{key}' must be lower_snake_case")
    if raw.get("family") not in families:
        raise TypologyError(f"category {key}: unknown family '{raw.get('family')}'")
    if not str(raw.get("imprecision") or "").strip():
        raise TypologyError(f"category {key}: needs a note on its imprecision")
    rules = raw.get("rules")
    if not isinstance(rules, list) or not rules:
        raise TypologyError(f"category {key}: needs at least one rule")
    return Category(
        key=key,
        family=str(raw["family"]),
        label=_labels(raw, f"category {key}"),
        rules=tuple(_rule(r, key) for r in rules),
        imprecision=str(raw["imprecision"]).strip(),
    )


def _rule(raw: Any, key: str) -> Rule:
    if not isinstance(raw, dict):
        raise TypologyError(f"category {key}: a rule must be a mapping")
    unknown = set(raw) - {"naf", "legal_categories", "name_keywords"}
    if unknown:
        raise TypologyError(f"category {key}: unknown rule field(s) {sorted(unknown)}")
    naf = tuple(str(x) for x in raw.get("naf") or ())
    legal = tuple(str(x) for x in raw.get("legal_categories") or ())
    words = tuple(str(x) for x in raw.get("name_keywords") or ())
    if not naf and not legal:
        raise TypologyError(f"category {key}: every rule needs naf or legal_categories")
    for code in naf:
        if not NAF_RE.fullmatch(code):
            raise TypologyError(f"category {key}: bad NAF code '{code}' (expected like 94.11Z)")
    for code in legal:
        if not LEGAL_RE.fullmatch(code):
            raise TypologyError(f"category {key}: bad legal category '{code}' (4 digits)")
    for word in words:
        if word != _plain_upper(word) or not word.strip():
            raise TypologyError(f"category {key}: keyword '{word}' must be upper case, no accents")
    return Rule(naf, legal, words)


def _plain_upper(text: str) -> str:
    """Return text upper-cased without accents (how names are compared)."""
    decomposed = unicodedata.normalize("NFKD", text.upper())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _check_unique(keys: list[str]) -> None:
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            raise TypologyError(f"duplicate category key '{k}'")
        seen.add(k)
