"""The run viewer names the run's OpenTelemetry trace, linked into the backend by TRACE_LINK_TEMPLATE."""

from __future__ import annotations

import pytest
from django.core.checks import WARNING, run_checks
from django.urls import reverse

from agents.otel import trace_id_for, trace_link
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


def _page(client, run) -> str:
    response = client.get(reverse("agents:run", args=[run.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_links_the_run_to_its_trace_in_the_backend(reader_client, settings) -> None:
    settings.TRACE_LINK_TEMPLATE = "http://jaeger.internal:16686/trace/{trace_id}"
    run = RunFactory(status="completed")
    trace_id = trace_id_for(run)
    assert len(trace_id) == 32 and int(trace_id, 16)
    html = _page(reader_client, run)
    assert f'href="http://jaeger.internal:16686/trace/{trace_id}"' in html and "OpenTelemetry trace" in html


def test_it_shows_the_trace_id_where_runs_are_exported_and_nothing_where_they_are_not(
        reader_client, settings, monkeypatch) -> None:
    settings.TRACE_LINK_TEMPLATE = ""
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED",
                 "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"):
        monkeypatch.delenv(name, raising=False)
    run = RunFactory(status="completed")
    assert "OpenTelemetry trace" not in _page(reader_client, run)  # not exported: an id of nothing
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    html = _page(reader_client, run)
    assert f'<code id="otel-trace">{trace_id_for(run)}</code>' in html


def test_a_link_template_that_cannot_make_a_link_is_warned_of_at_start(settings) -> None:
    assert trace_link("http://x/trace/{trace_id}", "ab") == "http://x/trace/ab"
    for bad in ("http://x/trace/{trace}", "http://x/{trace_id}/{0}", "jaeger:16686/{trace_id}", "http://x/{"):
        settings.TRACE_LINK_TEMPLATE = bad
        found = [e for e in run_checks() if e.id == "academy.W011"]
        assert [(e.id, e.level) for e in found] == [("academy.W011", WARNING)], bad  # never stops a command
    settings.TRACE_LINK_TEMPLATE = "https://tempo.example/explore?traceId={trace_id}"
    assert not [e for e in run_checks() if e.id == "academy.W011"]


@pytest.mark.parametrize("bad", ["jaeger:16686/trace/{trace_id}", "javascript:alert(1)//{trace_id}",
                                 "http://x/{trace_id}/{0}"])
def test_a_link_template_that_cannot_make_a_link_shows_the_trace_id_unlinked(reader_client, settings, bad) -> None:
    settings.TRACE_LINK_TEMPLATE = bad
    run = RunFactory(status="completed")
    html = _page(reader_client, run)
    assert f'<code id="otel-trace">{trace_id_for(run)}</code>' in html and 'href="javascript' not in html
    assert "jaeger:16686" not in html
