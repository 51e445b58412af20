"""LiveServer: the fake over a real socket reports where it actually listens."""

from __future__ import annotations

import httpx

from mockserver import Config
from mockserver.server.live_server import LiveServer
from tests.conftest import AUTH


def test_the_admin_config_shows_the_port_the_live_server_bound() -> None:
    with LiveServer(Config()) as server, httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as client:
        port = int(server.url.rsplit(":", 1)[1])
        shown = client.get("/__admin/config").json()["port"]
        # The pytest plugin reconfigures its session server per test; the bound port stays the truth.
        server.app.state.backend.reconfigure(Config(seed=3))
        patched = client.patch("/__admin/config", json={"latency": "none"}).json()["port"]
        after = client.get("/__admin/config").json()

    assert (shown, patched, after["port"], after["seed"]) == (port, port, port, 3)
