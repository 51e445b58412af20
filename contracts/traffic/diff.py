"""`diff`: the same requests to a target and to the fake in a fidelity profile, and every way the answers differ.

The target is a recording of the API (`diff_cassette`, offline: the check to run in CI) or the live API
(`diff_live`). Answers are compared as `contracts.traffic.comparison` says.

Usage:
    report = diff_cassette(read_cassette("prod.jsonl"), "production", source="prod.jsonl")
    print(report.text())
    sys.exit(1 if report.differences else 0)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.cassette.ignored_fields import parse_ignored
from contracts.cassette.jsonl import Cassette, Exchange
from contracts.client.target import Target
from contracts.spec.dialects import read_answer
from contracts.spec.schema import STATUS, SUBMIT, operation_path
from contracts.traffic.comparison import MADE_UP_TOKEN, Answer, Difference, DiffReport, curl, differences

PROFILES = ("contract", "production", "production-2024")


class FakeUnderTest:
    """The fake in-process in one profile, on a virtual clock, with the tokens a recording accepted."""

    def __init__(self, profile: str, tokens: frozenset[str]) -> None:
        from mockserver.app import create_app
        from mockserver.behaviour.clock import VirtualClock
        from mockserver.config.settings import Config
        from mockserver.testing.handle import QolabaMock

        self.clock = VirtualClock()
        config = Config(fidelity=profile, tokens=tokens, clock="virtual", latency="none")
        self.mock = QolabaMock(create_app(config, clock=self.clock))
        self.client = httpx.Client(transport=self.mock.transport(), base_url="http://fake")
        self.started = self.clock.now()

    def at(self, seconds: float) -> None:
        """Move the fake's clock to `seconds` after it started, if it is not there yet."""
        behind = self.started + seconds - self.clock.now()
        if behind > 0:
            self.clock.advance(behind)

    def send(self, method: str, path: str, *, headers: dict[str, str], content: bytes) -> httpx.Response:
        return self.client.request(method, path, headers=headers, content=content)

    def close(self) -> None:
        self.client.close()
        self.mock.close()


@contextmanager
def fake_under_test(profile: str, tokens: frozenset[str]) -> Iterator[FakeUnderTest]:
    fake = FakeUnderTest(profile, tokens)
    try:
        yield fake
    finally:
        fake.close()


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
    with fake_under_test(profile, _accepted_tokens(cassette)) as fake:
        for step, exchange in enumerate(cassette.exchanges, start=1):
            fake.at(step * _STEP)
            body = _with_ids(exchange, task_ids)
            path = urls.get(exchange.path, exchange.path)
            response = fake.send(exchange.method, path, headers=_headers(cassette, exchange), content=_raw(body))
            theirs, ours = Answer.of_exchange(exchange), Answer.of_response(response)
            _learn(theirs.body, ours.body, task_ids, urls)
            report.compared += 1
            line = curl(exchange.method, cassette.upstream + exchange.path, exchange.auth, body)
            found_here = differences(theirs, ours, ignored)
            report.differences += [Difference(exchange.seq, line, *found) for found in found_here]
    return report


# Simulated seconds between two exchanges in the fake: a task polled over at most max_latency / _STEP exchanges.
_STEP = 1.0


def closest_profile(
    cassette: Cassette, *, source: str, ignore: Iterable[str] = ()
) -> tuple[DiffReport, list[DiffReport]]:
    """The profile whose answers differ least from the recording, and every profile's report."""
    reports = [diff_cassette(cassette, profile, source=source, ignore=ignore) for profile in PROFILES]
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
    headers: dict[str, str] = {}
    if exchange.auth == "bearer":
        headers["Authorization"] = f"Bearer {exchange.token}"
    elif exchange.auth == "other":
        headers["Authorization"] = "Basic cWFvbGFiYS1tb2Nr"
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
    ended = [steps[p.seq] for p in polls if _ended(p)]
    if not ended or submit.seq not in steps:
        return None
    pending = [steps[p.seq] for p in polls if not _ended(p) and steps[p.seq] < min(ended)]
    last_pending = max(pending, default=steps[submit.seq])
    return (last_pending + min(ended)) / 2 * _STEP - steps[submit.seq] * _STEP


def _ended(poll: Exchange) -> bool:
    body = poll.response.json if poll.response.is_json else None
    return poll.status >= 500 or (isinstance(body, dict) and body.get("status") in ("SUCCESS", "FAILED"))


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


