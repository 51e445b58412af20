"""Latency specs parse to one normalised form, fail in one line, and sample deterministically."""

from __future__ import annotations

import random
import statistics
from typing import Any

import pytest

from contracts import SUBMIT, field_rule
from mockserver.behaviour.latency import LatencyError, LatencyModel, Timing, parse_duration, parse_latency
from mockserver.wire.request_validation import with_defaults
from tests.conftest import valid_body

SHAPES = "fixed:<d>, uniform:<d>..<d>, lognormal:median=<d>,sigma=<x>[,max=<d>], workload or none"


def request(**overrides: Any) -> dict[str, Any]:
    """A request as the backend hands it to a latency model: every field filled in."""
    return with_defaults(SUBMIT, valid_body(**overrides))


def samples(model: LatencyModel, count: int, *, seed: int = 0, idle_for: float | None = 1.0) -> list[Timing]:
    rng = random.Random(seed)
    return [model.sample(request(), rng, idle_for) for _ in range(count)]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("2s", 2.0),
        ("1.5s", 1.5),
        ("1m", 60.0),
        ("0", 0.0),
        ("0ms", 0.0),
        (" 100 ms ", 0.1),
        (".5s", 0.5),
        ("2MS", 0.002),
    ],
)
def test_durations_read_as_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-2s", "duration='-2s' must not be negative: durations are >= 0"),
        ("nan", "duration='nan' must be a finite duration, e.g. 250ms, 2s or 1m"),
        ("infs", "duration='infs' must be a finite duration, e.g. 250ms, 2s or 1m"),
        ("250", "duration='250': '250' needs a unit, ms, s or m, e.g. 250ms"),
        ("2h", "duration='2h': '2h' is not a duration; expected a number with ms, s or m, e.g. 250ms"),
        ("", "duration='': '' is not a duration; expected a number with ms, s or m, e.g. 250ms"),
        ("fast", "duration='fast': 'fast' is not a duration; expected a number with ms, s or m, e.g. 250ms"),
    ],
)
def test_invalid_durations_fail_naming_the_text(text: str, message: str) -> None:
    with pytest.raises(LatencyError) as raised:
        parse_duration(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("spec", "normalised"),
    [
        ("none", "none"),
        ("fixed:0", "fixed:0"),
        ("fixed:250ms", "fixed:250ms"),
        ("fixed:0.25s", "fixed:250ms"),
        (" fixed : 2000ms ", "fixed:2s"),
        ("fixed:60s", "fixed:1m"),
        ("fixed:90s", "fixed:90s"),
        ("uniform:100ms..2s", "uniform:100ms..2s"),
        ("uniform:1s..1s", "uniform:1s..1s"),
        ("lognormal:median=800ms,sigma=0.4,max=5s", "lognormal:median=800ms,sigma=0.4,max=5s"),
        ("lognormal: max=5000ms, sigma=0.40, median=0.8s", "lognormal:median=800ms,sigma=0.4,max=5s"),
        ("lognormal:sigma=0,median=1s", "lognormal:median=1s,sigma=0"),
        ("workload", "workload"),
        ("workload:idle=5m", "workload"),
        ("workload:cold_start=20s,idle=10m", "workload:cold_start=20s,idle=10m"),
        ("workload:idle=60s", "workload:cold_start=25s,idle=1m"),
    ],
)
def test_valid_specs_normalise_and_read_back_the_same(spec: str, normalised: str) -> None:
    model = parse_latency(spec)
    assert model.spec == normalised
    assert parse_latency(model.spec) == model


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gauss:1s", f"latency='gauss:1s' is not a latency spec; expected {SHAPES}"),
        ("", f"latency='' is not a latency spec; expected {SHAPES}"),
        ("fixed", f"latency='fixed' is not a latency spec; expected {SHAPES}"),
        ("none:1s", f"latency='none:1s' is not a latency spec; expected {SHAPES}"),
        ("fixed:-2s", "latency='fixed:-2s' must not be negative: durations are >= 0"),
        ("fixed:250", "latency='fixed:250': '250' needs a unit, ms, s or m, e.g. 250ms"),
        ("fixed:inf", "latency='fixed:inf' must be a finite duration, e.g. 250ms, 2s or 1m"),
        ("uniform:2s", "latency='uniform:2s' is not a range; expected uniform:<d>..<d>, e.g. uniform:100ms..2s"),
        (
            "uniform:2s..100ms",
            "latency='uniform:2s..100ms' has its low end above its high end; "
            "expected uniform:<low>..<high>, low <= high",
        ),
        (
            "lognormal:median=800ms",
            "latency='lognormal:median=800ms' needs median=<d> and sigma=<x>, e.g. lognormal:median=800ms,sigma=0.4",
        ),
        (
            "lognormal:median=800ms,sigma=0.4,mode=1s",
            "latency='lognormal:median=800ms,sigma=0.4,mode=1s' has unknown key 'mode'; expected median, sigma, max",
        ),
        (
            "lognormal:median=800ms,sigma=-1",
            "latency='lognormal:median=800ms,sigma=-1' has sigma='-1'; expected a finite number >= 0, e.g. sigma=0.4",
        ),
        (
            "lognormal:median=800ms,sigma=nan",
            "latency='lognormal:median=800ms,sigma=nan' has sigma='nan'; expected a finite number >= 0, e.g. sigma=0.4",
        ),
        (
            "lognormal:median=2s,sigma=0.4,max=1s",
            "latency='lognormal:median=2s,sigma=0.4,max=1s' has max below median; expected max >= median",
        ),
        (
            "lognormal:median=1s,median=2s,sigma=1",
            "latency='lognormal:median=1s,median=2s,sigma=1' sets 'median' twice",
        ),
        (
            "workload:warm",
            "latency='workload:warm' has 'warm'; expected key=value pairs with keys cold_start, idle",
        ),
        ("workload:idle=-5m", "latency='workload:idle=-5m' must not be negative: durations are >= 0"),
    ],
)
def test_invalid_specs_fail_in_one_line_naming_the_spec(spec: str, message: str) -> None:
    with pytest.raises(LatencyError) as raised:
        parse_latency(spec)
    assert str(raised.value) == message
    assert "\n" not in message


