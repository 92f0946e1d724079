"""Package list only: the top-level data folders install under stable import names."""

from setuptools import find_namespace_packages, setup

# instruments/ and migrations/ stay at the repository's top level (docs/ARCHITECTURE.md) but
# install as milieu_instruments and milieu_migrations, so the code finds them in editable and
# normal installs alike.
DATA_PACKAGES = {"milieu_instruments": "instruments", "milieu_migrations": "migrations"}

# Namespace discovery lists the data folders (templates, static, translations, models, data)
# as packages too, so their files ship through package-data without setuptools warning that
# an importable folder is missing from `packages`.
EXCLUDE = ["*.__pycache__", "*.__pycache__.*"]

setup(
    packages=find_namespace_packages(
        include=["survey_app*", "coding*", "analysis*"], exclude=EXCLUDE
    )
    + list(DATA_PACKAGES)
    + ["milieu_migrations.versions"],
    package_dir=DATA_PACKAGES,
)
