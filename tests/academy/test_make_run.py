"""`make run`'s first and last steps (issue 16): .env written from the settings it really uses, both ports
settings, and a taken port refused in one clear line before anything starts. Real `make` and real
sockets; the whole stack is never started (ENV_FILE points the .env at a temp dir)."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from academy.runenv import dotenv_read
from paper_venue.testing import free_port

ROOT = Path(__file__).resolve().parents[2]


def make(target: str, env_file: Path, *flags: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`make <target>` in the project with ENV_FILE redirected and exactly this environment (plus PATH)."""
    full = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **env}
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *flags, target, f"ENV_FILE={env_file}"],
                          env=full, capture_output=True, text=True, timeout=120)


def ports() -> dict[str, str]:
    web = free_port()
    venue = next(p for p in iter(free_port, None) if p != web)
    return {"WEB_PORT": str(web), "VENUE_PORT": str(venue)}


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something is really listening on at 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_it_writes_env_from_the_settings_make_run_uses(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("ACADEMY_DATA_DIR=/somewhere/else\nALERT_SINKS=log\nREDIS_URL=redis://127.0.0.1:6379/3\n")
    chosen = ports()
    done = make("run-env", env_file, ACADEMY_DATA_DIR=str(tmp_path / "data"), **chosen)
    assert done.returncode == 0, done.stderr
    # The environment wins over the old .env, .env over the defaults; other lines are kept.
    assert dotenv_read(env_file) == {"ACADEMY_DATA_DIR": str(tmp_path / "data"), "ALERT_SINKS": "log",
                                     "REDIS_URL": "redis://127.0.0.1:6379/3", "DEBUG": "true", **chosen}
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600  # a database URL may hold a password
    assert f"written to {env_file}" in done.stdout and "REDIS_URL=(set, not shown)" in done.stdout
    assert list(tmp_path.glob(".env.*")) == []  # no temp file left behind


def test_a_plain_shell_manage_py_then_acts_on_the_same_system(tmp_path):
    """manage.py (a copy, next to the written .env) finds make run's data dir and venue, under a real variable."""
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    chosen = ports()
    assert make("run-env", tmp_path / ".env", ACADEMY_DATA_DIR=str(tmp_path / "data"), **chosen).returncode == 0
    show = "from django.conf import settings as s; print(s.DATA_DIR, s.VENUE_URL, s.WEB_PORT)"

    def shell(**env: str) -> list[str]:
        command = [sys.executable, str(tmp_path / "manage.py"), "shell", "-v", "0", "-c", show]
        full = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env}  # the project's apps, from elsewhere
        return subprocess.run(command, cwd=tmp_path, env=full, capture_output=True, text=True, timeout=60,
                              check=True).stdout.split()

    assert shell() == [str(tmp_path / "data"), f"http://127.0.0.1:{chosen['VENUE_PORT']}", chosen["WEB_PORT"]]
    assert shell(ACADEMY_DATA_DIR=str(tmp_path / "other"))[0] == str(tmp_path / "other")  # the real env first


@pytest.mark.parametrize("name", ["WEB_PORT", "VENUE_PORT"])
def test_it_names_a_taken_port_and_starts_nothing(tmp_path, listening, name):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\n")
    chosen = {**ports(), name: str(listening)}
    done = make("run-env", env_file, ACADEMY_DATA_DIR=str(tmp_path / "data"), **chosen)
    assert done.returncode != 0
    line = f"make run: port {listening} ({name}) is already in use on 127.0.0.1: stop what holds it or run {name}="
    assert line in done.stderr and done.stderr.splitlines()[0].endswith(" make run"), done.stderr
    assert env_file.read_text() == "DEBUG=true\n" and not (tmp_path / "data").exists()  # nothing written


def test_it_refuses_a_bad_port_value_in_place(tmp_path):
    done = make("run-env", tmp_path / ".env", ACADEMY_DATA_DIR=str(tmp_path / "data"), WEB_PORT="80OO",
                VENUE_PORT=str(free_port()))
    assert done.returncode != 0 and "WEB_PORT='80OO' is not an integer" in done.stderr
    assert not (tmp_path / ".env").exists()


