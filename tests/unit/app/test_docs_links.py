"""Every document the repository cites is in the repository.

Users and maintainers only have the repository: a `FOO.md` named in code, data or docs must
exist in it, and every relative link in the docs must lead to a file.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CITED = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
#: Markdown files the exports write for their users, named in code and tests, not documents
WRITTEN_BY_EXPORTS = {"dictionary.md", "x_dictionary.md"}
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".toml", ".cfg", ".ini", ".html", ".js", ".txt", ""}


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed if Path(name).suffix in TEXT_SUFFIXES]


def markdown_names() -> set[str]:
    return {p.name for p in ROOT.rglob("*.md") if ".venv" not in p.parts}


def cited_documents(text: str) -> set[str]:
    return {Path(match).name for match in CITED.findall(text)}


def test_every_cited_markdown_file_exists():
    present = markdown_names()
    missing = []
    for path in tracked_files():
        if not path.is_file() or path == Path(__file__):  # this file names examples
            continue
        for name in cited_documents(path.read_text(encoding="utf-8", errors="replace")):
            if name not in present and name not in WRITTEN_BY_EXPORTS:
                missing.append(f"{path.relative_to(ROOT)} cites {name}")
    assert missing == []


def test_relative_links_in_the_docs_lead_to_files():
    broken = []
    for doc in [*ROOT.glob("*.md"), *ROOT.glob("docs/**/*.md"), *ROOT.glob("*/**/README.md")]:
        if ".venv" in doc.parts:
            continue
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_citation_check_catches_a_missing_document():
    assert cited_documents("see DESIGN.md and docs/METHODS.md") == {"DESIGN.md", "METHODS.md"}
    assert "DESIGN.md" not in markdown_names()
