"""The fault vocabulary, the spec grammar, and a plan that picks faults deterministically."""

from __future__ import annotations

import random

import pytest

from mockserver.behaviour.faults import (
    FAULTS,
    Fault,
    FaultError,
    FaultPlan,
    Operation,
    header_fault,
    parse_fault,
)

NAMES = (
    "http_500, http_429, http_503, gateway_timeout, no_face, bad_image_url, nsfw, task_failed, task_lost, "
    "content_filtered, task_crashed, reset, empty_response, malformed_json, hang, slow_body"
)
WHEN_SHAPES = "a probability between 0 and 1, every:N, nth:N[,N...], first:N or always"


def plan(*specs: str, seed: int = 0) -> FaultPlan:
    return FaultPlan([parse_fault(spec) for spec in specs], random.Random(seed))


def fired(fault_plan: FaultPlan, requests: int, operation: Operation = "submit") -> list[int]:
    """The 1-based request numbers on which the plan chose a fault."""
    return [n for n in range(1, requests + 1) if fault_plan.choose(operation) is not None]


def chosen(fault_plan: FaultPlan, operations: list[Operation]) -> list[str | None]:
    return [fault.name if (fault := fault_plan.choose(op)) else None for op in operations]


def test_the_vocabulary_lists_every_fault_in_family_order() -> None:
    assert ", ".join(FAULTS) == NAMES
    assert [f.family for f in FAULTS.values()] == ["http"] * 4 + ["domain"] * 7 + ["connection"] * 5
    assert all(name == fault.name for name, fault in FAULTS.items())


def test_the_vocabulary_cannot_be_changed_by_callers() -> None:
    with pytest.raises(TypeError):
        FAULTS["new"] = FAULTS["hang"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "status_code", "error", "error_data"),
    [
        ("http_500", 500, "Internal Error", "()"),
        ("http_429", 429, "Too Many Requests", "Rate limit exceeded. Please retry after some time."),
        ("http_503", 503, "Service Unavailable", "The service is temporarily unavailable. Please retry."),
        ("gateway_timeout", 504, "Gateway Timeout", "The upstream server did not respond in time."),
        ("no_face", None, "Face Consistent Error", "Unable to detect faces. Please provide a clear image."),
        ("bad_image_url", None, "Image URL Error", "Given image type is not supported. Please try with JPG or PNG."),
        ("nsfw", None, None, None),
        ("task_lost", None, None, None),
        ("reset", None, None, None),
    ],
)
def test_faults_answer_with_production_wording(
    name: str, status_code: int | None, error: str | None, error_data: str | None
) -> None:
    fault = FAULTS[name]
    assert (fault.status_code, fault.error, fault.error_data) == (status_code, error, error_data)


def test_a_failed_task_reads_like_a_worker_crash() -> None:
    fault = FAULTS["task_failed"]
    assert fault.error == "Internal Error"
    assert fault.error_data is not None and fault.error_data.startswith("CUDA out of memory. Tried to allocate")


@pytest.mark.parametrize(
    ("family", "operations"),
    [("http", {"submit", "status"}), ("domain", {"submit"}), ("connection", {"submit", "status"})],
)
def test_domain_faults_apply_to_submit_only_and_the_rest_to_both(family: str, operations: set[str]) -> None:
    assert all(f.operations == operations for f in FAULTS.values() if f.family == family)


