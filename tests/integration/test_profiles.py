"""The territory profile page: registry plus interviews, computed as a job, shown with charts."""

import pytest
import sqlalchemy as sa
from milieu_testing import COMPLETE_SME

from survey_app.demo import demo_data_dir
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.fieldwork.territories import load_territories
from survey_app.models import Job, Territory


def add_users(app, *people):
    from survey_app.auth.operations import create_user

    with app.app_context():
        for name, role in people:
            create_user(name, role, "correct horse")
        db.session.commit()


@pytest.fixture
def profile_data(sqlite_app):
    """Two submitted SME interviews in Montpellier (Hérault) on the demo geography."""
    from survey_app.demo import instruments_dir

    add_users(sqlite_app, ("camille", "researcher"), ("ines", "fieldworker"))
    with sqlite_app.app_context():
        data = demo_data_dir()
        load_territories(data / "demo_geography.csv", data / "demo_population.csv")
        montpellier = db.session.scalar(sa.select(Territory).where(Territory.code == "34172"))
        version, _ = ops.load_instrument_file(instruments_dir() / "sme_manager.yaml")
        from survey_app.models import User

        ines = db.session.scalar(sa.select(User).where(User.username == "ines"))
        for n in range(2):
            org = ops.create_organisation(None, kind="sme", name=f"PME {n}", territory=montpellier)
            item = ops.create_interview(ines, version, org, None)
            ops.save_answers(item, COMPLETE_SME, item.version, ines)
            ops.submit_interview(item, item.version, ines)
        db.session.commit()
    return sqlite_app


def test_researcher_computes_a_profile_and_sees_charts(profile_data):
    client = profile_data.test_client()
    from milieu_testing import csrf_token

    token = csrf_token(client, "/login")
    client.post(
        "/login", data={"username": "camille", "password": "correct horse", "csrf_token": token}
    )
    response = client.post(
        "/profiles/",
        data={
            "csrf_token": csrf_token(client, "/profiles/"),
            "level": "departement",
            "n_boot": "200",
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hérault (34)" in page
    assert "D4_GOV" in page and "D1" in page
    assert "fewer than 8" in page or "moins de 8" in page  # two interviews: an honest warning
    with profile_data.app_context():
        job = db.session.scalar(sa.select(Job).where(Job.kind == "profile"))
        assert job.status == "done", job.error
    with client.get(f"/profiles/{job.id}/charts/comparison.svg") as chart:
        assert chart.status_code == 200 and b"<svg" in chart.data
    with client.get(f"/profiles/{job.id}/report.html") as report:
        assert report.status_code == 200 and b"Cronbach" in report.data
    assert client.get(f"/profiles/{job.id}/charts/..%2Fprofile.csv").status_code == 404


def test_fieldworkers_cannot_reach_profiles(profile_data):
    from milieu_testing import csrf_token

    client = profile_data.test_client()
    client.post(
        "/login",
        data={
            "username": "ines",
            "password": "correct horse",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert client.get("/profiles/").status_code == 403


def test_profile_without_interviews_shows_registry_dimensions_only(sqlite_app):
    from milieu_testing import csrf_token

    add_users(sqlite_app, ("camille", "researcher"))
    client = sqlite_app.test_client()
    client.post(
        "/login",
        data={
            "username": "camille",
            "password": "correct horse",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    response = client.post(
        "/profiles/",
        data={
            "csrf_token": csrf_token(client, "/profiles/"),
            "level": "departement",
            "n_boot": "100",
        },
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hérault (34)" in page and "Gard (30)" in page
    assert "is missing" in page  # D3 and D4 say why they have no value
