"""`milieu territories load`: INSEE geography into the territory hierarchy."""

import sqlalchemy as sa

from survey_app.cli import cli
from survey_app.demo.loader import demo_data_dir
from survey_app.extensions import db
from survey_app.models import Territory


def load(runner, *extra):
    data = demo_data_dir()
    return runner.invoke(
        cli, ["territories", "load", "--geography", str(data / "demo_geography.csv"), *extra]
    )


def test_load_builds_the_hierarchy_with_sizes(app, runner):
    data = demo_data_dir()
    result = load(
        runner,
        "--population",
        str(data / "demo_population.csv"),
        "--area",
        str(data / "demo_area.csv"),
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        beziers = db.session.scalar(sa.select(Territory).where(Territory.code == "34032"))
        assert (beziers.parent.code, beziers.parent.parent.code) == ("34", "76")
        assert beziers.zone_emploi.name == "Béziers"
        assert beziers.population == 80387 and round(beziers.area_km2, 2) == 95.48
        herault = beziers.parent
        communes = db.session.scalars(
            sa.select(Territory).where(
                Territory.level == "commune", Territory.parent_id == herault.id
            )
        ).all()
        assert herault.population == sum(c.population for c in communes)


def test_loading_again_adds_nothing_and_keeps_sizes(app, runner):
    data = demo_data_dir()
    load(runner, "--population", str(data / "demo_population.csv"))
    again = load(runner)
    assert again.exit_code == 0
    assert "0 commune" in again.output
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Territory.population).where(Territory.code == "34032"))
            == 80387
        )


def test_a_file_without_the_columns_is_refused_and_nothing_changes(app, runner):
    result = runner.invoke(
        cli, ["territories", "load", "--geography", str(demo_data_dir() / "demo_population.csv")]
    )
    assert result.exit_code == 1
    assert "lacks column" in result.output and "DEP" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Territory.id))) == 0
