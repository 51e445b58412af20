"""The backend's rules as its source applies them (aumritThought/qolaba_modal_docs, 2025-09).

- `APIInput` is checked before any job (main.py L46): a failure answers 500 `Internal Error` with
  `error_data` "()", an unknown app id 500 with "('ap-xxx',)" (the KeyError at L48).
- `FaceConsistentParameters` is checked inside the GPU job (FaceConsistent.py L128): the request is
  accepted and the job ends FAILED with pydantic's text; queued, the failure shows only when polled.
- Then, still in the job: `negative_prompt: null` breaks a string concatenation (L130), and the image URL
  is fetched (Globals.py L440-468). The fake fetches nothing: a value that is not an http(s) URL with a host
  fails as the fetch would; `bad_image_url` stands in for an unreachable one.
- `input` echoes `APIInput.model_dump()` (Worker.py L406-414): the internal app name, the raw body under
  `parameters`, the app's `init_parameters`, and the coerced top-level values.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from contracts.spec.schema import STATUS, SUBMIT
from mockserver.behaviour.fidelity.backend_models import apps, parameters_model, renamed, request_model
from mockserver.behaviour.fidelity.rules import Job, Lookup, Refused
from mockserver.wire import envelope
from mockserver.wire.envelope import Reply
from mockserver.wire.images import floor_to_multiple_of_8

# src/utils/Constants.py L834-835.
IMAGE_URL_ERROR = ("Image URL Error", "Given image type is not supported. Please try with JPG or PNG.")
# Python's own words for `None + str`, raised at FaceConsistent.py L130.
NULL_NEGATIVE_PROMPT = ("Internal Error", "unsupported operand type(s) for +: 'NoneType' and 'str'")
# Celery's AsyncResult(None), main.py L71.
NO_TASK_ID = "AsyncResult requires valid id, not <class 'NoneType'>"
_INTERNAL_ERROR = "Internal Error"


class BackendRules:
    """Lax types; APIInput refused at once with 500, the generation's parameters failing in the job."""

    def admit_submit(self, body: dict[str, Any]) -> Refused | Job:
        try:
            top = request_model().model_validate(body).model_dump()
        except ValidationError:
            # Raised in the API process, so its args are () and the exception handler answers "()".
            return Refused(_internal_error(str(())))
        app = apps().get(top["app_id"])
        if app is None:
            return Refused(_internal_error(str((top["app_id"],))))
        parameters = renamed(SUBMIT, body)
        echo = {**top, "app_id": app["app_id"], "parameters": parameters, "init_parameters": app["init_parameters"]}
        request: dict[str, Any] = {
            "app_id": top["app_id"],
            "celery": top["celery"] is True,
            "inference_type": top["inference_type"] or "a10g",
            "ref_id": top["ref_id"],
        }
        try:
            generation = parameters_model().model_validate(parameters).model_dump()
        except ValidationError as invalid:
            return Job(request=request, echo=echo, fails_with=(_INTERNAL_ERROR, str(invalid)))
        generation["image"] = generation.pop("file_url")
        request.update(generation)
        return Job(request=request, echo=echo, fails_with=_fails_in_the_job(request))

    def admit_status(self, body: dict[str, Any]) -> Refused | Lookup:
        # FastAPI already checked the types (answers.py); what is left is a missing id, which Celery refuses.
        status = renamed(STATUS, body)
        task_id, ref_id = status.get("task_id"), status.get("ref_id", "")
        if task_id is None:
            return Refused(_internal_error(str((NO_TASK_ID,))))
        return Lookup(task_id=task_id, ref_id=ref_id)

    def echo_status(self, lookup: Lookup) -> dict[str, Any]:
        return {"task_id": lookup.task_id, "ref_id": lookup.ref_id}


def _fails_in_the_job(request: dict[str, Any]) -> tuple[str, str] | None:
    if request["negative_prompt"] is None:
        return NULL_NEGATIVE_PROMPT
    if not _fetchable(request["image"]):
        return IMAGE_URL_ERROR
    if floor_to_multiple_of_8(min(request["height"], request["width"])) == 0:
        # A side floored to 0 pixels (ModalAppSchemas.py L233-234): no image can be made; the backend's exact
        # words for it are unknown.
        return (_INTERNAL_ERROR, "height and width floor to 0 pixels: no image can be generated")
    return None


def _fetchable(url: Any) -> bool:
    """What `requests.get` could at least try: an http(s) URL with a host."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _internal_error(error_data: str) -> Reply:
    return Reply(500, envelope.failed(error=_INTERNAL_ERROR, error_data=error_data))
