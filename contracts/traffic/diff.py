"""`diff`: the same requests to a target and to the fake in a fidelity profile, and every way the answers differ.

The target is a recording of the API (`diff_cassette`, here: offline, the check to run in CI) or the live API
(`contracts.traffic.live_diff.diff_live`). Answers are compared as `contracts.traffic.comparison` says; the fake
is `mockserver.testing.in_profile`'s.

Usage:
    report = diff_cassette(read_cassette("prod.jsonl"), "production", source="prod.jsonl")
    print(report.text())
    sys.exit(1 if report.differences else 0)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from contracts.cassette.ignored_fields import parse_ignored
from contracts.cassette.jsonl import Cassette, Exchange
from contracts.cassette.token_names import Auth
from contracts.client.curl import curl_line
from contracts.client.target import Credentials, headers_for
from contracts.spec.dialects import read_answer
from contracts.spec.statuses import shows_end
from contracts.traffic.comparison import Answer, Difference, DiffReport, differences
from mockserver.behaviour.fidelity.profiles import profile_names
from mockserver.testing.in_profile import fake_in_profile

# How a curl line and the fake's request present a recording's credentials: a recorded bearer token is sent
# under its name (`t1`), which the fake accepts, and shown as `$TOKEN`.
_RECORDED: dict[Auth, Credentials] = {"bearer": "token", "other": "other", None: None}


def diff_cassette(cassette: Cassette, profile: str, *, source: str, ignore: Iterable[str] = ()) -> DiffReport:
    """Send every recorded request to the fake in `profile`, in order, and compare the answers.

    The fake keeps the recording's order, not its clock: exchange n is sent at n seconds of the fake's virtual
    time, and a queued task is given a running time that ends between the last poll that saw it PENDING and
    the first that saw it end, so each poll meets the fake's task in the state the recording saw. Task ids and
    output URLs are mapped to the fake's. `ignore` names answer fields left out of the comparison (`seed`,
    `/output/Has_NSFW_Content`), as `serve --replay-ignore` leaves request fields out of matching.
    """
    ignored = parse_ignored(ignore)
    report = DiffReport(source, profile)
    task_ids: dict[str, str] = {}  # recorded task id -> the fake's
    urls: dict[str, str] = {}  # recorded output URL path -> the fake's
    with fake_in_profile(profile, _accepted_tokens(cassette)) as fake:
        for step, exchange in enumerate(cassette.exchanges, start=1):
            fake.at(step * _STEP)
            body = _with_ids(exchange, task_ids)
            path = urls.get(exchange.path, exchange.path)
            response = fake.send(exchange.method, path, headers=_headers(cassette, exchange), content=_raw(body))
            theirs, ours = Answer.of_exchange(exchange), Answer.of_response(response)
            _learn(theirs.body, ours.body, task_ids, urls)
            report.compared += 1
            line = curl_line(exchange.method, cassette.upstream + exchange.path, _RECORDED[exchange.auth], body)
            found_here = differences(theirs, ours, ignored)
            report.differences += [Difference(exchange.seq, line, *found) for found in found_here]
    return report


# Simulated seconds between two exchanges in the fake: a task polled over at most max_latency / _STEP exchanges.
_STEP = 1.0


def closest_profile(
    cassette: Cassette, *, source: str, ignore: Iterable[str] = ()
) -> tuple[DiffReport, list[DiffReport]]:
    """The profile whose answers differ least from the recording (ties: the first registered), and every
    profile's report, in the registry's order."""
    reports = [diff_cassette(cassette, profile, source=source, ignore=ignore) for profile in profile_names()]
    return min(reports, key=lambda report: len(report.differences)), reports


def _accepted_tokens(cassette: Cassette) -> frozenset[str]:
    # A token the recorded API answered without refusing it is one the fake must accept; the others it refuses.
    refused = {e.token for e in cassette.exchanges if _refuses_credentials(e)}
    accepted = {e.token for e in cassette.exchanges if e.token is not None and e.token not in refused}
    return frozenset(str(token) for token in accepted)


def _refuses_credentials(exchange: Exchange) -> bool:
    body = exchange.response.json if exchange.response.is_json else None
    return exchange.auth == "bearer" and read_answer(exchange.status, body).refuses_credentials


def _headers(cassette: Cassette, exchange: Exchange) -> dict[str, str]:
    headers = headers_for(_RECORDED[exchange.auth], str(exchange.token))
    if exchange.request.content_type is not None:
        headers["Content-Type"] = exchange.request.content_type
    # A fake under record was steered (X-Mock-Fault: no_face, say); the fake under diff must be steered alike.
    headers.update({k: v for k, v in (exchange.request.steering or {}).items() if k != "x-mock-latency"})
    running = _running_time(cassette, exchange)
    if running is not None:
        headers["X-Mock-Latency"] = f"fixed:{running:g}s"
    return headers


def _running_time(cassette: Cassette, submit: Exchange) -> float | None:
    """For a recorded queued submit: a running time (in the fake's steps) that ends after the last poll that saw
    the task PENDING and no later than the first that saw it end; None if it never ended."""
    steps = {exchange.seq: step for step, exchange in enumerate(cassette.exchanges, start=1)}
    polls = cassette.polls_of(submit)
    ended = [steps[p.seq] for p in polls if _shows_end(p)]
    if not ended or submit.seq not in steps:
        return None
    pending = [steps[p.seq] for p in polls if not _shows_end(p) and steps[p.seq] < min(ended)]
    last_pending = max(pending, default=steps[submit.seq])
    return (last_pending + min(ended)) / 2 * _STEP - steps[submit.seq] * _STEP


def _shows_end(poll: Exchange) -> bool:
    # A gateway's answer (a 502, say) was neither: the task ran on behind it.
    return shows_end(poll.status, poll.response.json if poll.response.is_json else None)


def _with_ids(exchange: Exchange, task_ids: dict[str, str]) -> Any:
    body = exchange.request.json if exchange.request.is_json else exchange.request.text
    if isinstance(body, dict) and str(body.get("id")) in task_ids:
        return {**body, "id": task_ids[str(body["id"])]}
    return body


def _raw(body: Any) -> bytes:
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


def _learn(theirs: Any, ours: Any, task_ids: dict[str, str], urls: dict[str, str]) -> None:
    if not (isinstance(theirs, dict) and isinstance(ours, dict)):
        return
    if isinstance(theirs.get("task_id"), str) and isinstance(ours.get("task_id"), str):
        task_ids[theirs["task_id"]] = ours["task_id"]
    for key in ("result", "low_res_urls"):
        recorded = (theirs.get("output") or {}).get(key) if isinstance(theirs.get("output"), dict) else None
        served = (ours.get("output") or {}).get(key) if isinstance(ours.get("output"), dict) else None
        if isinstance(recorded, list) and isinstance(served, list):
            urls.update({urlsplit(a).path: urlsplit(b).path for a, b in zip(recorded, served, strict=False)})
