"""The dashboard's pages through Starlette's test client: what they show, escaped, and the headers they carry."""

from __future__ import annotations

import json
import re

from starlette.testclient import TestClient

from mockserver.dashboard.rows import PAGE_ROWS
from mockserver.dashboard.security import CSP
from tests.conftest import valid_body
from tests.mockserver.dashboard.conftest import AUTH, STATUS, XSS_PROMPTS, submit

UI = "/__admin/ui/"


def test_every_view_sends_a_policy_that_runs_no_inline_script_and_refuses_framing(client: TestClient) -> None:
    submit(client)
    for path in ("", "tasks", "controls", "exchange/1", "export.har", "static/dashboard.js"):
        answer = client.get(UI + path)
        assert answer.status_code == 200, path
        assert answer.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in client.get(UI).text.replace('<script src="/__admin/ui/static/dashboard.js" defer>', "")


def test_the_bare_address_leads_to_the_journal(client: TestClient) -> None:
    answer = client.get("/__admin/ui", follow_redirects=False)
    assert answer.status_code == 308 and answer.headers["location"] == UI


def test_attacker_prompts_render_as_text_on_the_journal_and_the_exchange(client: TestClient) -> None:
    for prompt in XSS_PROMPTS:
        submit(client, prompt=prompt)
    pages = client.get(UI + "?q=pwned").text + client.get(UI + "exchange/1").text + client.get(UI + "exchange/2").text
    assert "<script>window.pwned" not in pages and "<img src=x" not in pages
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in pages
    assert "&lt;img src=x onerror=" in pages


def test_a_refused_request_says_each_broken_rule_in_words(client: TestClient) -> None:
    submit(client, batch=99, height=7)
    page = client.get(UI + "exchange/1").text
    why = re.search(r'<ul id="why">(.*?)</ul>', page, re.S)
    assert why is not None
    assert "batch:" in why.group(1) and "height:" in why.group(1)
    assert "refused" in page and "at once (contract)" in page


