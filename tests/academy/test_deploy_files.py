"""docs/deploy.md's compose file and image (issue 15): no Docker engine runs here, so these check what
can be checked without one: every process of the Procfile is a service with the same command, the
example settings load, and the data dir (traces) never goes into an image."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    """Each process's command, with a port variable's shell default in its place (`${WEB_PORT:-8000}`:
    8000), the port compose's services listen on."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command)
            for name, command in (line.split(": ", 1) for line in lines if line.strip())}


def test_the_compose_file_runs_every_procfile_process_with_the_same_command():
    services = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())["services"]
    for name, command in procfile().items():
        assert name in services, name
        ours = command.split()
        theirs = services[name]["command"].split()
        keep = [w for w in ours if not w.startswith(("127.0.0.1", "-b", "--host"))]
        assert [w for w in theirs if w not in ("0.0.0.0", "-b", "--host")] == keep, (name, command)
    assert services["worker"]["volumes"] == ["data:/var/lib/academy"]  # the data dir is a volume


def test_the_data_dir_and_secrets_stay_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"var/", ".env", "deploy/.env"} <= set(ignored)
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    assert "ACADEMY_DATA_DIR=/var/lib/academy" in dockerfile and "VOLUME /var/lib/academy" in dockerfile


def test_the_example_settings_load(tmp_path):
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "academy.settings",
           "ACADEMY_DATA_DIR": str(tmp_path)}
    for line in (ROOT / "deploy/env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    env["SECRET_KEY"] = "x" * 50
    code = "import django; django.setup(); from django.conf import settings as s; print(s.Q_CLUSTER['workers'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "8"
