"""Commands of the running system: `milieu db` (Flask-Migrate plus backup and restore),
`milieu serve` (the production web server) and `milieu worker` (the job consumer)."""

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from flask_migrate.cli import db

from survey_app.core.audit import record
from survey_app.core.backup import BackupError, backup, check_database_ready, restore
from survey_app.extensions import db as database

db.help = "Create, upgrade, back up and restore the database."

log = logging.getLogger(__name__)
#: open connections each web process accepts (waitress's own default is 100)
CONNECTION_LIMIT = 1000


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent copy of the database to PATH (safe while the app runs)."""
    try:
        backup(path)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"Backed up the database to {path}.")


@db.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database by the backup at PATH (a safety copy is made first)."""
    if not yes:
        click.confirm("This replaces the current database. Go on?", abort=True)
    try:
        safety = restore(path)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    upgrade()  # an older backup is brought up to the current schema
    record("db.restore", object_type="database", payload={"source": str(path)})
    database.session.commit()
    database.session.remove()
    database.engine.dispose()  # no pooled connection may outlive the database it was opened on
    if safety:
        click.echo(f"The previous database was saved to {safety}.")
    click.echo(f"Restored the database from {path}.")


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
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per process.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Web processes sharing the port (one Python process uses about one core).",
)
@click.option(
    "--connections",
    default=CONNECTION_LIMIT,
    show_default=True,
    type=click.IntRange(10, 10_000),
    help="Open connections each process accepts (browsers keep a few open per user).",
)
@with_appcontext
def serve(host: str, port: int, threads: int, workers: int, connections: int) -> None:
    """Serve the web app with the production WSGI server (waitress)."""
    from waitress import serve as waitress_serve

    problem = check_database_ready()
    if problem:
        raise click.ClickException(problem)
    app = current_app._get_current_object()
    options = waitress_options(threads, connections)
    if workers == 1:
        start_warm_up()
        click.echo(f"Milieu is serving on http://{host}:{port}/ (Ctrl+C to stop)")
        waitress_serve(app, host=host, port=port, **options)
        return
    try:
        listener = socket.create_server((host, port), backlog=2048)
    except OSError as err:
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror}") from None
    click.echo(
        f"Milieu is serving on http://{host}:{port}/ with {workers} processes of {threads} "
        "threads (Ctrl+C to stop)"
    )
    serve_processes(app, listener, workers, options)


def waitress_options(threads: int, connections: int) -> dict:
    """Waitress settings: threads, and a connection limit above waitress's 100.

    At its limit waitress stops accepting, and a browser's request waits unanswered in the
    queue until a kept-alive connection closes (up to 120 s): 200 fieldworkers against two
    processes left 4 saves a run unanswered for 30 s. poll() instead of select(), which
    cannot watch more than 1024 sockets.
    """
    return {"threads": threads, "connection_limit": connections, "asyncore_use_poll": True}


def serve_processes(app, listener: socket.socket, workers: int, options: dict) -> None:
    """Fork `workers` waitress processes accepting on one socket; restart any that dies.

    The kernel hands each connection to one process. SIGTERM or Ctrl+C stops them all.
    """
    from waitress import serve as waitress_serve

    database.engine.dispose()  # no pooled connection may be shared across processes
    children: set[int] = set()
    stopping = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:  # the child: serve until told to stop
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                start_warm_up()
                waitress_serve(app, sockets=[listener], **options)
            except BaseException:  # noqa: BLE001 - logged, and the parent starts another
                log.exception("web process %s stopped", os.getpid())
                code = 1
            finally:
                os._exit(code)
        children.add(pid)

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        spawn()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:
            log.warning("web process %s ended (status %s): starting another", pid, status)
            time.sleep(1)  # a process that cannot start must not spin
            spawn()
    listener.close()


@click.command()
@click.option("--workers", default=1, show_default=True, type=int, help="Jobs run at once.")
@with_appcontext
def worker(workers: int) -> None:
    """Run the background job consumer (suggestions, retraining, large exports)."""
    from huey.consumer import Consumer

    from survey_app.core.job_queue import watch_stale_jobs

    huey = current_app.extensions["huey"]
    click.echo(f"Milieu worker: {workers} worker(s) on {type(huey).__name__} (Ctrl+C to stop)")
    stop = threading.Event()
    watch_stale_jobs(current_app._get_current_object(), stop)  # jobs a dead worker left
    try:
        Consumer(huey, workers=workers, worker_type="thread").run()
    finally:
        stop.set()
