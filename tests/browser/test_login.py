"""A new user logs in with the demo logins that `milieu demo` prints."""

from survey_app.cli import cli


def test_demo_login_in_chromium(sqlite_app, live_server, page):
    result = sqlite_app.test_cli_runner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    page.goto(live_server + "/")
    assert page.url.startswith(live_server + "/login")
    assert page.locator("h1").inner_text() == "Connexion"
    page.fill("#username", "camille")
    page.fill("#password", "wrong password")
    page.click("main button[type=submit]")
    assert "mot de passe incorrect" in page.locator(".flash").inner_text()
    page.fill("#username", "camille")
    page.fill("#password", "milieu-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(live_server + "/")
    assert "Camille Roux" in page.locator("h1").inner_text()
    page.click("button[value=en]")
    page.wait_for_selector("text=Log out")
