"""Settings come from the environment; a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from academy import envconf

ROOT = Path(__file__).resolve().parents[2]


def _start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a fresh interpreter with exactly this environment (plus PATH)."""
    full = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "academy.settings", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *(args or ("check",))],
        cwd=ROOT, env=full, capture_output=True, text=True, timeout=60,
    )


def test_it_parses_booleans_strictly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert envconf.env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        envconf.env_bool("X_FLAG", False)


def test_it_refuses_integers_out_of_bounds(monkeypatch):
    monkeypatch.setenv("X_N", "0")
    with pytest.raises(ImproperlyConfigured, match="X_N=0 is below the minimum 1"):
        envconf.env_int("X_N", 2, minimum=1)
    monkeypatch.setenv("X_N", "two")
    with pytest.raises(ImproperlyConfigured, match="X_N"):
        envconf.env_int("X_N", 2)


def test_it_refuses_a_list_with_an_empty_item(monkeypatch):
    monkeypatch.setenv("X_HOSTS", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match="X_HOSTS"):
        envconf.env_list("X_HOSTS", [])


def test_it_defaults_to_sqlite_in_wal_mode(tmp_path, monkeypatch):
    monkeypatch.delenv("X_DB", raising=False)
    config = envconf.env_database("X_DB", tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_it_parses_a_postgres_url(tmp_path, monkeypatch):
    monkeypatch.setenv("X_DB", "postgres://academy:pw@db.internal:5433/academy")
    config = envconf.env_database("X_DB", tmp_path / "unused")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "academy")


def test_it_refuses_an_unsupported_database_scheme(tmp_path, monkeypatch):
    monkeypatch.setenv("X_DB", "mysql://root@localhost/academy")
    with pytest.raises(ImproperlyConfigured, match="X_DB uses"):
        envconf.env_database("X_DB", tmp_path / "unused")


def test_it_refuses_a_redis_url_without_scheme(monkeypatch):
    monkeypatch.setenv("X_REDIS", "localhost:6379")
    with pytest.raises(ImproperlyConfigured, match="X_REDIS"):
        envconf.env_redis_url("X_REDIS")


def test_it_requires_a_secret_key_when_debug_is_off(tmp_path):
    result = _start({"DEBUG": "false", "ACADEMY_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_stops_start_up_naming_a_bad_variable(tmp_path):
    result = _start({"DEBUG": "true", "ACADEMY_DATA_DIR": str(tmp_path), "DATABASE_URL": "nonsense://x"})
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_it_passes_the_deploy_check_with_production_settings(tmp_path):
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "p" + "roduction-secret-" * 4,
        "ALLOWED_HOSTS": "academy.example.com",
        "ACADEMY_DATA_DIR": str(tmp_path),
    }
    result = _start(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_uses_redis_for_the_queue_and_channels_when_redis_url_is_set(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.Q_CLUSTER.get('redis'), 'orm' in s.Q_CLUSTER, s.CHANNEL_LAYERS['default']['BACKEND'])"
    )
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true",
           "ACADEMY_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:6379/3"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["redis://127.0.0.1:6379/3", "False", "channels_redis.core.RedisChannelLayer"]


def test_it_refuses_a_model_url_that_would_send_a_key_in_clear(monkeypatch):
    monkeypatch.setenv("X_URL", "http://models.example.com/v1")
    with pytest.raises(ImproperlyConfigured, match="X_URL"):
        envconf.env_url("X_URL", "", secure_unless_loopback=True)
    monkeypatch.setenv("X_URL", "http://127.0.0.1:9000/v1/")
    assert envconf.env_url("X_URL", "", secure_unless_loopback=True) == "http://127.0.0.1:9000/v1"
    monkeypatch.setenv("X_URL", "notaurl")
    with pytest.raises(ImproperlyConfigured, match="X_URL"):
        envconf.env_url("X_URL", "")


def test_it_only_adds_to_the_redacted_variables(tmp_path):
    code = "import django; django.setup(); from django.conf import settings as s; print(*s.TRACE_SECRET_ENV_VARS)"
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true",
           "ACADEMY_DATA_DIR": str(tmp_path), "TRACE_SECRET_ENV_VARS": "MY_BROKER_PASSWORD"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    names = out.stdout.split()
    assert "MY_BROKER_PASSWORD" in names and "VENUE_API_KEY" in names and "SECRET_KEY" in names


def test_it_warns_about_a_wildcard_host_in_production(tmp_path):
    env = {"DEBUG": "false", "SECRET_KEY": "p" + "roduction-secret-" * 4, "ALLOWED_HOSTS": "*",
           "ACADEMY_DATA_DIR": str(tmp_path)}
    result = _start(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "academy.W002" in result.stderr


def test_it_refuses_an_open_metrics_endpoint_behind_a_proxy(tmp_path):
    env = {"DEBUG": "false", "SECRET_KEY": "p" + "roduction-secret-" * 4, "ALLOWED_HOSTS": "academy.example.com",
           "ACADEMY_DATA_DIR": str(tmp_path), "BEHIND_TLS_PROXY": "true"}
    result = _start(env, "check", "--deploy")
    assert result.returncode != 0 and "monitoring.E021" in result.stderr
    ok = _start({**env, "METRICS_TOKEN": "t" * 40}, "check", "--deploy", "--fail-level", "WARNING")
    assert ok.returncode == 0, ok.stderr


def test_it_reads_the_demo_dotenv_without_overriding_real_variables(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("manage_module", ROOT / "manage.py")
    manage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(manage)
    (tmp_path / ".env").write_text("DEBUG=true\nACADEMY_DATA_DIR=/srv/academy/var\n# a comment\n")
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.setenv("ACADEMY_DATA_DIR", "/already/set")
    manage._read_dotenv(tmp_path / ".env")
    assert os.environ["DEBUG"] == "true" and os.environ["ACADEMY_DATA_DIR"] == "/already/set"


def test_the_test_settings_drop_the_hosts_opentelemetry_variables():
    """A host-wide OTEL_EXPORTER_OTLP_ENDPOINT must not send the suite's runs (and its headers' keys) away."""
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.example:4318",
           "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=host-key", "TRACE_LINK_TEMPLATE": "http://j/{trace_id}"}
    code = ("import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'academy.settings_test'; django.setup(); "
            "from agents import otel; names = [n for n in os.environ if n.startswith('OTEL_')]; "
            "print(sorted(names + [n for n in os.environ if n == 'TRACE_LINK_TEMPLATE']), otel.enabled())")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "False"]
