"""The one-screen summary of a run against the real API: what ran, what was skipped for steering, what it spent,
what the contract checks found, and the cassette written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from contracts.real_api.api_run import ApiRun

# Lines of each list the summary shows; the rest are counted.
SHOWN = 10


def summary_lines(
    run: ApiRun, target: str, outcomes: Mapping[str, int], steering_skips: Sequence[tuple[str, str]]
) -> list[str]:
    """The summary's lines. `outcomes`: tests by outcome (passed, failed, skipped...); `steering_skips`: (test,
    reason) for each test skipped because it steers the fake."""
    counted = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items() if count) or "none"
    budget = run.budget
    lines = [
        f"target {target} ({run.base_url}): {sum(outcomes.values())} test(s): {counted}",
        f"skipped for steering the fake: {len(steering_skips)}",
    ]
    lines += _listed([f"  {test}: {reason}" for test, reason in steering_skips])
    refused = sum(budget.refused.values())
    lines.append(
        f"spend: {budget.total} of {budget.max_spend} valid submit(s)"
        + (f", {refused} refused before sending" if refused else "")
        + ("" if budget.allow_sync else "; sync submits refused")
    )
    tests = sorted(set(budget.spent) | set(budget.refused))
    lines += _listed([f"  {test}: {budget.spent[test]} spent, {budget.refused[test]} refused" for test in tests])
    total_violations = sum(run.violation_count.values())
    exchanges = sum(run.exchanges.values())
    lines.append(f"contract violations: {total_violations} in {exchanges} exchange(s)")
    lines += _listed([f"  {line}" for line in run.violations], total=total_violations)
    if run.record is not None:
        lines.append(
            f"cassette written: {run.record} ({exchanges} exchange(s));"
            f" compare with: qolaba-mock diff --cassette {run.record}"
        )
    else:
        lines.append("cassette: none (--qolaba-record FILE writes one)")
    return lines


def _listed(lines: list[str], total: int | None = None) -> list[str]:
    total = len(lines) if total is None else total
    shown = lines[:SHOWN]
    if total > len(shown):
        shown.append(f"  ... and {total - len(shown)} more")
    return shown
