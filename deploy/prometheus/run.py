"""`make prometheus`: Debian's prometheus beside `make run`, scraping the Academy that `make run` started.

`make run` may have moved the web server off 8000 (WEB_PORT, written to .env by academy/runenv.py),
Prometheus reads `rule_files` relative to its config file, and the example's `academy` external label is a
CHANGE-ME. So the example config is not run in place: a copy with the port, the rules file's absolute path
and the deployment's name (ACADEMY_NAME, default "local") goes to var/prometheus/prometheus.yml, and
prometheus runs on it with its data in var/prometheus/data (`make clean` removes both).

    python deploy/prometheus/run.py --env-file .env --listen 127.0.0.1:9090
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import socket
import sys
from pathlib import Path

from academy.runenv import defaults, dotenv_read

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
RULES = ROOT / "deploy" / "prometheus" / "academy.rules.yml"
PROMETHEUS = "/usr/bin/prometheus"
EXAMPLE_TARGET = '"127.0.0.1:8000"'
EXAMPLE_RULES = "- academy.rules.yml"
EXAMPLE_NAME = "academy: CHANGE-ME"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")  # plain in YAML, readable in a page


def web_port(env_file: Path) -> int:
    """WEB_PORT as `make run` takes it: the environment, else .env, else the demo default (8000)."""
    raw = os.environ.get("WEB_PORT", dotenv_read(env_file).get("WEB_PORT", defaults(ROOT)["WEB_PORT"]))
    if not raw.strip().isdigit() or not 1 <= int(raw) <= 65535:
        raise SystemExit(f"WEB_PORT={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def academy_name() -> str:
    """The deployment's name for the `academy` external label: ACADEMY_NAME, else "local".

    Alertmanager groups and inhibits by it, so two Academies sending to one Alertmanager need two names.
    """
    name = os.environ.get("ACADEMY_NAME", "local")
    if not NAME.fullmatch(name):
        raise SystemExit(f"ACADEMY_NAME={name!r}: use letters, digits, '.', '_' or '-' (64 at most)")
    return name


def refuse_taken(listen: str) -> None:
    """Stop before starting prometheus when its address is already in use, saying what to do.

    Prometheus would fail on it too, but with a bind error that hides the usual cause: Debian's prometheus
    package starts its own service on :9090 when it is installed.
    """
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise SystemExit(f"--listen {listen!r} is not host:port")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]") or None, int(port),
                                                             type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except OSError as exc:
        raise SystemExit(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as prometheus binds: TIME_WAIT is free
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise SystemExit(f"cannot listen on {listen}: {exc.strerror or exc}") from None
            raise SystemExit(
                f"port {port} is already in use ({listen}): another prometheus? (Debian's package runs one on "
                f":9090: `sudo systemctl disable --now prometheus`.) Or pick another port: "
                f"PROMETHEUS_PORT={int(port) + 1 if int(port) < 65535 else 9091} make prometheus") from None


def render(example: str, *, port: int, rules: Path, academy: str) -> str:
    """The example config with the scrape target on `port`, the rules file by absolute path and the
    deployment's name `academy` as its external label.

    Each replaced text must occur exactly once: an edited example that no longer matches fails here, not
    as a Prometheus that quietly scrapes the wrong port, loads no rules or labels its alerts CHANGE-ME.
    """
    for old, new in ((EXAMPLE_TARGET, f'"127.0.0.1:{port}"'), (EXAMPLE_RULES, f"- {rules}"),
                     (EXAMPLE_NAME, f'academy: "{academy}"')):
        if example.count(old) != 1:
            raise SystemExit(f"{EXAMPLE} should hold {old!r} once, found {example.count(old)}: update run.py")
        example = example.replace(old, new)
    return example


def main(argv: list[str] | None = None) -> None:
    """1. check the address is free; 2. render the config into var/prometheus; 3. exec prometheus on it (its
    output is this terminal's)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, default=ROOT / ".env")
    parser.add_argument("--listen", default=f"127.0.0.1:{os.environ.get('PROMETHEUS_PORT', '9090')}",
                        help="Prometheus's own address (web UI and API; default port: PROMETHEUS_PORT, else 9090)")
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "prometheus", help="config copy and data")
    args = parser.parse_args(argv)
    if not os.access(PROMETHEUS, os.X_OK):
        raise SystemExit(f"{PROMETHEUS} is missing: apt-get install prometheus (make test installs it)")
    port, academy = web_port(args.env_file), academy_name()
    refuse_taken(args.listen)
    args.dir.mkdir(parents=True, exist_ok=True)
    config = args.dir / "prometheus.yml"
    config.write_text(render(EXAMPLE.read_text(), port=port, rules=RULES, academy=academy))
    print(f"prometheus on http://{args.listen}, scraping http://127.0.0.1:{port}/metrics as academy={academy!r} "
          f"({config})", flush=True)
    os.execv(PROMETHEUS, [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={args.dir / 'data'}",
                          f"--web.listen-address={args.listen}"])


if __name__ == "__main__":
    main(sys.argv[1:])
