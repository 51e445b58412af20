"""`serve` says where the dashboard is; with --token, a one-time link that logs a browser in and never shows
the token."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx

CLI = [sys.executable, "-m", "mockserver.cli", "serve", "--port", "0", "--latency", "none"]


def _first_lines(*flags: str) -> tuple[str, str]:
    with subprocess.Popen([*CLI, *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        try:
            served, dashboard = process.stdout.readline(), process.stdout.readline()
            link = dashboard.split()[1]
            first = httpx.get(link, follow_redirects=False, timeout=10)
            second = httpx.get(link, follow_redirects=False, timeout=10)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
    assert served.startswith("qolaba-mock serving on http://127.0.0.1:")
    return dashboard, f"{first.status_code} {first.headers.get('set-cookie', '')} / {second.status_code}"


def test_serve_prints_the_dashboards_address() -> None:
    dashboard, answers = _first_lines()
    assert dashboard.startswith("dashboard: http://127.0.0.1:") and dashboard.rstrip().endswith("/__admin/ui/")
    assert answers.startswith("200")


def test_with_a_token_serve_prints_a_one_time_link_that_never_holds_the_token() -> None:
    dashboard, answers = _first_lines("--token", "sk-secret-value")
    assert "/__admin/ui/login?code=" in dashboard and "sk-secret-value" not in dashboard
    first, _, second = answers.partition(" / ")
    assert first.startswith("303 qolaba_mock_admin=") and second == "401"