def test_make_run_checks_and_writes_before_anything_starts(tmp_path):
    steps = make("run", tmp_path / ".env", "-n").stdout.splitlines()
    prepare = steps.index(f".venv/bin/python -m academy.runenv --env-file {tmp_path / '.env'} prepare")
    migrate = steps.index(".venv/bin/python manage.py migrate --noinput")
    assert prepare < migrate
    assert steps[-1].endswith("start --pick-processes .venv/bin/honcho start -f Procfile --env /dev/null")


def test_make_run_starts_the_chat_bot_only_when_its_token_is_set(tmp_path):
    """honcho stops every process when one exits: without a token the bot is left out by name."""
    from academy.runenv import procfile_processes

    without = procfile_processes({})
    assert "chatbot" not in without and {"web", "worker", "dispatcher", "venue", "monitor"} <= set(without)
    assert procfile_processes({"TELEGRAM_BOT_TOKEN": "123:abc"}) == []  # honcho's default: every process
    env_file = tmp_path / ".env"
    env_file.write_text("")
    for token, expected in (("", "(no chat bot: TELEGRAM_BOT_TOKEN is not set)"), ("123:abc", "and the chat bot")):
        done = subprocess.run([sys.executable, "-m", "academy.runenv", "--env-file", str(env_file), "start",
                               "--pick-processes", "echo"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                              env={"PATH": os.environ["PATH"], "TELEGRAM_BOT_TOKEN": token,
                                   "WEB_PORT": str(_free()), "VENUE_PORT": str(_free())})
        assert done.returncode == 0, done.stderr
        started = done.stdout.splitlines()[-1].split()  # echo prints the names honcho would be given
        assert expected in done.stdout and started == ([] if token else without)


def _free() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_procfile_listens_on_the_port_settings():
    """honcho runs each line through a shell: the variables decide, the defaults stand in when unset."""
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())

    def expand(command: str, **env: str) -> str:
        return subprocess.run(["sh", "-c", f"echo {command}"], env={"PATH": os.environ["PATH"], **env},
                              capture_output=True, text=True, check=True).stdout

    assert "-p 8123 " in expand(lines["web"], WEB_PORT="8123")
    assert "--port 8124" in expand(lines["venue"], VENUE_PORT="8124")
    assert "-p 8000 " in expand(lines["web"]) and "--port 8100" in expand(lines["venue"])


def test_the_last_step_runs_the_processes_with_env_under_the_real_environment(tmp_path):
    env_file = tmp_path / ".env"
    chosen = ports()
    env_file.write_text(f"WEB_PORT={chosen['WEB_PORT']}\nVENUE_PORT={chosen['VENUE_PORT']}\nALERT_SINKS=log\n")
    done = subprocess.run([sys.executable, "-m", "academy.runenv", "--env-file", str(env_file), "start", "env"],
                          cwd=ROOT, env={"PATH": os.environ["PATH"], "ALERT_SINKS": "log,webhook"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    said, *environment = done.stdout.splitlines()
    assert said.startswith(f"Starting web (http://127.0.0.1:{chosen['WEB_PORT']}), worker")
    assert f"VENUE_PORT={chosen['VENUE_PORT']}" in environment and "ALERT_SINKS=log,webhook" in environment


def test_it_refuses_a_data_dir_with_spaces_around_it_and_never_prints_a_redis_password(tmp_path):
    """The processes read the value as it is and .env would get it stripped: two data dirs, so refuse. A
    malformed REDIS_URL may hold a password: named, not shown."""
    spaced = make("run-env", tmp_path / ".env", ACADEMY_DATA_DIR=f"{tmp_path}/data ", **ports())
    assert spaced.returncode != 0 and "has spaces around it" in spaced.stderr
    bad_redis = make("run-env", tmp_path / ".env", ACADEMY_DATA_DIR=str(tmp_path / "data"),
                     REDIS_URL="redis//:hunter2@cache:6379/0", **ports())
    assert bad_redis.returncode != 0 and "REDIS_URL is not a redis://" in bad_redis.stderr
    assert "hunter2" not in bad_redis.stderr + bad_redis.stdout
    assert not (tmp_path / ".env").exists()
