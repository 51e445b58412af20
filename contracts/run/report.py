"""A contract run as a terminal summary, JUnit XML and a self-contained HTML page.

Every string in a RunOutcome is already redacted by the runner; the writers add nothing secret.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

from contracts.run.outcome import FailureRecord, RunOutcome

HEADERS = ("operation", "check", "cases", "failures")


def summary(outcome: RunOutcome) -> str:
    """The table users read at the end of a run, then each distinct failure with its curl line."""
    rows = [(op, check, str(cases), str(failed) if failed else "-") for op, check, cases, failed in outcome.rows()]
    widths = [max(len(cell) for cell in column) for column in zip(HEADERS, *rows, strict=False)]
    lines = [_row(HEADERS, widths), _row(tuple("-" * width for width in widths), widths)]
    lines += [_row(row, widths) for row in rows]
    lines.append("")
    lines.extend(refusal_lines(outcome))
    for number, failure in enumerate(outcome.failures.values(), start=1):
        status = f" (HTTP {failure.status_code})" if failure.status_code is not None else ""
        lines.append(f"{number}. {failure.operation} {failure.check}{status}: {failure.title}")
        lines.extend(f"   {line}" for line in failure.message.splitlines()[:6])
        lines.append(f"   {reproduce_label(failure)}: {failure.curl}")
    lines.extend(f"error: {error}" for error in outcome.errors)
    lines.append(
        f"{outcome.verdict}: {len(outcome.failures)} distinct failures, {outcome.requests} requests, "
        f"{submits(outcome)}, mode {outcome.mode}, {outcome.seconds:.1f} s against {outcome.base_url}"
    )
    return "\n".join(lines)


def submits(outcome: RunOutcome) -> str:
    """Valid submits and tasks polled, and why they differ where a valid submit got no task."""
    at_once = ", ".join(f"{count} answered at once: {how}" for how, count in sorted(outcome.answered_at_once.items()))
    jobs = f"GPU jobs; {at_once}" if at_once else "GPU jobs"
    return f"{outcome.valid_requests} valid submits ({jobs}), {outcome.tasks_polled} tasks polled"


def reproduce_label(failure: FailureRecord) -> str:
    return "reproduce (starts a GPU job)" if failure.costs_a_job else "reproduce"


def refusal_lines(outcome: RunOutcome) -> list[str]:
    """How requests the contract rejects were refused: where, in which dialect, and for which fields.

    Fields are named from requests that broke one field only, so each is attributed without doubt.
    """
    if not outcome.refusals:
        return []
    ways: dict[tuple[str, str], tuple[int, set[str]]] = {}
    for (operation, fields, how), count in outcome.refusals.items():
        total, named = ways.get((operation, how), (0, set()))
        ways[(operation, how)] = (total + count, named | (set(fields) if len(fields) == 1 else set()))
    rows = [
        (operation, how, str(total), ", ".join(sorted(named)) or "-")
        for (operation, how), (total, named) in sorted(ways.items())
    ]
    headers = ("operation", "refused", "cases", "fields, where one alone was broken")
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = ["How the API refused what the contract rejects:", _row(headers, widths)]
    return [*lines, *(_row(row, widths) for row in rows), ""]


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def junit_xml(outcome: RunOutcome) -> bytes:
    """One testsuite per operation, one testcase per check; a testcase fails with each distinct failure."""
    suites = ET.Element("testsuites", name="qolaba-mock contract", time=f"{outcome.seconds:.3f}")
    for operation in sorted({op for op, _ in outcome.checks}):
        checks = sorted(check for op, check in outcome.checks if op == operation)
        failing = [check for check in checks if outcome.failing[(operation, check)]]
        suite = ET.SubElement(
            suites, "testsuite", name=operation, tests=str(len(checks)), failures=str(len(failing)), errors="0"
        )
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=operation, name=check)
            for failure in outcome.failures.values():
                if (failure.operation, failure.check) == (operation, check):
                    node = ET.SubElement(case, "failure", message=failure.title, type=failure.check)
                    reproduce = f"{reproduce_label(failure)}: {failure.curl}"
                    node.text = f"{failure.message}\n\n{reproduce}\n\nresponse: {failure.response_excerpt}"
    if outcome.errors:
        suite = ET.SubElement(suites, "testsuite", name="run", tests="1", failures="0", errors="1")
        case = ET.SubElement(suite, "testcase", classname="run", name="could run every phase")
        ET.SubElement(case, "error", message="the run could not check everything").text = "\n".join(outcome.errors)
    document: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return document


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
tr.fail td{background:#fde8e8}.ok{color:#176f2c}.bad{color:#b3261e}
pre{background:#f5f5f5;padding:.6rem;white-space:pre-wrap;word-break:break-all}
"""


def html_page(outcome: RunOutcome) -> str:
    """A single page with no external assets, so it can be attached to a CI run as is."""
    e = html.escape
    verdict_class = "ok" if outcome.exit_code == 0 else "bad"
    rows = "".join(
        f'<tr class="{"fail" if failed else ""}"><td>{e(op)}</td><td>{e(check)}</td><td>{cases}</td>'
        f"<td>{failed or '-'}</td></tr>"
        for op, check, cases, failed in outcome.rows()
    )
    failures = "".join(
        f"<h3>{number}. {e(f.operation)} &mdash; {e(f.check)}</h3><p>{e(f.title)}"
        f"{f' (HTTP {f.status_code})' if f.status_code is not None else ''}</p><pre>{e(f.message)}</pre>"
        f"<p>{e(reproduce_label(f).capitalize())}:</p><pre>{e(f.curl)}</pre>"
        f"<p>Response:</p><pre>{e(f.response_excerpt)}</pre>"
        for number, f in enumerate(outcome.failures.values(), start=1)
    )
    errors = "".join(f"<pre>{e(error)}</pre>" for error in outcome.errors)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>qolaba-mock contract report</title>"
        f"<style>{_STYLE}</style></head><body><h1>Contract check: "
        f"<span class='{verdict_class}'>{e(outcome.verdict)}</span></h1>"
        f"<p>{e(outcome.base_url)} &middot; mode {e(outcome.mode)} &middot; {outcome.requests} requests &middot; "
        f"{e(submits(outcome))} &middot; "
        f"{outcome.seconds:.1f} s</p>"
        f"<table><tr>{''.join(f'<th>{h}</th>' for h in HEADERS)}</tr>{rows}</table>"
        f"{'<h2>Failures</h2>' + failures if failures else ''}{'<h2>Errors</h2>' + errors if errors else ''}"
        "</body></html>"
    )


def write_reports(outcome: RunOutcome, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    junit, page = directory / "junit.xml", directory / "report.html"
    junit.write_bytes(junit_xml(outcome))
    page.write_text(html_page(outcome), encoding="utf-8")
    return [junit, page]
