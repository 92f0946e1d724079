"""The territory profile page: registry plus interviews, computed as a job, shown with charts."""

import re
import shutil

import pytest
import sqlalchemy as sa
from milieu_testing import COMPLETE_SME, csrf_token

from survey_app.demo.loader import demo_data_dir
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.models import Job, Territory
from survey_app.territories.operations import load_territories


def add_users(app, *people):
    from survey_app.auth.operations import create_user

    with app.app_context():
        for name, role in people:
            create_user(name, role, "correct horse")
        db.session.commit()


@pytest.fixture
def profile_data(app):
    """Two submitted SME interviews in Montpellier (Hérault) on the demo geography."""
    from survey_app.demo.loader import instruments_dir

    add_users(app, ("camille", "researcher"), ("ines", "fieldworker"))
    with app.app_context():
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
    return app


def test_profile_list_says_when_nothing_was_computed(profile_data):
    client = profile_data.test_client()
    log_in(client, "camille")
    page = client.get("/profiles/").get_data(as_text=True)
    assert '<td colspan="4">Aucun profil calculé pour l’instant.</td>' in page


def log_in(client, username: str) -> None:
    client.post(
        "/login",
        data={
            "username": username,
            "password": "correct horse",
            "csrf_token": csrf_token(client, "/login"),
        },
    )


def switch_language(client, lang: str) -> None:
    client.post("/language", data={"lang": lang, "csrf_token": csrf_token(client, "/")})


@pytest.fixture
def computed(profile_data):
    """camille's client and a finished profile job (departement level, 100 replicates)."""
    client = profile_data.test_client()
    log_in(client, "camille")
    response = client.post(
        "/profiles/",
        data={
            "csrf_token": csrf_token(client, "/profiles/"),
            "level": "departement",
            "n_boot": "100",
        },
    )
    assert response.status_code == 302
    with profile_data.app_context():
        job = db.session.scalar(sa.select(Job).where(Job.kind == "profile"))
        assert job.status == "done", job.error
        return client, job.id


def test_researcher_computes_a_profile_and_sees_charts(computed):
    client, job_id = computed
    page = client.get(f"/profiles/{job_id}").get_data(as_text=True)
    assert "Hérault (34)" in page
    assert "D4_GOV" in page and "D1" in page
    # two interviews: an honest warning, in the viewer's language (stored in English)
    assert "moins de 8 ; D3/D4 fragiles" in page and "fewer than" not in page
    switch_language(client, "en")
    english = client.get(f"/profiles/{job_id}").get_data(as_text=True)
    assert "fewer than 8; D3/D4 are fragile" in english and "moins de" not in english
    # dimensions and sources named in the viewer's language, their codes on hover
    assert '<td title="D4_GOV">D4 Gouvernance</td>' in page
    assert '<td title="coding">transcriptions codées</td>' in page
    assert '<td title="D4_GOV">D4 Governance</td>' in english
    assert '<td title="coding">coded transcripts</td>' in english
    switch_language(client, "fr")
    with client.get(f"/profiles/{job_id}/charts/comparison.svg") as chart:
        assert chart.status_code == 200 and b"<svg" in chart.data
    with client.get(f"/profiles/{job_id}/report.html") as report:
        assert report.status_code == 200 and b"Cronbach" in report.data
    assert client.get(f"/profiles/{job_id}/charts/..%2Fprofile.csv").status_code == 404


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
    for url in (
        "/profiles/1/charts/fr/comparison.svg",
        "/profiles/1/charts/comparison.svg",
        "/profiles/1/report.fr.html",
        "/profiles/1/report.html",
    ):
        assert client.get(url).status_code == 403, url


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
    # D3 and D4 say why they have no value, in the viewer's language
    assert "aucun entretien" in page and "une dimension manque" in page


