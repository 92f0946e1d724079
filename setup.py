"""Package list only: the top-level data folders install under stable import names."""

from setuptools import find_packages, setup

# instruments/ and migrations/ stay at the repository's top level (docs/ARCHITECTURE.md) but
# install as milieu_instruments and milieu_migrations, so the code finds them in editable and
# normal installs alike.
DATA_PACKAGES = {"milieu_instruments": "instruments", "milieu_migrations": "migrations"}

setup(
    packages=find_packages(include=["survey_app*", "coding*", "analysis*"])
    + list(DATA_PACKAGES)
    + ["milieu_migrations.versions"],
    package_dir=DATA_PACKAGES,
)
