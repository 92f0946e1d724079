"""`python -m survey_app` runs the `milieu` command."""

from survey_app.cli import main

main()
