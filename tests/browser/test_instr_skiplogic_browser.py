"""Skip logic live in Chromium: skiplogic.js hides and disables questions on a built form."""

from pathlib import Path

import pytest
from flask import Flask

from survey_app.instruments.definitions import load_instrument
from survey_app.instruments.forms import build_section_form

ROOT = Path(__file__).resolve().parents[2]
SKIPLOGIC_JS = ROOT / "survey_app" / "static" / "js" / "skiplogic.js"
MINI = load_instrument(ROOT / "tests" / "unit" / "instruments" / "mini_instrument.yaml")

pytestmark = pytest.mark.browser


def section_html() -> str:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        form = build_section_form(MINI, "main")()
        blocks = "".join(
            f'<div class="milieu-question">{field.label()}{field()}</div>'
            for field in form
            if not field.name.endswith("__missing")
        )
    return f'<form id="f" data-answers=\'{{"consent_data": "yes"}}\'>{blocks}</form>'


@pytest.fixture(scope="module")
def page(browser):
    """One page with a built section form and skiplogic.js bound to it (shared browser)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content(f"<html><body>{section_html()}</body></html>")
    page.add_script_tag(content=SKIPLOGIC_JS.read_text(encoding="utf-8"))
    page.evaluate("window.binding = MilieuExpr.bindForm(document.getElementById('f'))")
    yield page
    context.close()


def hidden(page, key: str) -> bool:
    script = "k => document.querySelector(`[data-question='${k}']`).closest('.milieu-question')"
    return page.evaluate(script + ".hidden", key)


def test_questions_follow_the_answers(page):
    assert hidden(page, "share") and hidden(page, "modes") and hidden(page, "q1_why")
    page.check("#exports-0")  # yes
    assert not hidden(page, "share") and not hidden(page, "modes")
    assert hidden(page, "agent_where")
    page.check("input[name=modes][value=agent]")
    assert not hidden(page, "agent_where")
    page.check("#q1-4")  # 5: strongly agree
    assert not hidden(page, "q1_why")
    page.check("#q1-5")  # don't know counts as no answer
    assert hidden(page, "q1_why")


def test_hidden_cascade_and_disabled_inputs(page):
    page.check("#exports-0")
    page.check("input[name=modes][value=agent]")
    page.fill("#agent_where", "Milan")
    page.check("#exports-1")  # no: modes hidden, so agent_where must hide too
    assert hidden(page, "modes") and hidden(page, "agent_where")
    assert page.is_disabled("#agent_where")
    answers = page.evaluate("window.binding.answers()")
    assert answers["exports"] == "no" and "agent_where" not in answers
    assert answers["consent_data"] == "yes"
    page.check("#exports-0")
    assert page.input_value("#agent_where") == "Milan"  # nothing typed is lost
