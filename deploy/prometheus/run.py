"""`make prometheus`: Debian's prometheus beside `make run`, scraping the Academy that `make run` started.

`make run` may have moved the web server off 8000 (WEB_PORT, written to .env by academy/runenv.py), and
Prometheus reads `rule_files` relative to its config file. So the example config is not run in place: a
copy with the port and the rules file's absolute path goes to var/prometheus/prometheus.yml, and
prometheus runs on it with its data in var/prometheus/data (`make clean` removes both).

    python deploy/prometheus/run.py --env-file .env --listen 127.0.0.1:9090
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from academy.runenv import defaults, dotenv_read

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
RULES = ROOT / "deploy" / "prometheus" / "academy.rules.yml"
PROMETHEUS = "/usr/bin/prometheus"
EXAMPLE_TARGET = '"127.0.0.1:8000"'
EXAMPLE_RULES = "- academy.rules.yml"


def web_port(env_file: Path) -> int:
    """WEB_PORT as `make run` takes it: the environment, else .env, else the demo default (8000)."""
    raw = os.environ.get("WEB_PORT", dotenv_read(env_file).get("WEB_PORT", defaults(ROOT)["WEB_PORT"]))
    if not raw.strip().isdigit() or not 1 <= int(raw) <= 65535:
        raise SystemExit(f"WEB_PORT={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def render(example: str, *, port: int, rules: Path) -> str:
    """The example config with the scrape target on `port` and the rules file by absolute path.

    Each replaced text must occur exactly once: an edited example that no longer matches fails here, not
    as a Prometheus that quietly scrapes the wrong port or loads no rules.
    """
    for old, new in ((EXAMPLE_TARGET, f'"127.0.0.1:{port}"'), (EXAMPLE_RULES, f"- {rules}")):
        if example.count(old) != 1:
            raise SystemExit(f"{EXAMPLE} should hold {old!r} once, found {example.count(old)}: update run.py")
        example = example.replace(old, new)
    return example


def main(argv: list[str] | None = None) -> None:
    """1. render the config into var/prometheus; 2. exec prometheus on it (its output is this terminal's)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, default=ROOT / ".env")
    parser.add_argument("--listen", default="127.0.0.1:9090", help="Prometheus's own address (web UI and API)")
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "prometheus", help="config copy and data")
    args = parser.parse_args(argv)
    if not os.access(PROMETHEUS, os.X_OK):
        raise SystemExit(f"{PROMETHEUS} is missing: apt-get install prometheus (make test installs it)")
    port = web_port(args.env_file)
    args.dir.mkdir(parents=True, exist_ok=True)
    config = args.dir / "prometheus.yml"
    config.write_text(render(EXAMPLE.read_text(), port=port, rules=RULES))
    print(f"prometheus on http://{args.listen}, scraping http://127.0.0.1:{port}/metrics ({config})", flush=True)
    os.execv(PROMETHEUS, [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={args.dir / 'data'}",
                          f"--web.listen-address={args.listen}"])


if __name__ == "__main__":
    main(sys.argv[1:])