def test_french_page_shows_french_charts_and_report(computed):
    client, job_id = computed
    page = client.get(f"/profiles/{job_id}").get_data(as_text=True)
    assert f"/profiles/{job_id}/charts/fr/comparison.svg" in page
    assert f"/profiles/{job_id}/charts/fr/territory_34.svg" in page
    assert f"/profiles/{job_id}/report.fr.html" in page
    assert "/charts/en/" not in page and "avant la traduction" not in page
    with client.get(f"/profiles/{job_id}/charts/fr/territory_34.svg") as chart:
        svg = chart.get_data(as_text=True)
    # matplotlib draws glyphs as paths and keeps each text in a comment beside them
    assert "D1 Densité" in svg and "score dans [0, 1]" in svg and "Density" not in svg
    with client.get(f"/profiles/{job_id}/report.fr.html") as report:
        html = report.get_data(as_text=True)
        assert report.headers["Content-Disposition"].endswith(f"milieu-profile-{job_id}-fr.html")
    assert '<html lang="fr">' in html and "Fiabilité des échelles" in html
    assert (
        "échelon : département" in html and '<td title="coding">transcriptions codées</td>' in html
    )
    # scores with a decimal comma, interval bounds split by a semicolon
    assert re.search(r"<td>[01],\d{3}</td>", page) and not re.search(r"<td>[01]\.\d{3}</td>", page)
    assert re.search(r"<td>\[[01],\d{3} ; [01],\d{3}\]</td>", page)
    # the list of jobs names their status in French
    listing = client.get("/profiles/").get_data(as_text=True)
    assert "<td>terminé</td>" in listing and "<td>done</td>" not in listing


def test_english_page_shows_english_charts_and_report(computed):
    client, job_id = computed
    switch_language(client, "en")
    page = client.get(f"/profiles/{job_id}").get_data(as_text=True)
    assert f"/profiles/{job_id}/charts/en/comparison.svg" in page
    assert f"/profiles/{job_id}/report.en.html" in page
    assert "/charts/fr/" not in page
    with client.get(f"/profiles/{job_id}/charts/en/comparison.svg") as chart:
        svg = chart.get_data(as_text=True)
    assert "D4 Governance" in svg and "with bootstrap intervals" in svg and "Gouvernance" not in svg
    with client.get(f"/profiles/{job_id}/report.en.html") as report:
        html = report.get_data(as_text=True)
    assert '<html lang="en">' in html and "Scale reliability" in html
    assert "<td>done</td>" in client.get("/profiles/").get_data(as_text=True)
    assert re.search(r"<td>\[[01]\.\d{3}, [01]\.\d{3}\]</td>", page)
    # the addresses without a language serve the viewer's
    with client.get(f"/profiles/{job_id}/charts/territory_34.svg") as chart:
        assert "D1 Density" in chart.get_data(as_text=True)
    with client.get(f"/profiles/{job_id}/report.html") as report:
        assert '<html lang="en">' in report.get_data(as_text=True)


def test_chart_route_serves_only_chart_files_of_the_job(computed, profile_data):
    from survey_app.profiles.operations import profile_folder

    client, job_id = computed
    with profile_data.app_context():
        folder = profile_folder(job_id)
    (folder / "secret.svg").write_text("<svg>outside the charts</svg>", encoding="utf-8")
    (folder / "charts" / "fr" / ".hidden.svg").write_text("<svg>hidden</svg>", encoding="utf-8")
    base = f"/profiles/{job_id}/charts"
    for url in (
        f"{base}/fr/..%2Fsecret.svg",
        f"{base}/fr/..%2F..%2Fsecret.svg",
        f"{base}/..%2Fsecret.svg",
        f"{base}/fr/..%5C..%5Csecret.svg",
        f"{base}/fr/%2E%2E%2Fsecret.svg",
        f"{base}/fr/.hidden.svg",
        f"{base}/fr/comparison.html",
        f"{base}/de/comparison.svg",
        f"/profiles/{job_id}/report.de.html",
    ):
        with client.get(url) as response:
            assert response.status_code == 404, url
    with client.get(f"{base}/fr/comparison.png") as png:
        assert png.status_code == 200 and png.data.startswith(b"\x89PNG")


