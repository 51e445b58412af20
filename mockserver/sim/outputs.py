"""What a successful generation returns: output URLs served by the fake, and the images behind them."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from mockserver.behaviour.clock import LATEST
from mockserver.behaviour.fault_effects import UNFILTERED, OutputFilter
from mockserver.behaviour.fidelity.rules import Job
from mockserver.behaviour.latency import Timing
from mockserver.sim.namespaces import Namespace
from mockserver.wire import envelope
from mockserver.wire.envelope import Envelope
from mockserver.wire.images import OutputImage, OutputStyle, digest, face_key, floor_to_multiple_of_8


class OutputStore:
    """The images behind output URLs, by URL name, bounded so a long-running server does not grow forever."""

    def __init__(self, max_outputs: int) -> None:
        self._images: OrderedDict[str, OutputImage] = OrderedDict()
        self._max = max_outputs

    def publish(self, base_url: str, name: str, image: OutputImage) -> str:
        self._images[name] = image
        while len(self._images) > self._max:
            self._images.popitem(last=False)
        return f"{base_url.rstrip('/')}/outputs/{name}"

    def get(self, name: str) -> OutputImage | None:
        return self._images.get(name)

    def clear(self) -> None:
        self._images.clear()

    def __len__(self) -> int:
        return len(self._images)


# The version (4) and variant (RFC 4122) bits of a UUID4, as `uuid.UUID(int=..., version=4)` sets them.
_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)


def new_uuid(rng: random.Random) -> str:
    """A UUID4 drawn from the seeded sequence, so ids repeat run to run.

    The same text `str(uuid.UUID(int=rng.getrandbits(128), version=4))` gives, at a third of its cost.
    """
    digits = f"{rng.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"  # not a contract bound


@functools.lru_cache(maxsize=1)
def _stamp(second: int) -> str:
    # Every output of the same second shares its stamp: formatted once per second, not once per request.
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(second))


# One per submit: slotted and not frozen, since a frozen dataclass pays a call per field to be built.
@dataclass(slots=True)
class Destination:
    """Where a job's images go: the store behind output URLs, the URL they are served under, in which style."""

    store: OutputStore
    base_url: str
    style: OutputStyle


def success(
    job: Job, timing: Timing, space: Namespace, destination: Destination, filtered: OutputFilter = UNFILTERED
) -> Envelope:
    """The SUCCESS envelope of `job`, its images published to `destination`; ids and flags from `space`'s rng.

    `filtered` is what content checks take out of the batch (a fault's effect): flagged images, unflagged ones.
    """
    request, store, base_url, style = job.request, destination.store, destination.base_url, destination.style
    seed, rng = space.seed, space.rng
    width, height = floor_to_multiple_of_8(request["width"]), floor_to_multiple_of_8(request["height"])
    # Bytes depend on the seed and the request only, never on order; one face per reference image.
    image = request["image"]
    face = face_key(seed, image) if isinstance(image, str) else digest(seed, image)
    request_key = _request_key(seed, request)
    stamp = _stamp(math.floor(min(space.clock.now(), LATEST)))
    flagged = _nsfw_flags(rng, request["batch"]) if filtered.nsfw else [False] * request["batch"]
    result, low_res = [], []
    for index, is_nsfw in enumerate(flagged):
        if is_nsfw:  # production drops flagged images and keeps only their flag
            continue
        key = _image_key(request_key, index)
        # Production names full-size JPEGs `.webp` too; the fake keeps that quirk.
        full = OutputImage(width, height, face, key, style.full)
        result.append(store.publish(base_url, f"{stamp}_{new_uuid(rng)}.webp", full))
        preview = OutputImage(width, height, face, key, style.low_res)
        low_res.append(store.publish(base_url, f"{style.low_res_folder}{stamp}_{new_uuid(rng)}.webp", preview))
    if filtered.dropped:  # the second check drops images from the end of the batch, flags untouched
        kept = max(0, len(result) - filtered.dropped)
        result, low_res = result[:kept], low_res[:kept]
    return envelope.success(
        body=request,
        echo=job.echo,
        startup_time=timing.startup_time,
        runtime=timing.runtime,
        result=result,
        nsfw=flagged,
        low_res_urls=low_res,
    )


def _request_key(seed: int, request: dict[str, Any]) -> hashlib._Hash:
    """The hash state every image of this request starts from: the seed and the request, keys sorted."""
    try:
        text = orjson.dumps(request, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer past 64 bits, which pydantic's lax mode can make of a long digit string
        text = json.dumps(request, sort_keys=True).encode()
    return hashlib.sha256(b"%d|%b" % (seed, text))


def _image_key(request_key: hashlib._Hash, index: int) -> bytes:
    image = request_key.copy()
    image.update(b"|%d" % index)
    return image.digest()


def _nsfw_flags(rng: random.Random, batch: int) -> list[bool]:
    # At least one image is flagged, so the fault is always visible; the rest by a seeded coin.
    first = rng.randrange(batch)
    return [i == first or rng.random() < 0.5 for i in range(batch)]
