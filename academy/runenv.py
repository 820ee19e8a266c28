"""What `make run` runs with: its settings resolved once, its two ports checked, `.env` written from them.

A plain-shell `manage.py halt` must act on the database and flag file of the system `make run` started,
so `.env` is rewritten on every `make run` from the values it really uses, each taken the way manage.py
takes it: the real environment first, then `.env`, then the local demo default. Nothing here needs the
database or Django's settings (the values are checked by the settings' own readers in envconf).

    python -m academy.runenv --env-file .env prepare      # check values and ports, then write .env
    python -m academy.runenv --env-file .env start CMD..  # check the ports again, say where, exec CMD
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from academy.envconf import env_bool, env_database, env_path, env_port, env_redis_url

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # where the Procfile's web server and paper venue listen
PORTS = ("WEB_PORT", "VENUE_PORT")
# What `make run` writes to .env, in this order; the two URLs only when set.
MANAGED = ("DEBUG", "ACADEMY_DATA_DIR", "WEB_PORT", "VENUE_PORT", "DATABASE_URL", "REDIS_URL")
SECRET = ("DATABASE_URL", "REDIS_URL")  # may hold a password: never printed
HEADER = ("# Rewritten by each `make run` (academy/runenv.py) with the settings it ran with; manage.py reads\n"
          "# this file under the real environment. Lines of other variables are kept as they are.\n")


def defaults(root: Path) -> dict[str, str]:
    return {"DEBUG": "true", "ACADEMY_DATA_DIR": str(root / "var"), "WEB_PORT": "8000", "VENUE_PORT": "8100"}


# --- .env ------------------------------------------------------------------------------------------


def dotenv_read(path: Path) -> dict[str, str]:
    """KEY=value lines (blank and # lines skipped; the first of a repeated key counts); none when absent."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip() and not key.startswith("#"):
            values.setdefault(key.strip(), value.strip())
    return values


def dotenv_load(path: Path) -> None:
    """Put .env's values into this process's environment under the real one (a real variable wins)."""
    for key, value in dotenv_read(path).items():
        os.environ.setdefault(key, value)


def dotenv_write(path: Path, values: Mapping[str, str]) -> None:
    """Replace the managed lines (in place; missing ones appended), keep every other line, and swap the
    file in atomically (a reader sees the old file or the new one); 0600, since a URL may hold a password."""
    old = path.read_text().splitlines() if path.exists() else HEADER.splitlines()
    lines, written = [], set()
    for line in old:
        key = line.strip().partition("=")[0].strip()
        if key not in MANAGED:
            lines.append(line)
        elif key in values and key not in written:
            lines.append(f"{key}={values[key]}")
            written.add(key)
    lines += [f"{key}={values[key]}" for key in MANAGED if key in values and key not in written]
    fd, tmp = tempfile.mkstemp(prefix=".env.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the settings and the ports -------------------------------------------------------------------


def run_settings(env_file: Path, root: Path = ROOT) -> dict[str, str]:
    """1. take each variable from the environment, else .env, else its default (the URLs have none);
    2. check it with the settings' own reader (ImproperlyConfigured names a bad one);
    3. return the values as written to .env: DEBUG as true/false, the data dir absolute (not created yet:
       data_dir_ready does that once the ports are known to be free)."""
    saved = dotenv_read(env_file)
    values = {name: os.environ.get(name, saved.get(name, defaults(root).get(name))) for name in MANAGED}
    # An empty REDIS_URL means unset to the settings: it is not written.
    values = {name: value for name, value in values.items() if value is not None and (value or name != "REDIS_URL")}
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            raise ImproperlyConfigured(f"{name} holds a line break (it cannot go into .env)")
    if not values["ACADEMY_DATA_DIR"].strip():
        raise ImproperlyConfigured("ACADEMY_DATA_DIR is set but empty")
    if values["ACADEMY_DATA_DIR"] != values["ACADEMY_DATA_DIR"].strip():
        # the processes would read it as it is, .env would get it stripped: two systems' worth of data dirs
        raise ImproperlyConfigured(f"ACADEMY_DATA_DIR={values['ACADEMY_DATA_DIR']!r} has spaces around it: remove them")
    # Relative to the project directory, where manage.py runs.
    values["ACADEMY_DATA_DIR"] = str((root / Path(values["ACADEMY_DATA_DIR"].strip()).expanduser()).resolve())
    with _environ(values):
        values["DEBUG"] = "true" if env_bool("DEBUG", True) else "false"
        for name in PORTS:
            values[name] = str(env_port(name, 0))
        if "DATABASE_URL" in values:
            env_database("DATABASE_URL", Path("unused"))
        env_redis_url("REDIS_URL")
    return values


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """The values as the environment, for the envconf readers; restored after."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def data_dir_ready(values: Mapping[str, str]) -> None:
    """Create the data dir as the settings would (ImproperlyConfigured when it cannot be)."""
    with _environ(values):
        env_path("ACADEMY_DATA_DIR", ROOT / "var")


def port_problems(values: Mapping[str, str]) -> list[str]:
    """One line per port that cannot be listened on at HOST, naming its variable and the way out."""
    ports = {name: int(values[name]) for name in PORTS}
    if ports["WEB_PORT"] == ports["VENUE_PORT"]:
        return [f"WEB_PORT and VENUE_PORT are both {ports['WEB_PORT']}: give them different ports "
                f"(e.g. VENUE_PORT={_free_after(ports['WEB_PORT'], set(ports.values()))} make run)"]
    return [line for name, port in ports.items() if (line := port_problem(name, port, set(ports.values())))]


def port_problem(name: str, port: int, taken: set[int]) -> str:
    """'' when the port can be bound at HOST; else what holds it up and which port to pick instead."""
    try:
        _bind(port)
    except OSError as exc:
        instead = _free_after(port, taken)
        if exc.errno == errno.EADDRINUSE:
            return (f"port {port} ({name}) is already in use on {HOST}: stop what holds it or run "
                    f"{name}={instead} make run")
        return f"port {port} ({name}) cannot be opened on {HOST} ({exc.strerror}): run {name}={instead} make run"
    return ""


def _bind(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the servers bind (daphne, uvicorn): a TIME_WAIT left by the last run is no obstacle, a listener is.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, port))


def _free_after(port: int, taken: set[int]) -> str:
    """The next port above this one that binds and that the other process does not use."""
    for candidate in range(max(port, 1024) + 1, min(port + 100, 65535) + 1):
        if candidate in taken:
            continue
        try:
            _bind(candidate)
        except OSError:
            continue
        return str(candidate)
    return "<another port>"


# --- the two steps -------------------------------------------------------------------------------


def prepare(env_file: Path, root: Path = ROOT) -> int:
    """The first step of `make run`: refuse a bad value or a taken port (nothing written, nothing started),
    else write .env and say what it holds. Returns the exit status."""
    try:
        values = run_settings(env_file, root)
    except ImproperlyConfigured as exc:
        return _refuse(f"{exc}. Nothing started, .env unchanged.")
    problems = port_problems(values)
    if problems:
        return _refuse("\n".join(problems) + "\nNothing started, .env unchanged.")
    try:
        data_dir_ready(values)
    except ImproperlyConfigured as exc:
        return _refuse(f"{exc}. Nothing started, .env unchanged.")
    try:
        dotenv_write(env_file, values)
    except OSError as exc:
        return _refuse(f"cannot write {env_file}: {exc}. Nothing started.")
    shown = " ".join(f"{k}={'(set, not shown)' if k in SECRET else v}" for k, v in values.items())
    print(f"make run: {shown} (the environment first, then .env, then the defaults); written to {env_file}, "
          "so manage.py in a plain shell acts on this same system.", flush=True)
    return 0


def start(env_file: Path, command: list[str], *, pick: bool = False) -> int:
    """The last step of `make run`: the environment under .env (as manage.py reads it), the ports checked
    again (the set-up took a while), then exec the command (honcho). Returns only on a refusal."""
    dotenv_load(env_file)
    ports = {name: os.environ.get(name, defaults(ROOT)[name]) for name in PORTS}
    try:
        with _environ(ports):
            web, venue = (env_port(name, 0) for name in PORTS)
    except ImproperlyConfigured as exc:
        return _refuse(f"{exc}. Nothing started.")
    problems = port_problems({"WEB_PORT": str(web), "VENUE_PORT": str(venue)})
    if problems:
        return _refuse("\n".join(problems) + "\nNothing started.")
    if pick:
        command = [*command, *procfile_processes(os.environ)]
    bot = ("and the chat bot (TELEGRAM_BOT_TOKEN is set)" if os.environ.get("TELEGRAM_BOT_TOKEN")
           else "(no chat bot: TELEGRAM_BOT_TOKEN is not set)")
    print(f"Starting web (http://{HOST}:{web}), worker, dispatcher, venue ({HOST}:{venue}) and monitor {bot}. "
          "Ctrl-C stops them all.", flush=True)
    os.execvp(command[0], command)
    return 0  # not reached: exec replaced this process


OPTIONAL = {"chatbot": "TELEGRAM_BOT_TOKEN"}  # a Procfile process started only when its variable is set


def procfile_processes(environ: Mapping[str, str], procfile: Path = ROOT / "Procfile") -> list[str]:
    """The Procfile's process names to start, in order: all of them (an empty list: honcho's default)
    unless an optional one's variable is unset, then the others by name (honcho stops every process
    when one exits, so the bot must not be started only to refuse)."""
    names = [line.split(":", 1)[0].strip() for line in procfile.read_text().splitlines()
             if ":" in line and not line.lstrip().startswith("#")]
    left_out = {name for name, variable in OPTIONAL.items() if not environ.get(variable)}
    return [n for n in names if n not in left_out] if left_out & set(names) else []


def _refuse(message: str) -> int:
    print(f"make run: {message}", file=sys.stderr, flush=True)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m academy.runenv", description=__doc__.splitlines()[0],
                                     allow_abbrev=False)  # the command's own --env must not be read as --env-file
    parser.add_argument("--env-file", type=Path, default=ROOT / ".env")
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("prepare", help="check the settings and ports, then write .env")
    begin = steps.add_parser("start", help="check the ports again, then exec the command")
    begin.add_argument("--pick-processes", action="store_true",
                       help="append the Procfile's processes to start (the chat bot only with its token)")
    begin.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.step == "prepare":
        return prepare(args.env_file)
    if not args.command:
        parser.error("start needs a command to run")
    return start(args.env_file, args.command, pick=args.pick_processes)


if __name__ == "__main__":
    sys.exit(main())