def diff_live(
    target: Target,
    profile: str,
    *,
    mode: str = "safe",
    max_spend: int = 0,
    cases: int = 20,
    seed: int = 0,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
    task_timeout: float = 300.0,
    poll_interval: float = 2.0,
    min_interval: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    ignore: Iterable[str] = (),
) -> DiffReport:
    """Send the same requests to `target` and to the fake in `profile`, following queued tasks to their end.

    The requests: the probe's matrix (`free` or `safe`, as `mode` says), `cases` invalid submits generated from
    `seed` (poisoned as the matrix is, so none runs a job), the same request without credentials and with a
    made-up token, and status reads of a made-up id, of no id and of an id that is no string; `full` adds up
    to `max_spend` valid queued submits (each a real job on a real API). A task that ends in SUCCESS has its
    first result and low-res image fetched from each side and compared too (media type and size). `ignore`
    names answer fields left out of the comparison, as for `diff_cassette`.
    """
    ignored = parse_ignored(ignore)
    report = DiffReport(target.redact(target.base_url), profile)
    with (
        fake_under_test(profile, frozenset({target.token})) as fake,
        httpx.Client(base_url=target.base_url, transport=transport, timeout=timeout) as live,
    ):

        def to_target(path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
            return live.post(path, json=body, headers=headers)

        def to_fake(path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
            return fake.send("POST", path, headers=headers, content=_raw(body))

        for seq, (path, auth, body) in enumerate(_live_requests(mode, max_spend, cases, seed), start=1):
            if seq > 1 and min_interval > 0:
                sleep(min_interval)
            headers = {"Content-Type": "application/json", **_credentials(auth, target.token)}
            theirs = _followed(to_target, path, body, headers, task_timeout, poll_interval, sleep)
            # The fake runs on a virtual clock: a poll that must wait moves it instead of waiting.
            ours = _followed(to_fake, path, body, headers, task_timeout, poll_interval, fake.clock.advance)
            theirs += _output_images(live.get, theirs[-1])
            ours += _output_images(fake.client.get, ours[-1])
            line = target.redact(curl("POST", target.base_url + path, "bearer" if auth == "token" else auth, body))
            for answered_theirs, answered_ours in zip(theirs, ours, strict=False):
                report.compared += 1
                report.differences += [
                    Difference(seq, line, *found) for found in differences(answered_theirs, answered_ours, ignored)
                ]
            if len(theirs) != len(ours):
                report.differences.append(Difference(seq, line, "answers", str(len(theirs)), str(len(ours))))
    return report


def _live_requests(mode: str, max_spend: int, cases: int, seed: int) -> list[tuple[str, str | None, Any]]:
    """(path, credentials: "token" / "made-up" / None, body) for every request a live diff sends."""
    from contracts.probe.cases import base_body, probe_cases
    from contracts.probe.generated_cases import generated_cases

    submit, status = operation_path(SUBMIT), operation_path(STATUS)
    base = base_body()
    free = mode == "free"
    probes = [case.body(base) for case in (*probe_cases(free=free), *generated_cases(cases, seed=seed, free=free))]
    requests: list[tuple[str, str | None, Any]] = [(submit, "token", body) for body in probes]
    refused = probes[0]  # a body the contract rejects: with bad credentials nothing can start either way
    requests += [(submit, None, refused), (submit, "made-up", refused)]
    requests += [(status, "token", {"id": "00000000-0000-4000-8000-000000000000"}), (status, "token", {})]
    requests += [(status, "token", {"id": 5}), (status, None, {"id": "x"})]
    if mode == "full":
        requests += [(submit, "token", {**base, "celery": True})] * max_spend
    return requests


def _output_images(get: Callable[[str], httpx.Response], answer: Answer) -> list[Answer]:
    """A SUCCESS's first result and first low-res image, fetched as a client fetches them: without the token."""
    body = answer.body
    output = body.get("output") if isinstance(body, dict) and body.get("status") == "SUCCESS" else None
    fetched: list[Answer] = []
    for key in ("result", "low_res_urls"):
        urls = output.get(key) if isinstance(output, dict) else None
        url = urls[0] if isinstance(urls, list) and urls else None
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            try:
                fetched.append(Answer.of_response(get(url)))
            except httpx.HTTPError as exc:  # an unreachable image is an answer too, and differs from a served one
                fetched.append(Answer(0, f"unreachable ({type(exc).__name__})"))
    return fetched


def _credentials(kind: str | None, token: str) -> dict[str, str]:
    if kind == "token":
        return {"Authorization": f"Bearer {token}"}
    if kind == "made-up":
        return {"Authorization": f"Bearer {MADE_UP_TOKEN}"}
    return {}


def _followed(
    send: Callable[[str, Any, dict[str, str]], httpx.Response],
    path: str,
    body: Any,
    headers: dict[str, str],
    timeout: float,
    interval: float,
    sleep: Callable[[float], Any],
) -> list[Answer]:
    """The answer to one request, and when it queued a task, the task's final answer too."""
    response = send(path, body, headers)
    answers = [Answer.of_response(response)]
    first = answers[0].body
    if not (isinstance(first, dict) and first.get("status") == "PENDING" and isinstance(first.get("task_id"), str)):
        return answers
    if path.endswith(operation_path(STATUS)):
        return answers  # a status read of a made-up id is PENDING forever: nothing to follow
    waited = 0.0
    while True:
        polled = Answer.of_response(send(operation_path(STATUS), {"id": first["task_id"]}, headers))
        ended = polled.status_code not in (200, 429, 503) or (
            isinstance(polled.body, dict) and polled.body.get("status") in ("SUCCESS", "FAILED")
        )
        if ended or waited + interval > timeout:
            return [*answers, polled]
        sleep(interval)
        waited += interval
