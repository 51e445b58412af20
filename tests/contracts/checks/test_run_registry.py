"""One registry tells the global checks and hooks which run a schema belongs to, and forgets it by itself."""

from __future__ import annotations

import gc

import schemathesis

from contracts import load_schema
from contracts.checks import run_registry
from contracts.checks.run_registry import Run, run_of, run_over


def _schema() -> object:
    return schemathesis.openapi.from_dict(load_schema())


def test_a_run_is_found_through_its_schema_and_gone_when_the_run_ends() -> None:
    schema, run = _schema(), Run()
    with run_over(schema, run):
        assert run_of(schema) is run
    assert run_of(schema) is not run  # outside the run: a plain run of its own


def test_a_run_inside_a_run_gives_the_outer_one_back() -> None:
    schema, outer, inner = _schema(), Run(), Run()
    with run_over(schema, outer):
        with run_over(schema, inner):
            assert run_of(schema) is inner
        assert run_of(schema) is outer


def test_each_follow_up_probe_is_sent_once_per_operation_per_run() -> None:
    schema = _schema()
    with run_over(schema, Run()):
        assert [run_of(schema).first_time("POST /x", "auth") for _ in range(2)] == [True, False]
    with run_over(schema, Run()):
        assert run_of(schema).first_time("POST /x", "auth")  # a new run probes again


def test_outside_a_run_the_memory_goes_with_the_schema_without_being_told() -> None:
    schema = _schema()
    run = run_of(schema)
    assert any(kept is run for kept in run_registry._RUNS.values())
    del schema
    gc.collect()
    assert all(kept is not run for kept in run_registry._RUNS.values())
