"""Output files made cheaper (shared/serving/gradio_io.py): pictures encoded with less effort (PNGs keep every pixel
and Gradio's metadata, WebPs stay as close to the picture as Gradio's own encoding, the app's image cache uses this
encoder), and a wav file's playability read from its header gives ffprobe's answer."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from gradio import processing_utils
from PIL import Image

from shared.serving.gradio_io import encode_image, wav_is_playable


def _picture() -> Image.Image:
    """A plot-like picture: flat background, a colour gradient, a line."""
    rows, columns = np.mgrid[0:120, 0:300]
    pixels = np.full((120, 300, 3), 255, np.uint8)
    pixels[20:100, 20:280, 0] = (columns[20:100, 20:280] * 255 // 300).astype(np.uint8)
    pixels[20:100, 20:280, 2] = (rows[20:100, 20:280] * 2).astype(np.uint8)
    pixels[60, :] = 0
    return Image.fromarray(pixels)


def _decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_png_keeps_every_pixel_and_the_metadata() -> None:
    picture = _picture()
    picture.info["source"] = "test"  # a text chunk Gradio keeps
    data = encode_image(picture, "png")
    assert np.array_equal(_decoded(data), np.asarray(picture))
    assert Image.open(io.BytesIO(data)).text.get("source") == "test"


def test_webp_is_as_close_to_the_picture_as_gradios_own_encoding() -> None:
    picture = np.asarray(_picture()).astype(int)
    ours = np.abs(_decoded(encode_image(_picture(), "webp")) - picture).mean()
    gradios = np.abs(_decoded(processing_utils.encode_pil_to_bytes(_picture(), "webp")) - picture).mean()
    assert ours <= 1.5 * gradios + 0.5


def test_other_formats_are_gradios_encoding() -> None:
    assert encode_image(_picture(), "jpeg") == processing_utils.encode_pil_to_bytes(_picture(), "jpeg")


def test_the_apps_image_cache_writes_this_encoding(tmp_path) -> None:
    import app

    app.build_demo()  # installs the cache writer
    path = processing_utils.save_pil_to_cache(_picture(), str(tmp_path), format="png")
    assert open(path, "rb").read() == encode_image(_picture(), "png")


@pytest.mark.parametrize(("subtype", "playable"), [("PCM_16", True), ("PCM_24", True), ("FLOAT", True),
                                                   ("PCM_U8", True), ("PCM_32", False), ("DOUBLE", False)])
def test_a_wavs_header_answers_as_ffprobe_does(tmp_path, subtype: str, playable: bool) -> None:
    path = str(tmp_path / "tone.wav")
    sf.write(path, np.zeros(800, np.float32), 8000, subtype=subtype)
    assert wav_is_playable(path) is playable
    ffprobe_check = getattr(processing_utils.audio_is_playable, "__wrapped__", processing_utils.audio_is_playable)
    assert ffprobe_check(path) is playable  # Gradio's own check (ffprobe; the app's replaces it) agrees


def test_other_files_are_left_to_ffprobe(tmp_path) -> None:
    flac, broken = str(tmp_path / "tone.flac"), tmp_path / "broken.wav"
    sf.write(flac, np.zeros(800, np.float32), 8000)
    broken.write_bytes(b"not a wav")
    assert wav_is_playable(flac) is None and wav_is_playable(str(broken)) is None
