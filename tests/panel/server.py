"""A real web process for browser tests and the fan-out bench: daphne on a throw-away database.

    server = PanelServer.create(tmp_dir, venue_url=..., venue_api_key=...)  # migrate + seed + start
    server.shell("from monitoring.halt import halt; halt(...)")             # another process acts
    server.stop()
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
DAPHNE = str(Path(sys.executable).with_name("daphne"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PanelServer:
    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls, data_dir: Path, *, venue_url: str, venue_api_key: str, redis_url: str = "",
               seed: bool = True) -> PanelServer:
        """1. migrate a fresh SQLite database; 2. seed users and demo data; 3. start daphne."""
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env.update({"DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true", "ACADEMY_DATA_DIR": str(data_dir),
                    "ALLOWED_HOSTS": "127.0.0.1,localhost", "VENUE_URL": venue_url, "VENUE_API_KEY": venue_api_key,
                    "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)})
        if redis_url:
            env["REDIS_URL"] = redis_url
        server = cls(data_dir=data_dir, env=env)
        server.manage("migrate", "--noinput")
        if seed:
            server.shell("from tests.panel.seed import seed; seed()")
        server.start()
        return server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=60)
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def shell(self, code: str) -> str:
        """Run Python in a separate Django process (a worker, the command line: not the web process)."""
        return self.manage("shell", "-c", code)

    def start(self, timeout: float = 20.0) -> None:
        log = open(self.data_dir / f"daphne-{self.port}.log", "ab")  # noqa: SIM115 (the process owns it)
        self.process = subprocess.Popen([DAPHNE, "-b", "127.0.0.1", "-p", str(self.port), "academy.asgi:application"],
                                        cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log_tail()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"daphne did not answer within {timeout}s: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        logs = sorted(self.data_dir.glob("daphne-*.log"))
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-lines:]) if logs else ""