def test_latency_errors_are_value_errors() -> None:
    assert issubclass(LatencyError, ValueError)


def test_timing_total_adds_startup_and_runtime() -> None:
    assert Timing(startup_time=25.0, runtime=18.5).total == 43.5
    assert Timing().total == 0.0


@pytest.mark.parametrize("spec", ["none", "fixed:0"])
def test_no_latency_is_zero(spec: str) -> None:
    assert samples(parse_latency(spec), 3) == [Timing(0.0, 0.0)] * 3


def test_fixed_latency_is_the_same_every_time() -> None:
    assert samples(parse_latency("fixed:250ms"), 5) == [Timing(0.0, 0.25)] * 5


def test_fixed_latency_draws_nothing_from_the_rng() -> None:
    rng = random.Random(3)
    before = rng.getstate()
    parse_latency("fixed:1s").sample(request(), rng, None)
    assert rng.getstate() == before


def test_uniform_latency_stays_within_its_range_and_covers_it() -> None:
    runtimes = [t.runtime for t in samples(parse_latency("uniform:100ms..2s"), 500)]
    assert all(0.1 <= r <= 2.0 for r in runtimes)
    assert min(runtimes) < 0.3 and max(runtimes) > 1.8


def test_lognormal_latency_centres_on_its_median() -> None:
    runtimes = [t.runtime for t in samples(parse_latency("lognormal:median=800ms,sigma=0.4"), 2000)]
    assert statistics.median(runtimes) == pytest.approx(0.8, rel=0.05)
    assert max(runtimes) > 1.6  # uncapped: the tail reaches past twice the median


def test_lognormal_latency_never_exceeds_its_cap() -> None:
    runtimes = [t.runtime for t in samples(parse_latency("lognormal:median=800ms,sigma=0.4,max=1s"), 2000)]
    assert max(runtimes) == 1.0
    assert runtimes.count(1.0) > 200  # about 29% of draws land above the cap


def test_lognormal_latency_with_zero_sigma_is_the_median() -> None:
    assert {t.runtime for t in samples(parse_latency("lognormal:median=800ms,sigma=0"), 20)} == {0.8}


@pytest.mark.parametrize("spec", ["uniform:100ms..2s", "lognormal:median=800ms,sigma=0.4", "workload"])
def test_the_same_seed_gives_the_same_timings(spec: str) -> None:
    model = parse_latency(spec)
    assert samples(model, 50, seed=7) == samples(model, 50, seed=7)
    assert samples(model, 50, seed=7) != samples(model, 50, seed=8)