@pytest.mark.parametrize(
    ("spec", "when", "operation", "normalised"),
    [
        ("http_500", "always", None, "http_500"),
        ("http_500:always", "always", None, "http_500"),
        ("http_429:0.1@status", "p=0.1", "status", "http_429:0.1@status"),
        ("http_429:p=0.10", "p=0.1", None, "http_429:0.1"),
        ("http_429:1", "p=1", None, "http_429:1"),
        ("http_429:0", "p=0", None, "http_429:0"),
        ("reset:every:3", "every:3", None, "reset:every:3"),
        ("hang:nth:5,2,5", "nth:2,5", None, "hang:nth:2,5"),
        ("no_face:first:4@submit", "first:4", "submit", "no_face:first:4@submit"),
        ("no_face:first:0", "first:0", None, "no_face:first:0"),
        (" gateway_timeout : every : 2 @ status ", "every:2", "status", "gateway_timeout:every:2@status"),
        ("slow_body : nth: 1, 3", "nth:1,3", None, "slow_body:nth:1,3"),
    ],
)
def test_valid_fault_specs_normalise_and_read_back_the_same(
    spec: str, when: str, operation: Operation | None, normalised: str
) -> None:
    rule = parse_fault(spec)
    assert (rule.fault, rule.when.text, rule.operation, rule.spec) == (
        FAULTS[spec.split(":")[0].strip()],
        when,
        operation,
        normalised,
    )
    assert parse_fault(rule.spec) == rule


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "fault='' is empty; expected NAME[:WHEN][@OPERATION], e.g. http_429:0.1@status"),
        ("  ", "fault='  ' is empty; expected NAME[:WHEN][@OPERATION], e.g. http_429:0.1@status"),
        ("http_418", f"fault='http_418' names no known fault; expected one of {NAMES}"),
        ("@submit", f"fault='@submit' names no known fault; expected one of {NAMES}"),
        ("http_429:1.5", "fault='http_429:1.5' probability must be between 0 and 1"),
        ("http_429:-0.1", "fault='http_429:-0.1' probability must be between 0 and 1"),
        ("http_429:nan", "fault='http_429:nan' probability must be between 0 and 1"),
        ("http_429:often", f"fault='http_429:often' has WHEN 'often'; expected {WHEN_SHAPES}"),
        ("http_429:", f"fault='http_429:' has WHEN ''; expected {WHEN_SHAPES}"),
        ("http_429:sometimes:2", f"fault='http_429:sometimes:2' has WHEN 'sometimes:2'; expected {WHEN_SHAPES}"),
        ("reset:every:0", "fault='reset:every:0' every needs whole numbers >= 1, got '0'"),
        ("reset:every:1.5", "fault='reset:every:1.5' every needs whole numbers >= 1, got '1.5'"),
        ("reset:every:2,4", "fault='reset:every:2,4' every needs whole numbers >= 1, got '2,4'"),
        ("reset:nth:0,2", "fault='reset:nth:0,2' nth needs whole numbers >= 1, got '0,2'"),
        ("reset:nth:", "fault='reset:nth:' nth needs whole numbers >= 1, got ''"),
        ("reset:first:-1", "fault='reset:first:-1' first needs whole numbers >= 0, got '-1'"),
        ("reset@poll", "fault='reset@poll' has unknown operation 'poll'; expected submit or status"),
        ("reset@", "fault='reset@' has unknown operation ''; expected submit or status"),
        ("no_face@status", "fault='no_face@status': no_face cannot apply to status; it applies to submit only"),
    ],
)
def test_invalid_fault_specs_fail_in_one_line_naming_the_spec(spec: str, message: str) -> None:
    with pytest.raises(FaultError) as raised:
        parse_fault(spec)
    assert str(raised.value) == message
    assert "\n" not in message


def test_fault_errors_are_value_errors() -> None:
    assert issubclass(FaultError, ValueError)


@pytest.mark.parametrize(
    ("spec", "fires_on"),
    [
        ("http_500", list(range(1, 11))),
        ("http_500:every:3", [3, 6, 9]),
        ("http_500:every:1", list(range(1, 11))),
        ("http_500:nth:2,5", [2, 5]),
        ("http_500:first:4", [1, 2, 3, 4]),
        ("http_500:first:0", []),
        ("http_500:0", []),
        ("http_500:1", list(range(1, 11))),
    ],
)
def test_schedules_fire_on_exactly_their_request_numbers(spec: str, fires_on: list[int]) -> None:
    assert fired(plan(spec), 10) == fires_on


def test_a_probability_fires_on_about_that_share_of_requests() -> None:
    assert 150 <= len(fired(plan("http_503:0.1", seed=42), 2000)) <= 250


def test_the_same_seed_and_requests_give_the_same_faults() -> None:
    assert fired(plan("http_503:0.1", seed=42), 500) == fired(plan("http_503:0.1", seed=42), 500)
    assert fired(plan("http_503:0.1", seed=42), 500) != fired(plan("http_503:0.1", seed=43), 500)


def test_a_probability_rule_draws_once_per_request_even_after_an_earlier_rule_fired() -> None:
    rng = random.Random(5)
    fault_plan = FaultPlan([parse_fault("http_500"), parse_fault("http_503:0.5")], rng)
    for _ in range(5):
        assert fault_plan.choose("submit") == FAULTS["http_500"]
    reference = random.Random(5)
    for _ in range(5):
        reference.random()
    assert rng.getstate() == reference.getstate()


def test_the_first_rule_that_fires_wins() -> None:
    assert chosen(plan("http_500", "http_503"), ["submit"] * 2) == ["http_500", "http_500"]
    assert chosen(plan("http_503", "http_500"), ["submit"]) == ["http_503"]


def test_every_rule_counts_every_request_so_schedules_are_independent() -> None:
    # The every:2 rule counts request 1 although first:1 fired on it, so it still fires on 2 and 4.
    assert chosen(plan("http_500:first:1", "http_503:every:2"), ["submit"] * 4) == [
        "http_500",
        "http_503",
        None,
        "http_503",
    ]


