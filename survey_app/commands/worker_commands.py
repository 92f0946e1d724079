import click
from flask import current_app
from flask.cli import with_appcontext


@click.command()
@click.option("--workers", default=1, show_default=True, type=int, help="Jobs run at once.")
@with_appcontext
def worker(workers: int) -> None:
    """Run the background job consumer (suggestions, retraining, large exports)."""
    from huey.consumer import Consumer

    huey = current_app.extensions["huey"]
    click.echo(f"Milieu worker: {workers} worker(s) on {type(huey).__name__} (Ctrl+C to stop)")
    Consumer(huey, workers=workers, worker_type="thread").run()
