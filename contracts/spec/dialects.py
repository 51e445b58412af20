"""Reading a refusal in any of the dialects the API is known to speak, and where it was made.

The documented contract refuses a broken rule at once with a 422 listing `{field, message}`. The backend
behind the public API (docs/fidelity.md) refuses in other words and at other times:

- `fastapi`: FastAPI's own `{"detail": [...]}` 422 (or a `{"detail": "..."}` 403), at once;
- `backend`: a 500 `Internal Error` envelope from its exception handler, at once ("()" for a broken
  request-level field, "('ap-xxx',)" for an unknown app id);
- `pydantic`: a FAILED envelope whose `error_data` is pydantic's "N validation errors for <Model>" text,
  from inside the job: in the answer of a sync call, or when a queued task is polled;
- `contract`: the documented list (and the 2024 backend's `{"errors": [...]}`).

A refusal in any dialect counts as a refusal; `Reading` says which dialect, where, and which fields it named.

Usage:
    reading = read_answer(response.status_code, response.json())
    if reading.kind == "rejected":
        print(reading.named, reading.dialect, reading.where)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from contracts.spec.schema import production_backend

Kind = Literal["rejected", "accepted", "queued", "failed", "unreadable"]
Dialect = Literal["contract", "fastapi", "backend", "pydantic", ""]
Where = Literal["at once", "in the job", "at poll", ""]

# The backend's answer to a key it does not accept (src/utils/Globals.py L604-605, via its exception handler).
INVALID_KEY = "('Invalid API Key',)"
_PYDANTIC_TITLE = re.compile(r"^\d+ validation errors? for (\w+)\n")
_FIELD_LINE = re.compile(r"^([A-Za-z_][\w.]*)$")


@dataclass(frozen=True)
class Reading:
    """What an answer says about the request: refused (and how), accepted, queued for later, or a job failure."""

    kind: Kind
    status_code: int
    dialect: Dialect = ""
    where: Where = ""
    named: tuple[str, ...] = ()
    error: str | None = None
    error_data: str | None = None

    @property
    def refuses_credentials(self) -> bool:
        """The token was refused: 401 (the contract), 403 (FastAPI's HTTPBearer), or the backend's 500."""
        return self.status_code in (401, 403) or self.error_data == INVALID_KEY

    @property
    def how(self) -> str:
        """`in the job (pydantic)`, `at once (fastapi)`: where and in which dialect a refusal was made."""
        if self.kind == "failed":
            return f"{self.where} (the job failed: {self.error})"
        return f"{self.where} ({self.dialect})" if self.kind == "rejected" else self.kind


def read_answer(status_code: int, body: Any, *, polled: bool = False) -> Reading:
    """How `body`, answered with `status_code`, treats the request; `polled` if it is a queued task's answer."""
    if not isinstance(body, dict):
        return Reading("unreadable", status_code)
    if "detail" in body and len(body) == 1:
        detail = body["detail"]
        named = (
            tuple(_documented(_loc_field(entry)) for entry in detail if _loc_field(entry))
            if isinstance(detail, list)
            else ()
        )
        return Reading("rejected", status_code, "fastapi", "at once", named, error=str(detail)[:200])
    status, error, data = body.get("status"), body.get("error"), body.get("error_data")
    error = error if isinstance(error, str) else None
    if isinstance(data, str) and _PYDANTIC_TITLE.match(data):
        where: Where = "at poll" if polled else "in the job"
        return Reading("rejected", status_code, "pydantic", where, _pydantic_fields(data), error, data)
    listed = data.get("errors") if isinstance(data, dict) else data
    if isinstance(listed, list):
        named = tuple(str(e["field"]) for e in listed if isinstance(e, dict) and "field" in e)
        return Reading("rejected", status_code, "contract", "at once", named, error)
    if (
        status_code >= 500
        and error == "Internal Error"
        and isinstance(data, str)
        and _is_args_repr(data)
        and not polled
    ):
        # The exception handler's str(exc.args): the request was refused before any job.
        return Reading("rejected", status_code, "backend", "at once", (), error, data)
    if status_code >= 400 and polled and status == "FAILED":
        # A task that failed, re-raised at the poll (the backend before 2025-04, or a crashed worker).
        return Reading(
            "failed", status_code, where="at poll", error=error, error_data=data if isinstance(data, str) else None
        )
    if status_code >= 400:
        return Reading("rejected", status_code, "contract" if status == "FAILED" else "", "at once", (), error)
    if status == "PENDING" and body.get("task_id"):
        return Reading("queued", status_code)
    if status == "SUCCESS":
        return Reading("accepted", status_code)
    if status == "FAILED":
        where = "at poll" if polled else "in the job"
        return Reading(
            "failed", status_code, where=where, error=error, error_data=data if isinstance(data, str) else None
        )
    return Reading("unreadable", status_code)


def _loc_field(entry: Any) -> str:
    loc = entry.get("loc") if isinstance(entry, dict) else None
    if not isinstance(loc, list) or len(loc) < 2 or not isinstance(loc[-1], str):
        return ""
    return loc[-1]


def _pydantic_fields(text: str) -> tuple[str, ...]:
    # "N validation errors for Model\n<field>\n  <message> [...]\n    For further information ...": the
    # unindented lines after the title are the fields, in the model's order.
    lines = text.splitlines()[1:]
    return tuple(_documented(line.split(".")[0]) for line in lines if _FIELD_LINE.match(line))


def _is_args_repr(text: str) -> bool:
    return text.startswith("(") and text.endswith(")")


@functools.cache
def _documented_names() -> dict[str, str]:
    # The backend's field names, back to the documented ones (`file_url` is the docs' `image`).
    names: dict[str, str] = {}
    for renames in production_backend()["renames"].values():
        names.update({backend: documented for documented, backend in renames.items()})
    return names


def _documented(name: str) -> str:
    return _documented_names().get(name, name)


@functools.cache
def request_level_fields() -> frozenset[str]:
    """Fields the backend checks before any job (its `APIInput`): breaking one is refused at once, free."""
    return frozenset(production_backend()["request-model"]["fields"])


def breaks_request_model(field: str, value: Any, *, present: bool = True) -> bool:
    """Whether `value` (or, not `present`, its absence) fails the backend's request model for `field`: a
    missing required field, a value outside an enum, or a non-string where a string is wanted. It errs on
    the side of "passes": pydantic's lax coercions (of booleans, say) are not modelled here."""
    rule = production_backend()["request-model"]["fields"].get(field)
    if rule is None:
        return False
    if not present:
        return bool(rule.get("required"))
    if value is None:
        return not rule.get("nullable")
    if "enum" in rule:
        return value not in rule["enum"]
    return rule.get("type") == "string" and not isinstance(value, str)
