"""With --token the dashboard needs it as the admin API does: a one-time link or the token trades for a cookie
that stands for it on /__admin, and the token leaves the address bar."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from mockserver import Config
from mockserver.http.guards import SESSION_COOKIE

SECRET = "s3cret-admin-token"


def _protected(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(Config(seed=1, tokens=frozenset({SECRET})))


def test_without_a_session_the_dashboard_answers_401(make_client: Callable[..., TestClient]) -> None:
    client = _protected(make_client)
    assert client.get("/__admin/ui/").status_code == 401
    assert client.get("/__admin/ui/stream").status_code == 401


def test_a_one_time_link_logs_in_once_and_the_address_loses_the_code(make_client: Callable[..., TestClient]) -> None:
    client = _protected(make_client)
    code = client.app.state.admin_sessions.one_time_code(frozenset({SECRET}))  # type: ignore[attr-defined]
    answer = client.get(f"/__admin/ui/login?code={code}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/__admin/ui/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and SECRET not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/__admin" in cookie
    page = client.get("/__admin/ui/")
    assert page.status_code == 200 and SECRET not in page.text and code not in page.text
    # The cookie stands for a token on the admin API too: the page's own calls go there.
    assert client.get("/__admin/faults").status_code == 200
    again = TestClient(client.app, base_url=str(client.base_url)).get(f"/__admin/ui/login?code={code}")
    assert again.status_code == 401 and "used already" in again.text


def test_the_token_itself_logs_in_and_a_wrong_one_does_not(make_client: Callable[..., TestClient]) -> None:
    client = _protected(make_client)
    wrong = client.get("/__admin/ui/login?token=guess")
    assert wrong.status_code == 401 and "guess" not in wrong.text
    assert client.get(f"/__admin/ui/login?token={SECRET}").status_code == 200
    assert client.get("/__admin/ui/controls").status_code == 200


def test_writes_with_the_cookie_keep_the_admin_apis_same_origin_rule(make_client: Callable[..., TestClient]) -> None:
    client = _protected(make_client)
    client.get(f"/__admin/ui/login?token={SECRET}")
    elsewhere = client.post("/__admin/clock/advance", json={"seconds": 1}, headers={"Origin": "http://evil.test"})
    assert elsewhere.status_code == 403
    as_form = client.post("/__admin/faults", content=b"faults=x", headers={"Content-Type": "text/plain"})
    assert as_form.status_code == 415


def test_without_tokens_the_login_link_just_opens_the_dashboard(client: TestClient) -> None:
    answer = client.get("/__admin/ui/login?token=anything", follow_redirects=False)
    assert answer.status_code == 303 and "set-cookie" not in answer.headers


def test_sessions_are_bounded_the_oldest_forgotten_first() -> None:
    from mockserver.http.guards import AdminSessions

    tokens = frozenset({SECRET})
    sessions = AdminSessions(limit=2)
    first, second, third = sessions.open(tokens), sessions.open(tokens), sessions.open(tokens)
    assert not sessions.admits(f"{SESSION_COOKIE}={first}", tokens)
    assert sessions.admits(f"other=1; {SESSION_COOKIE}={second}", tokens)
    assert sessions.admits(f"{SESSION_COOKIE}={third}", tokens)
    codes = [sessions.one_time_code(tokens) for _ in range(3)]
    assert sessions.redeem(codes[0], tokens) is None and sessions.redeem(codes[2], tokens) is not None


def test_new_tokens_end_every_earlier_session_and_unused_link(make_client: Callable[..., TestClient]) -> None:
    client = _protected(make_client)
    sessions = client.app.state.admin_sessions  # type: ignore[attr-defined]
    unused = sessions.one_time_code(frozenset({SECRET}))
    client.get(f"/__admin/ui/login?token={SECRET}")
    assert client.get("/__admin/ui/").status_code == 200
    rotated = client.patch("/__admin/config", json={"tokens": ["n3w-admin-token"]})  # sent with the cookie
    assert rotated.status_code == 200, rotated.text
    # The cookie stood for the old token, which no longer opens anything; nor does a link printed before.
    assert client.get("/__admin/ui/").status_code == 401
    assert client.get("/__admin/faults").status_code == 401
    assert client.get(f"/__admin/ui/login?code={unused}").status_code == 401
    assert client.get("/__admin/ui/login?token=n3w-admin-token").status_code == 200
    assert client.get("/__admin/ui/").status_code == 200
