"""The import rules of docs/ARCHITECTURE.md, read off the source with ast (nothing imported)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
#: the rooms of a feature that other features may not enter: its pages and URL rules
#: (forms built from instruments, or a shared password field, are services and may be shared)
PAGE_MODULES = {"views", "blueprint", "api", "token_pages"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute, relative ones resolved against its package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def test_libraries_never_import_the_web_app():
    offenders = []
    for path in python_files("coding", "analysis"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in {"survey_app", "flask", "flask_login", "flask_wtf", "flask_sqlalchemy"}:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_coding_and_analysis_do_not_import_each_other():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for lib, other in (("coding", "analysis"), ("analysis", "coding"))
        for path in python_files(lib)
        for name in imported_modules(path)
        if name.split(".")[0] == other
    ]
    assert offenders == []


def test_features_never_import_each_others_pages():
    app = ROOT / "survey_app"
    offenders = []
    for path in python_files("survey_app"):
        own = path.relative_to(app).parts[0]
        for name in imported_modules(path):
            parts = name.split(".")
            if len(parts) >= 3 and parts[0] == "survey_app" and parts[1] != own:
                if parts[2] in PAGE_MODULES:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    # assembly.py registers the blueprints: it is the one place that may name them all
    offenders = [o for o in offenders if not o.startswith("survey_app/assembly.py")]
    assert offenders == []


def test_the_rule_checker_sees_a_forbidden_import(tmp_path, monkeypatch):
    """The checks above must be able to fail: a planted import is found."""
    planted = ROOT / "coding" / "_planted_for_test.py"
    planted.write_text("from survey_app.workspace import views\n", encoding="utf-8")
    try:
        assert "survey_app.workspace.views" in imported_modules(planted)
    finally:
        planted.unlink()
