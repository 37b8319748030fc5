"""OpenTelemetry is an option, off by default: nothing is imported or exported unless OTEL_ENABLED is set, and
with it set but the `otel` extra missing the process still starts (with a warning), without traces."""

import importlib.util
import sys

import pytest

from config import telemetry


def test_the_web_process_starts_without_opentelemetry_by_default(monkeypatch):
    monkeypatch.delenv("OTEL_ENABLED", raising=False)
    import config.wsgi  # noqa: F401 - what gunicorn loads

    assert [m for m in sys.modules if m.startswith("opentelemetry")] == []


def test_traces_are_on_only_when_enabled(monkeypatch, caplog):
    monkeypatch.delenv("OTEL_ENABLED", raising=False)
    assert telemetry.enabled() is False and telemetry.telemetry_setup(service="web") is False
    monkeypatch.setenv("OTEL_ENABLED", "false")
    assert telemetry.enabled() is False
    monkeypatch.setenv("OTEL_ENABLED", "true")
    assert telemetry.enabled() is True
    if importlib.util.find_spec("opentelemetry"):
        pytest.skip("the otel extra is installed here")
    assert telemetry.telemetry_setup(service="web") is False  # enabled, not installed: the app runs on, untraced
    assert "not installed" in caplog.text
