"""`diff_live`: the same requests to a live API and to the fake in a fidelity profile, every way the answers differ.

Queued tasks are followed to their end on both sides by the one polling loop (`contracts.client.polling`), so a
gateway's 429/502/503/504 on a poll is polled past, on either side, rather than compared as the API's answer.

Usage:
    report = diff_live(target, "production", DiffPlan(mode="free"), Pacing(min_interval=0.5))
    print(report.text())
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

import httpx

from contracts.cassette.ignored_fields import IgnoredFieldError, parse_ignored
from contracts.client.curl import curl_line
from contracts.client.pacing import Pacing, Spacer
from contracts.client.polling import Poll, PollSettings, follow_task, httpx_answer, status_link
from contracts.client.target import Credentials, Mode, Target, headers_for
from contracts.spec.schema import STATUS, SUBMIT, operation_path
from contracts.spec.statuses import is_queued
from contracts.traffic.comparison import Answer, Difference, DiffReport, differences
from mockserver.testing.in_profile import FakeInProfile, fake_in_profile

__all__ = ["DiffPlan", "Pacing", "diff_live"]


@dataclass(frozen=True)
class DiffPlan:
    """What a live diff sends: the probe's matrix (`free` or `safe`, as `mode` says), `cases` invalid submits
    generated from `seed` (poisoned as the matrix is, so none runs a job), the same request without credentials
    and with a made-up token, and status reads of a made-up id, of no id and of an id that is no string; `full`
    adds up to `max_spend` valid queued submits (each a real job on a real API). `ignore` names answer fields
    left out of the comparison (names or JSON pointers, as `diff_cassette` takes them)."""

    mode: Mode = "safe"
    max_spend: int = 0
    cases: int = 20
    seed: int = 0
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in get_args(Mode):
            raise ValueError(f"DiffPlan(mode={self.mode!r}) must be one of {', '.join(get_args(Mode))}")
        for name in ("max_spend", "cases"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"DiffPlan({name}={value!r}) must be an integer >= 0")
        try:
            parse_ignored(self.ignore)
        except IgnoredFieldError as exc:
            raise ValueError(f"DiffPlan(ignore=...): {exc}") from None


def diff_live(
    target: Target,
    profile: str,
    plan: DiffPlan | None = None,
    pacing: Pacing | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> DiffReport:
    """Send the same requests (`plan`, by default safe) to `target` and to the fake in `profile`, following
    queued tasks to their end on both sides as `contracts.client.polling` does.

    `pacing` (by default: no pause) spaces the requests to the target and says how its tasks are polled; the fake
    answers at once, and its polls move its virtual clock instead of waiting. A task that ends in SUCCESS has its
    first result and low-res image fetched from each side and compared too (media type and size). `transport`
    reaches the target (an in-process fake's, say); `sleep` waits between requests and polls.
    """
    plan, pacing = plan or DiffPlan(), pacing or Pacing()
    ignored = parse_ignored(plan.ignore)
    report = DiffReport(target.redact(target.base_url), profile)
    spacer = Spacer(pacing.min_interval, sleep)
    with (
        fake_in_profile(profile, frozenset({target.token})) as fake,
        httpx.Client(base_url=target.base_url, transport=transport, timeout=pacing.request_timeout) as live,
    ):

        def to_target(path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
            return live.post(path, json=body, headers=headers)

        def to_fake(path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
            return fake.client.post(path, json=body, headers=headers)

        for seq, (path, credentials, body) in enumerate(_live_requests(plan), start=1):
            spacer.wait_turn()
            headers = {"Content-Type": "application/json", **headers_for(credentials, target.token)}
            theirs = _followed(to_target, path, body, headers, _Waiting(pacing.polling, sleep, time.monotonic))
            ours = _followed(to_fake, path, body, headers, _fake_waiting(fake, pacing.polling))
            theirs += _output_images(live.get, theirs[-1])
            ours += _output_images(fake.client.get, ours[-1])
            line = target.redact(curl_line("POST", target.base_url + path, credentials, body))
            for answered_theirs, answered_ours in zip(theirs, ours, strict=False):
                report.compared += 1
                report.differences += [
                    Difference(seq, line, *found) for found in differences(answered_theirs, answered_ours, ignored)
                ]
            if len(theirs) != len(ours):
                report.differences.append(Difference(seq, line, "answers", str(len(theirs)), str(len(ours))))
    return report


def _live_requests(plan: DiffPlan) -> list[tuple[str, Credentials, Any]]:
    """(path, credentials, body) for every request a live diff sends."""
    from contracts.probe.cases import base_body, probe_cases
    from contracts.probe.generated_cases import generated_cases

    submit, status = operation_path(SUBMIT), operation_path(STATUS)
    base = base_body()
    free = plan.mode == "free"
    generated = generated_cases(plan.cases, seed=plan.seed, free=free)
    probes = [case.body(base) for case in (*probe_cases(free=free), *generated)]
    requests: list[tuple[str, Credentials, Any]] = [(submit, "token", body) for body in probes]
    refused = probes[0]  # a body the contract rejects: with bad credentials nothing can start either way
    requests += [(submit, None, refused), (submit, "made-up", refused)]
    requests += [(status, "token", {"id": "00000000-0000-4000-8000-000000000000"}), (status, "token", {})]
    requests += [(status, "token", {"id": 5}), (status, None, {"id": "x"})]
    if plan.mode == "full":
        requests += [(submit, "token", {**base, "celery": True})] * plan.max_spend
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


@dataclass(frozen=True)
class _Waiting:
    """How one side's polls wait: the target's on the wall clock, the fake's on its own virtual clock."""

    settings: PollSettings
    sleep: Callable[[float], object]
    monotonic: Callable[[], float]


def _fake_waiting(fake: FakeInProfile, settings: PollSettings) -> _Waiting:
    return _Waiting(settings, fake.clock.advance, fake.clock.now)


def _followed(
    send: Callable[[str, Any, dict[str, str]], httpx.Response],
    path: str,
    body: Any,
    headers: dict[str, str],
    waiting: _Waiting,
) -> list[Answer]:
    """The answer to one request, and when it queued a task, the answer the task ends with (or the last one seen
    by the deadline). Both sides poll in the one loop, so a gateway's 502 or 504 on one side is polled past, not
    compared: only a task that never ends in time shows its last answer."""
    response = send(path, body, headers)
    answers = [Answer.of_response(response)]
    first = answers[0].body
    if not is_queued(first) or path.endswith(operation_path(STATUS)):
        return answers  # a status read of a made-up id is PENDING forever: nothing to follow
    request = status_link().request_for(first)

    def ask() -> httpx.Response:
        return send(operation_path(STATUS), request, headers)

    poll = follow_task(
        Poll[httpx.Response](str(first["task_id"])),
        ask,
        httpx_answer,
        waiting.settings,
        sleep=waiting.sleep,
        monotonic=waiting.monotonic,
    )
    if poll.error is not None or poll.response is None:
        lost = (poll.error or "no answer").partition(":")[0]
        return [*answers, Answer(0, f"unreachable ({lost})")]
    return [*answers, Answer.of_response(poll.response)]