def test_a_rule_scoped_to_an_operation_neither_fires_nor_counts_on_the_other() -> None:
    operations: list[Operation] = ["submit", "status", "submit", "status", "status", "submit", "status"]
    assert chosen(plan("http_429:every:2@status"), operations) == [None, None, None, "http_429", None, None, "http_429"]


def test_an_unscoped_rule_counts_both_operations() -> None:
    assert chosen(plan("reset:every:2"), ["submit", "status", "status", "submit"]) == [None, "reset", None, "reset"]


def test_a_domain_fault_never_fires_or_counts_on_a_status_poll() -> None:
    assert chosen(plan("no_face:every:2"), ["status", "submit", "status", "submit"]) == [None, None, None, "no_face"]


def test_an_ineligible_rule_neither_counts_nor_draws() -> None:
    rng = random.Random(1)
    fault_plan = FaultPlan([parse_fault("task_lost:0.5"), parse_fault("no_face:every:2")], rng)
    before = rng.getstate()
    not_lost = [fault_plan.choose("submit", eligible=lambda f: f.name != "task_lost") for _ in range(3)]
    assert not_lost == [None, FAULTS["no_face"], None]
    assert rng.getstate() == before


def test_an_ineligible_request_does_not_advance_the_rule_schedule() -> None:
    fault_plan = plan("task_lost:every:2")
    sync_call = fault_plan.choose("submit", eligible=lambda f: f.name != "task_lost")
    queued_calls = [fault_plan.choose("submit") for _ in range(2)]
    assert [sync_call, *queued_calls] == [None, None, FAULTS["task_lost"]]


def test_an_ineligible_fault_lets_a_later_rule_fire() -> None:
    fault_plan = plan("task_lost", "http_500")
    assert fault_plan.choose("submit", eligible=lambda f: f is not FAULTS["task_lost"]) == FAULTS["http_500"]
    assert fault_plan.choose("submit") == FAULTS["task_lost"]


def test_reset_counts_starts_every_schedule_again() -> None:
    fault_plan = plan("hang:nth:2")
    assert fired(fault_plan, 3) == [2]
    fault_plan.reset_counts()
    assert fired(fault_plan, 3) == [2]


def test_a_plan_shows_its_rules_in_order() -> None:
    rules = [parse_fault("http_500:every:3"), parse_fault("no_face:0.1")]
    assert FaultPlan(rules, random.Random(0)).rules == tuple(rules)


def test_an_empty_plan_never_chooses_a_fault() -> None:
    assert chosen(plan(), ["submit", "status"]) == [None, None]


@pytest.mark.parametrize(
    ("value", "operation", "name"),
    [("no_face", "submit", "no_face"), (" http_429 ", "status", "http_429"), ("hang", "status", "hang")],
)
def test_the_header_names_one_fault_for_this_request(value: str, operation: Operation, name: str) -> None:
    fault: Fault = header_fault(value, operation)
    assert fault is FAULTS[name]


@pytest.mark.parametrize(
    ("value", "operation", "message"),
    [
        ("teapot", "submit", f"X-Mock-Fault='teapot' is not a fault name; expected one of {NAMES}"),
        ("http_500:0.5", "submit", f"X-Mock-Fault='http_500:0.5' is not a fault name; expected one of {NAMES}"),
        ("", "status", f"X-Mock-Fault='' is not a fault name; expected one of {NAMES}"),
        (
            "task_lost",
            "status",
            "X-Mock-Fault='task_lost': task_lost cannot apply to status; it applies to submit only",
        ),
    ],
)
def test_the_header_rejects_unknown_or_inapplicable_faults(value: str, operation: Operation, message: str) -> None:
    with pytest.raises(FaultError) as raised:
        header_fault(value, operation)
    assert str(raised.value) == message


def test_fault_specs_are_parsed_once_when_configured_never_again_when_plans_are_rebuilt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mockserver import Config, create_app
    from mockserver.behaviour import faults as faults_module

    parsed: list[str] = []
    real = faults_module.parse_fault

    def counting(spec: str) -> faults_module.FaultRule:
        parsed.append(spec)
        return real(spec)

    monkeypatch.setattr(faults_module, "parse_fault", counting)
    app = create_app(Config(faults=("http_500:every:3", "no_face:0.1@submit")))
    space = app.state.backend.default
    for _ in range(3):
        space.reset("all")  # rebuilds the plan
        space.set_faults(None)
    assert parsed == ["http_500:every:3", "no_face:0.1@submit"]
    assert space.fault_specs == ("http_500:every:3", "no_face:0.1@submit")
