"""Test settings: the embedded default in a throw-away data dir, production-like security on."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Most tests run agents without a monitor process; tests/agents/test_monitor_heartbeat.py turns it on.
os.environ.setdefault("REQUIRE_MONITOR_HEARTBEAT", "false")
# A parked halt's lander thread would outlive its test; tests that need it turn it on.
os.environ.setdefault("HALT_LANDER_S", "0")
os.environ["ACADEMY_DATA_DIR"] = tempfile.mkdtemp(prefix="academy-test-")
# A host's own OpenTelemetry settings must not send the suite's runs (and the headers' keys) to its backend:
# the tests that export set their own, against a local receiver.
for _name in [n for n in os.environ if n.startswith("OTEL_") or n == "TRACE_LINK_TEMPLATE"]:
    del os.environ[_name]

from academy.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A file, not memory: tests that start real processes (the monitor, daphne, a worker) need them
# to see the same database. Each xdist worker has its own data dir, hence its own file.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
