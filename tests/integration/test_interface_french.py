"""The French interface speaks French: no raw keys, plurals that agree, a French login notice."""

import re

import lxml.html
import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.models import Interview


def visible_text(html: str) -> str:
    doc = lxml.html.fromstring(html)
    for node in doc.xpath("//script|//style"):
        node.drop_tree()
    return " ".join(doc.find(".//body").text_content().split())


def test_login_notice_is_in_french(client):
    response = client.get("/interviews", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Connectez-vous pour ouvrir cette page." in page
    assert "Please log in" not in page


def test_home_counts_agree_with_their_number(client, auth, create_user, interview, app):
    create_user("ines", "fieldworker")
    interview("ines")
    auth.login("ines")
    text = visible_text(client.get("/").get_data(as_text=True))
    assert "1 brouillon " in text and "0 approuvé " in text
    interview("ines")
    text = visible_text(client.get("/").get_data(as_text=True))
    assert "2 brouillons " in text


def test_favicon_is_linked_and_served(client):
    page = client.get("/login").get_data(as_text=True)
    href = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', page).group(1)
    icon = client.get(href)
    body = icon.get_data(as_text=True)
    icon.close()
    assert icon.status_code == 200 and body.startswith("<svg")


def test_export_tables_and_code_families_are_named_in_french(client, auth, create_user, codebook):
    create_user("camille", "researcher")
    auth.login("camille")
    exports = visible_text(client.get("/exports/").get_data(as_text=True))
    assert "Réponses, une ligne par question" in exports
    assert not re.search(r"\b(answers_long|answers_wide|matrix_\w+)\b", exports)
    page = client.get("/coding/codebook").get_data(as_text=True)
    family = re.search(r'<select[^>]*name="family".*?</select>', page, re.S).group(0)
    assert ">Dynamique<" in family and ">DYNAMICS<" not in family


def test_saturation_counts_use_plurals(client, auth, create_user, transcript, app):
    create_user("camille", "researcher")
    create_user("ines", "fieldworker")
    transcript("ines")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Interview)) == 1
    auth.login("camille")
    text = visible_text(client.get("/coding/saturation").get_data(as_text=True))
    assert "1 entretien," in text and "1 entretiens" not in text
