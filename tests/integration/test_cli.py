"""The `milieu` command line: help, users, demo, backup and restore, database errors."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from survey_app.cli import cli
from survey_app.extensions import db
from survey_app.models import AuditEvent, Organisation, User


def run_milieu(*args, env=None):
    return subprocess.run(
        [sys.executable, "-c", "from survey_app.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_help_lists_the_command_groups():
    result = run_milieu("--help")
    assert result.returncode == 0
    for group in (
        "db",
        "demo",
        "serve",
        "users",
        "worker",
        "instruments",
        "fieldwork",
        "coding",
        "analyse",
    ):
        assert f"\n  {group} " in result.stdout
    assert "--app" not in result.stdout


def test_unreachable_database_gives_one_line_error(tmp_path):
    env = {
        "MILIEU_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
        "MILIEU_INSTANCE_PATH": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    result = run_milieu("db", "upgrade", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: cannot use the database")


def test_users_add_reads_password_from_environment(app, runner, monkeypatch):
    monkeypatch.setenv("MILIEU_PASSWORD", "a long secret")
    result = runner.invoke(cli, ["users", "add", "Camille", "--role", "researcher"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "camille"))
        assert user.role == "researcher" and user.check_password("a long secret")


def test_users_add_refuses_duplicates_and_bad_roles(app, runner, monkeypatch):
    monkeypatch.setenv("MILIEU_PASSWORD", "a long secret")
    runner.invoke(cli, ["users", "add", "camille", "--role", "researcher"])
    again = runner.invoke(cli, ["users", "add", "camille", "--role", "admin"])
    assert again.exit_code == 1 and "exists already" in again.output
    bad = runner.invoke(cli, ["users", "add", "x", "--role", "boss"])
    assert bad.exit_code == 2 and "boss" in bad.output


def test_users_add_prompts_for_hidden_password(app, runner, monkeypatch):
    monkeypatch.delenv("MILIEU_PASSWORD", raising=False)
    result = runner.invoke(
        cli,
        ["users", "add", "ines", "--role", "fieldworker"],
        input="prompted secret\nprompted secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "prompted secret" not in result.output


def test_demo_is_idempotent_and_prints_logins(app, runner):
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    assert "camille" in first.output and "milieu-demo" in first.output
    with app.app_context():
        counts = (
            db.session.scalar(sa.select(sa.func.count(User.id))),
            db.session.scalar(sa.select(sa.func.count(Organisation.id))),
        )
    runner.invoke(cli, ["demo"])
    with app.app_context():
        assert counts == (
            db.session.scalar(sa.select(sa.func.count(User.id))),
            db.session.scalar(sa.select(sa.func.count(Organisation.id))),
        )
        pseudonyms = db.session.scalars(sa.select(Organisation.pseudonym)).all()
    assert len(set(pseudonyms)) == len(pseudonyms)


def test_backup_then_restore_keeps_the_data(sqlite_app, tmp_path, monkeypatch):
    runner = sqlite_app.test_cli_runner()
    monkeypatch.setenv("MILIEU_PASSWORD", "a long secret")
    runner.invoke(cli, ["users", "add", "kept", "--role", "admin"])
    backup_file = tmp_path / "backup.sqlite"
    result = runner.invoke(cli, ["db", "backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    runner.invoke(cli, ["users", "add", "added_after_backup", "--role", "admin"])

    result = runner.invoke(cli, ["db", "restore", str(backup_file), "--yes"])
    assert result.exit_code == 0, result.output
    with sqlite_app.app_context():
        names = set(db.session.scalars(sa.select(User.username)))
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert names == {"kept"}
    assert "db.restore" in actions
    assert "saved to" in result.output  # the replaced database was kept aside


def test_restore_refuses_a_file_that_is_not_a_milieu_database(sqlite_app, tmp_path, monkeypatch):
    runner = sqlite_app.test_cli_runner()
    monkeypatch.setenv("MILIEU_PASSWORD", "a long secret")
    runner.invoke(cli, ["users", "add", "kept", "--role", "admin"])
    text_file = tmp_path / "notes.sqlite"
    text_file.write_text("not a database")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    for bad, reason in (
        (text_file, "not a SQLite database"),
        (other, "not a Milieu database"),
        (tmp_path / "missing.sqlite", "no such file"),
    ):
        result = runner.invoke(cli, ["db", "restore", str(bad), "--yes"])
        assert result.exit_code == 1
        assert reason in result.output
    with sqlite_app.app_context():
        assert set(db.session.scalars(sa.select(User.username))) == {"kept"}


def test_audit_events_cannot_be_changed(app):
    import pytest

    from survey_app.core.audit import record

    with app.app_context():
        event = record("test.event", object_type="thing", object_id=1)
        db.session.commit()
        event.action = "rewritten"
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()


def test_postgres_backup_then_restore_with_pg_dump(tmp_path, monkeypatch):
    import shutil

    import pytest
    from milieu_testing import (
        IN_CI,
        make_app,
        postgres_url_or_skip,
        scratch_postgres_database,
        upgrade,
    )

    if shutil.which("pg_dump") is None:
        if IN_CI:
            pytest.fail("pg_dump is missing: .ci/run installs postgresql-client")
        pytest.skip("pg_dump is not installed (skipped outside CI only)")
    monkeypatch.setenv("MILIEU_PASSWORD", "a long secret")
    with scratch_postgres_database(postgres_url_or_skip()) as url:
        app = make_app(url, tmp_path)
        upgrade(app)
        runner = app.test_cli_runner()
        runner.invoke(cli, ["users", "add", "kept", "--role", "admin"])
        dump = tmp_path / "milieu.dump"
        result = runner.invoke(cli, ["db", "backup", str(dump)])
        assert result.exit_code == 0, result.output
        assert dump.read_bytes()[:5] == b"PGDMP"
        runner.invoke(cli, ["users", "add", "added_after_backup", "--role", "admin"])
        result = runner.invoke(cli, ["db", "restore", str(dump), "--yes"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            assert set(db.session.scalars(sa.select(User.username))) == {"kept"}
            db.session.remove()
            db.engine.dispose()
        not_a_dump = tmp_path / "x.dump"
        not_a_dump.write_text("hello")
        refused = runner.invoke(cli, ["db", "restore", str(not_a_dump), "--yes"])
        assert refused.exit_code == 1 and "not a pg_dump archive" in refused.output
        with app.app_context():
            db.engine.dispose()


LOADED = (
    "import sys, runpy; sys.argv = ['milieu', *sys.argv[1:]]\n"
    "try:\n"
    "    from survey_app.cli import main; main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "heavy = ('flask', 'sqlalchemy', 'alembic', 'pandas', 'duckdb', 'spacy')\n"
    "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
)


def loaded_by(*args):
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.rsplit("LOADED ", 1)[1].strip()


def test_help_and_analysis_help_load_no_web_or_data_stack():
    # a 2-million-row register scans in about a second: the start-up must not cost as much
    assert loaded_by("--help") == "[]"
    assert loaded_by("analyse", "--help") == "[]"
    assert loaded_by("analyse", "registry", "--help") == "[]"


def test_library_commands_do_not_load_the_web_app():
    assert "flask" not in loaded_by("coding", "--help")
    assert "sqlalchemy" not in loaded_by("coding", "agreement", "--help")


def test_a_web_command_still_finds_the_app():
    assert "flask" in loaded_by("users", "--help")
    result = run_milieu("db", "--help")
    assert result.returncode == 0
    assert "upgrade" in result.stdout


def test_postgres_backup_keeps_the_password_off_the_command_line(tmp_path, monkeypatch):
    import shutil
    import stat
    import subprocess

    import pytest
    from milieu_testing import make_app, postgres_url_or_skip, scratch_postgres_database, upgrade

    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    calls = []
    real_run = subprocess.run

    def recording_run(args, **kwargs):
        calls.append((list(args), dict(kwargs.get("env") or {})))
        return real_run(args, **kwargs)

    monkeypatch.setenv("MILIEU_PASSWORD", "a long secret")
    with scratch_postgres_database(postgres_url_or_skip()) as url:
        secret = "pw-" + "9f3b1c"
        with_password = sa.engine.make_url(url).set(password=secret)
        with_password = with_password.render_as_string(hide_password=False)
        app = make_app(with_password, tmp_path)
        upgrade(app)
        runner = app.test_cli_runner()
        runner.invoke(cli, ["users", "add", "kept", "--role", "admin"])
        monkeypatch.setattr(subprocess, "run", recording_run)
        dump = tmp_path / "milieu.dump"
        result = runner.invoke(cli, ["db", "backup", str(dump)])
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE(dump.stat().st_mode) == 0o600  # like the SQLite backups
        runner.invoke(cli, ["users", "add", "added_after_backup", "--role", "admin"])
        result = runner.invoke(cli, ["db", "restore", str(dump), "--yes"])
        assert result.exit_code == 0, result.output
        assert "previous database was saved to" in result.output
        safety = list((tmp_path / "backups").glob("before-restore-*.dump"))
        assert len(safety) == 1 and safety[0].read_bytes()[:5] == b"PGDMP"
        assert stat.S_IMODE(safety[0].stat().st_mode) == 0o600
        tools = [(args, env) for args, env in calls if Path(args[0]).name.startswith("pg_")]
        assert {Path(args[0]).name for args, _env in tools} == {"pg_dump", "pg_restore"}
        for args, env in tools:
            assert not any(secret in arg for arg in args), args
            assert env.get("PGPASSWORD") == secret
        with app.app_context():
            assert set(db.session.scalars(sa.select(User.username))) == {"kept"}
            db.session.remove()
            db.engine.dispose()


def _children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _start_serve(tmp_path: Path, *options: str):
    """Migrate a fresh instance and start `milieu serve` on a free port; return the process,
    the port and the open log file (the server's standard error)."""
    import socket

    env = {**__import__("os").environ, "MILIEU_INSTANCE_PATH": str(tmp_path)}
    env["MILIEU_SECRET_KEY"] = "test-secret"
    milieu = str(Path(sys.executable).parent / "milieu")
    subprocess.run([milieu, "db", "upgrade"], env=env, check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed by the caller
    server = subprocess.Popen(
        [milieu, "serve", *options, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    return server, port, log


def test_serve_with_workers_runs_several_processes_on_one_port(tmp_path):
    import signal
    import time
    import urllib.request

    server, port, log = _start_serve(tmp_path, "--workers", "2", "--threads", "2")
    try:
        deadline, pages = time.monotonic() + 60, 0
        while time.monotonic() < deadline and pages < 20:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    pages += r.status == 200
            except OSError:
                time.sleep(0.2)
        assert pages == 20
        children = _children_of(server.pid)
        assert len(children) == 2, (tmp_path / "serve.log").read_text()
        victim = next(iter(children))  # a web process that dies is replaced
        __import__("os").kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _children_of(server.pid)
            if len(now) == 2 and victim not in now:
                time.sleep(2)  # and still two a moment later: the new one started for good
                if _children_of(server.pid) == now:
                    break
            time.sleep(0.2)
        now = _children_of(server.pid)
        assert len(now) == 2 and victim not in now, (tmp_path / "serve.log").read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as r:
            assert r.status == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
        assert _children_of(server.pid) == set()
    finally:
        if server.poll() is None:
            for child in _children_of(server.pid):  # they would outlive a killed parent
                __import__("os").kill(child, signal.SIGKILL)
            server.kill()
            server.wait()
        log.close()


def test_serve_answers_beside_more_open_connections_than_waitress_allows_by_default(tmp_path):
    # Waitress stops accepting at 100 open connections; browsers keep theirs open, and a
    # save then waited unanswered in the queue (4 of 5,800 in the 200-fieldworker benchmark).
    import socket
    import time
    import urllib.request

    server, port, log = _start_serve(tmp_path, "--threads", "2")
    idle: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        for _ in range(150):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(1)  # let the server accept them all
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as r:
            assert r.status == 200
    finally:
        for conn in idle:
            conn.close()
        server.terminate()
        server.wait(30)
        log.close()
