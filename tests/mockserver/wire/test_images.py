"""Output images are of the size asked for, however large, while no more than MAX_DRAWN_SIDE² pixels are drawn."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from mockserver.behaviour.fidelity.profiles import profile
from mockserver.wire import images
from mockserver.wire.images import MAX_DRAWN_SIDE, ImageSpec, OutputImage, digest, render
from mockserver.wire.jpeg_bands import BAND_ROWS, encode_banded

JPEG = ImageSpec("JPEG", "image/jpeg")


def picture(data: bytes) -> Image.Image:
    opened = Image.open(io.BytesIO(data))
    opened.load()  # decodes every band: a broken scan or restart marker raises here
    return opened


@pytest.mark.parametrize(("width", "height"), [(200, 64), (200, 72), (203, 8), (8, 200)])
def test_a_jpeg_built_band_by_band_decodes_exactly_as_the_whole_image_encoded_at_once(width: int, height: int) -> None:
    whole = images._paint(width, height, digest("face"), digest("image"))

    banded = encode_banded(
        width, height, lambda i: whole.crop((0, i * BAND_ROWS, width, min(height, (i + 1) * BAND_ROWS))), quality=95
    )
    at_once = io.BytesIO()
    whole.save(at_once, format="JPEG", quality=95, subsampling=2)

    decoded, reference = picture(banded).convert("RGB"), picture(at_once.getvalue()).convert("RGB")
    assert decoded.size == (width, height)
    assert ImageChops.difference(decoded, reference).getbbox() is None


@pytest.mark.parametrize(("width", "height"), [(20480, 48), (56, 20480), (MAX_DRAWN_SIDE + 8, 40)])
def test_a_result_larger_than_the_drawing_bound_is_still_a_jpeg_of_the_size_asked_for(width: int, height: int) -> None:
    image = picture(render(OutputImage(width, height, digest("face"), digest(width, height), JPEG)))

    assert (image.format, image.size) == ("JPEG", (width, height))


def test_no_render_draws_more_than_the_drawing_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[int, int]] = []
    paint = images._paint

    def recording_paint(width: int, height: int, face_key: bytes, key: bytes) -> Image.Image:
        drawn.append((width, height))
        return paint(width, height, face_key, key)

    monkeypatch.setattr(images, "_paint", recording_paint)
    outputs = profile("production").outputs
    for spec in (outputs.full, outputs.low_res):
        render(OutputImage(8192, 2048, digest("face"), digest("wide"), spec))

    assert drawn and all(max(size) <= MAX_DRAWN_SIDE for size in drawn)
    assert drawn[0] == (MAX_DRAWN_SIDE, MAX_DRAWN_SIDE // 4)  # the aspect is kept


def test_a_preview_is_drawn_at_its_own_size_not_drawn_large_and_shrunk(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[int, int]] = []
    paint = images._paint
    monkeypatch.setattr(images, "_paint", lambda w, h, f, k: drawn.append((w, h)) or paint(w, h, f, k))
    preview = profile("contract").outputs.low_res

    data = render(OutputImage(1536, 1024, digest("face"), digest("preview"), preview))

    assert drawn == [(256, 171)] and picture(data).size == (256, 171)


def test_a_production_preview_larger_than_the_drawing_bound_is_sent_at_the_bound_keeping_its_aspect() -> None:
    preview = profile("production").outputs.low_res

    data = render(OutputImage(20480, 10240, digest("face"), digest("preview"), preview))

    assert picture(data).size == (MAX_DRAWN_SIDE, MAX_DRAWN_SIDE // 2)
    assert preview.max_bytes is not None and len(data) <= preview.max_bytes