def test_the_journal_is_newest_first_and_pages_older_rows(client: TestClient) -> None:
    for _ in range(PAGE_ROWS + 5):
        client.post(STATUS, json={"id": "no-such-task"}, headers=AUTH)
    first = client.get(UI).text
    seqs = [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', first)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == PAGE_ROWS
    older = re.search(r'href="/__admin/ui/\?([^"]+)" id="older"', first)
    assert older is not None
    rest = client.get(UI + "?" + older.group(1).replace("&amp;", "&")).text
    assert [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', rest)] == [5, 4, 3, 2, 1]


def test_filters_show_only_matching_rows_and_stay_in_the_address(client: TestClient) -> None:
    submit(client)  # 1: accepted
    submit(client, batch=99)  # 2: refused
    client.post(STATUS, json={"id": "missing"}, headers=AUTH)  # 3: a poll
    client.post(STATUS, json={}, headers=AUTH)  # 4: refused poll

    def shown(query: str) -> list[int]:
        return [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', client.get(UI + "?" + query).text)]

    assert shown("status=4xx") == [4, 2]
    assert shown("verdict=refused&path=getImagetoImage") == [2]
    assert shown("verdict=accepted") == [1]
    assert shown("path=getImage%3F") == []
    assert shown("task=missing") == [3]
    assert shown("q=missing") == [3]
    page = client.get(UI + "?status=4xx&q=missing").text
    assert 'data-query="status=4xx&amp;q=missing"' in page  # the live stream and exports keep the filters


def test_a_fault_filter_finds_the_requests_a_fault_met(client: TestClient) -> None:
    client.put("/__admin/faults", json={"faults": ["http_500:every:2"]})
    for _ in range(4):
        submit(client)
    assert [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', client.get(UI + "?fault=any").text)] == [4, 2]
    assert "http_500" in client.get(UI + "?fault=http_500").text


def test_an_exchange_offers_curl_and_httpx_with_the_token_left_to_the_shell(client: TestClient) -> None:
    submit(client)
    page = client.get(UI + "exchange/1").text
    assert "Bearer $TOKEN" in page and "caller-token" not in page
    assert "os.environ[&#39;TOKEN&#39;]" in page


def test_an_image_answer_is_shown_as_an_image(client: TestClient) -> None:
    answer = submit(client).json()
    url = answer["output"]["result"][0]
    client.get(url)
    page = client.get(UI + "exchange/2").text
    image = re.search(r'<img src="(/__admin/ui/image/[^"]+)"', page)
    assert image is not None and client.get(image.group(1)).headers["content-type"].startswith("image/")
    assert len(client.get("/__admin/journal").json()["entries"]) == 2  # looking at it recorded nothing


def test_a_queued_task_has_a_timeline_from_submit_to_its_end(make_client: object, clock: object) -> None:
    from mockserver import Config

    client = make_client(Config(seed=1, clock="virtual", latency="fixed:30s"))  # type: ignore[operator]
    task_id = submit(client, celery=True).json()["task_id"]
    client.post(STATUS, json={"id": task_id}, headers=AUTH)
    pending = client.get(UI + "tasks").text
    assert f'id="task-{task_id}"' in pending and "state-PENDING" in pending and "advance-until" in pending
    client.post("/__admin/clock/advance", json={"seconds": 60})
    client.post(STATUS, json={"id": task_id}, headers=AUTH)
    done = client.get(UI + "tasks").text
    steps = re.findall(r"<b>([^<]+)</b>", done[done.index(task_id) :])
    assert steps[:4] == ["submit", "poll", "finished: SUCCESS", "poll"] and "result expires" in steps
    assert "; wall " in done  # a virtual clock's moments also say when they happened
    assert 'class="thumb"' in done


def test_controls_show_fault_rules_with_their_hits_and_the_profiles(client: TestClient) -> None:
    client.put("/__admin/faults", json={"faults": ["http_500:every:2"]})
    for _ in range(4):
        submit(client)
    page = client.get(UI + "controls").text
    assert re.search(r'<td class="rule">http_500:every:2</td><td>2</td>', page)
    for profile in ("contract", "production", "production-2024"):
        assert f'<option value="{profile}"' in page


def test_an_unknown_exchange_or_namespace_is_one_sentence_not_a_traceback(client: TestClient) -> None:
    missing = client.get(UI + "exchange/99")
    assert missing.status_code == 422 and "No exchange 99" in missing.text
    bad = client.get(UI + "?namespace=" + "x" * 500)
    assert bad.status_code == 422 and 'id="problem"' in bad.text


def test_send_again_goes_through_the_whole_fake_and_names_the_new_exchange(client: TestClient) -> None:
    submit(client, batch=99)
    again = client.post("/__admin/ui/exchange/1/resend", json={})
    assert again.json() == {"seq": 2, "status": 422}
    page = client.get(UI + "exchange/2").text
    assert "batch:" in page and "refused" in page


def test_send_again_keeps_the_admin_apis_same_origin_and_json_rules(client: TestClient) -> None:
    submit(client)
    assert client.post("/__admin/ui/exchange/1/resend", content=b"{}").status_code == 415
    elsewhere = client.post("/__admin/ui/exchange/1/resend", json={}, headers={"Origin": "http://evil.test"})
    assert elsewhere.status_code == 403
    assert len(client.app.state.backend.namespaces.get("default").journal) == 1  # type: ignore[attr-defined]


def test_each_row_names_the_profile_that_answered_it_across_a_switch(client: TestClient) -> None:
    submit(client)
    client.patch("/__admin/config", json={"fidelity": "production"})
    submit(client)
    page = client.get(UI).text
    profiles = re.findall(r'<td class="profile">([^<]*)</td>', page)
    assert profiles == ["production", "contract"]
    entries = client.get("/__admin/journal").json()["entries"]
    assert [entry["profile"] for entry in entries] == ["contract", "production"]


def test_a_steered_request_shows_its_steering_and_its_snippets_send_it_again(client: TestClient) -> None:
    import html
    import shlex

    client.post(
        "/api/v1/studio/getImagetoImage",
        json=valid_body(prompt='it\'s "quoted"'),
        headers={**AUTH, "X-Mock-Fault": "http_500"},
    )
    page = client.get(UI + "exchange/1").text
    assert "x-mock-fault: http_500" in page
    curl = html.unescape(re.search(r'<pre id="curl">(.*?)</pre>', page, re.S).group(1))  # type: ignore[union-attr]
    words = shlex.split(curl)
    assert words[words.index("--data-raw") + 1] == json.dumps(
        valid_body(prompt='it\'s "quoted"'), separators=(",", ":")
    )
    assert "x-mock-fault: http_500" in words and "Authorization: Bearer $TOKEN" in words
    python = html.unescape(re.search(r'<pre id="python">(.*?)</pre>', page, re.S).group(1))  # type: ignore[union-attr]
    compile(python, "snippet", "exec")  # valid Python as shown
    assert "'x-mock-fault': 'http_500'" in python and "caller-token" not in python
    line = client.get("/__admin/ui/export.jsonl").text.splitlines()[1]
    assert json.loads(line)["request"]["steering"] == {"x-mock-fault": "http_500"}


def test_judgments_are_kept_once_per_exchange_and_bounded() -> None:
    from mockserver.dashboard.rows import Judgments, row_of
    from mockserver.sim.journal import Body, Entry

    def entry(seq: int) -> Entry:
        body = Body(b'{"status": "FAILED", "error_data": [{"field": "batch", "message": "too big"}]}', 78, "")
        return Entry(seq, "default", 0.0, 0.0, "POST", "/getImagetoImage", 422, None, None, Body(), body)

    judgments = Judgments(limit=2)
    first = judgments.row(entry(1))
    assert first == row_of(entry(1)) and first.why == ("batch: too big",)
    assert judgments.row(entry(1)) == first and len(judgments) == 1
    judgments.row(entry(2))
    judgments.row(entry(3))
    assert len(judgments) == 2