def test_profile_folder_from_before_translations_stays_readable(computed, profile_data):
    """Older jobs wrote charts/ and report.html in English only: served with a note."""
    from survey_app.profiles.operations import profile_folder

    client, job_id = computed
    with profile_data.app_context():
        folder = profile_folder(job_id)
    for chart in (folder / "charts" / "en").iterdir():
        chart.rename(folder / "charts" / chart.name)
    shutil.rmtree(folder / "charts" / "en")
    shutil.rmtree(folder / "charts" / "fr")
    (folder / "report.en.html").rename(folder / "report.html")
    (folder / "report.fr.html").unlink()
    page = client.get(f"/profiles/{job_id}").get_data(as_text=True)
    assert "avant la traduction de ses graphiques" in page
    assert f"/profiles/{job_id}/charts/en/comparison.svg" in page
    with client.get(f"/profiles/{job_id}/charts/en/comparison.svg") as chart:
        assert chart.status_code == 200 and "D1 Density" in chart.get_data(as_text=True)
    with client.get(f"/profiles/{job_id}/charts/fr/comparison.svg") as chart:
        assert chart.status_code == 200  # the only charts there are
    with client.get(f"/profiles/{job_id}/report.fr.html") as report:
        assert report.status_code == 200 and "Cronbach" in report.get_data(as_text=True)


@pytest.mark.parametrize("backend", ["sqlite"])  # form checks, not the database
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Le nombre doit être compris entre 100 et 5000."),
        ("99", "Le nombre doit être compris entre 100 et 5000."),
        ("", "Ce champ est requis."),
    ],
)
def test_replicates_out_of_range_are_refused_with_the_range(profile_data, value, message):
    client = profile_data.test_client()
    log_in(client, "camille")
    response = client.post(
        "/profiles/",
        data={
            "csrf_token": csrf_token(client, "/profiles/"),
            "level": "departement",
            "n_boot": value,
        },
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with profile_data.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_configured_register_files_include_legal_units_and_curated_actors(sqlite_app, tmp_path):
    from survey_app.profiles.operations import registry_sources

    with sqlite_app.app_context():
        demo = registry_sources()
        assert demo["legal_units"] is None  # the demo extract carries the legal category
        assert demo["curated"] is None
        assert demo["registry"].name == "demo_registry.csv.gz"
        sqlite_app.config.update(CURATED_FILE=str(tmp_path / "tfe.csv"))
        assert registry_sources()["curated"] == tmp_path / "tfe.csv"  # beside the demo too
        sqlite_app.config.update(
            REGISTRY_FILE=str(tmp_path / "StockEtablissement.csv"),
            GEOGRAPHY_FILE=str(tmp_path / "geo.csv"),
            LEGAL_UNITS_FILE=str(tmp_path / "StockUniteLegale.csv"),
        )
        configured = registry_sources()
    assert configured == {
        "registry": tmp_path / "StockEtablissement.csv",
        "geography": tmp_path / "geo.csv",
        "population": None,
        "area": None,
        "legal_units": tmp_path / "StockUniteLegale.csv",
        "curated": tmp_path / "tfe.csv",
    }


def test_profile_rows_show_their_basis_and_say_when_too_few(computed):
    client, job_id = computed
    page = client.get(f"/profiles/{job_id}").get_data(as_text=True)
    herault = page[page.index("<h2>Hérault (34)</h2>") :]
    rows = re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", herault, re.S)
    likert = next(r for r in rows if 'title="D4_GOV"' in r and 'title="likert"' in r)
    # two answered interviews: no interval, the reason instead, and the basis
    assert "trop peu d’entretiens renseignés (n = 2)" in likert
    assert "[" not in likert
    assert "2 entretiens renseignés" in likert
    register = next(r for r in rows if 'title="D1"' in r)
    assert "répertoire :" in register and "acteurs-relais" in register
    assert "Entretiens dans ce territoire : 2 PME, 0 acteur-relais" in herault
    assert 'class="legend"' in herault and "Ligne surlignée" in herault
    switch_language(client, "en")
    english = client.get(f"/profiles/{job_id}").get_data(as_text=True)
    assert "too few answered interviews (n = 2)" in english and "2 interviews answered" in english