@pytest.mark.parametrize("spec", ["uniform:100ms..2s", "lognormal:median=800ms,sigma=0.4", "workload"])
def test_reported_seconds_have_at_most_three_decimals(spec: str) -> None:
    for timing in samples(parse_latency(spec), 50, idle_for=None):
        assert timing.runtime == round(timing.runtime, 3)
        assert timing.startup_time == round(timing.startup_time, 3)


def workload(seed: int = 0, idle_for: float | None = 1.0, **overrides: Any) -> Timing:
    return parse_latency("workload").sample(request(**overrides), random.Random(seed), idle_for)


def test_workload_matches_the_observed_a10g_runtime() -> None:
    # Production reported 18.42 s for one 1024x1024 image at the default steps on an a10g.
    runtimes = [t.runtime for t in samples(parse_latency("workload"), 200)]
    assert statistics.median(runtimes) == pytest.approx(18.42, rel=0.05)
    assert min(runtimes) > 0.7 * 18.42 and max(runtimes) < 1.3 * 18.42  # the noise is a few percent


def test_workload_is_slowest_on_a10g_and_fastest_on_h100() -> None:
    a10g, a100, h100 = (workload(inference_type=gpu).runtime for gpu in ("a10g", "a100", "h100"))
    assert a10g > a100 > h100


def test_workload_has_a_rate_for_every_gpu_in_the_contract() -> None:
    gpus = field_rule(SUBMIT, "inference_type").enum or ()
    assert gpus and all(workload(inference_type=gpu).runtime > 0 for gpu in gpus)


@pytest.mark.parametrize("field", ["batch", "num_inference_steps"])
def test_workload_grows_linearly_with_batch_and_steps(field: str) -> None:
    one, four = workload(**{field: 5}).runtime, workload(**{field: 20}).runtime
    assert four == pytest.approx(4 * one, abs=0.004)


def test_workload_grows_with_pixels_floored_to_the_latent_grid() -> None:
    assert workload(width=1020, height=1020) == workload(width=1016, height=1016)
    assert workload(width=512, height=512).runtime == pytest.approx(workload().runtime / 4, abs=0.002)


@pytest.mark.parametrize(
    ("idle_for", "cold"),
    [(None, True), (0.0, False), (60.0, False), (300.0, False), (301.0, True), (3600.0, True)],
)
def test_workload_starts_cold_only_first_or_after_the_idle_threshold(idle_for: float | None, cold: bool) -> None:
    startup = workload(idle_for=idle_for).startup_time
    assert (startup > 0) is cold
    if cold:
        assert 15.0 < startup < 35.0


def test_workload_cold_start_and_idle_threshold_are_configurable() -> None:
    model = parse_latency("workload:cold_start=5s,idle=1m")
    warm = model.sample(request(), random.Random(0), 59.0)
    cold = model.sample(request(), random.Random(0), 61.0)
    assert warm.startup_time == 0.0
    assert 3.0 < cold.startup_time < 7.0


def test_workload_runtime_does_not_depend_on_being_cold() -> None:
    assert workload(idle_for=None).runtime == workload(idle_for=1.0).runtime


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("fixed:1000000s", "1000000s"),
        ("uniform:1s..2000m", "2000m"),
        ("lognormal:median=2h,sigma=1", None),
        ("lognormal:median=1s,sigma=1,max=61m", "61m"),
        ("workload:cold_start=70m", "70m"),
    ],
)
def test_a_spec_naming_more_than_the_limit_is_refused(spec: str, named: str | None) -> None:
    with pytest.raises(LatencyError) as refused:
        parse_latency(spec, limit=3600)
    if named is not None:
        assert f"names {named}, longer than the maximum of 60m (max_latency)" in str(refused.value)


@pytest.mark.parametrize("spec", ["fixed:60m", "uniform:0..3600s", "lognormal:median=1s,sigma=9", "workload"])
def test_a_spec_within_the_limit_is_accepted(spec: str) -> None:
    parse_latency(spec, limit=3600)


def test_a_timing_is_cut_to_the_limit_runtime_first() -> None:
    assert Timing(startup_time=25, runtime=100).capped(60) == Timing(startup_time=25, runtime=35)
    assert Timing(startup_time=90, runtime=100).capped(60) == Timing(startup_time=60, runtime=0)
    assert Timing(startup_time=1, runtime=2).capped(60) == Timing(startup_time=1, runtime=2)


@pytest.mark.parametrize("value", [5, None, [], {"a": 1}])
def test_a_spec_that_is_not_text_is_refused(value: Any) -> None:
    with pytest.raises(LatencyError, match="is not a latency spec"):
        parse_latency(value)
