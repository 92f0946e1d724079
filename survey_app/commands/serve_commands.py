import logging
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from survey_app.core.backup import check_database_ready

log = logging.getLogger(__name__)


def warm_up_nlp() -> None:
    """Load the sentence splitter that saving a transcript needs (a few seconds, once).

    Run in a background thread when the server starts, so the first transcript saved does
    not wait for the spaCy model inside its request.
    """
    try:
        from coding.nlp import load_nlp

        load_nlp("sentences")
    except Exception:  # the request will load it (or report why it cannot) later
        log.exception("could not load the sentence splitter in advance")


def start_warm_up() -> threading.Thread:
    thread = threading.Thread(target=warm_up_nlp, name="milieu-nlp-warm-up", daemon=True)
    thread.start()
    return thread


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads.")
@with_appcontext
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web app with the production WSGI server (waitress)."""
    from waitress import serve as waitress_serve

    problem = check_database_ready()
    if problem:
        raise click.ClickException(problem)
    start_warm_up()
    click.echo(f"Milieu is serving on http://{host}:{port}/ (Ctrl+C to stop)")
    waitress_serve(current_app._get_current_object(), host=host, port=port, threads=threads)
