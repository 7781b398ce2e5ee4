"""The launched app, scripted through gradio_client as API users do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from shared.serving.widgets import EXAMPLES_DIR

TABS = ("Visualize", "Classify", "Zero-shot", "Transcribe", "Diarize", "Text-to-speech")


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_visualize_endpoint_defaults(client: Client) -> None:
    summary, *images, summary_file = client.predict(handle_file(str(EXAMPLES_DIR / "speech_piper.wav")),
                                                    api_name="/visualize")
    assert summary["sample_rate"] == 22_050 and 5.0 < summary["duration_s"] < 6.0
    assert len(images) == 5 and all(Path(image).stat().st_size > 5_000 for image in images)
    assert json.loads(Path(summary_file).read_text()) == summary


def test_visualize_endpoint_with_knobs(client: Client) -> None:
    summary, *_ = client.predict(handle_file(str(EXAMPLES_DIR / "chirp_100-8000Hz.wav")), n_fft=512,
                                 hop_length=128, window="hamming", n_mels=64, fmin=50, fmax=8000, top_db=60,
                                 frequency_scale="linear", api_name="/visualize")
    assert summary["name"] == "chirp_100-8000Hz.wav"


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"), (b"<html><body>hi</body></html>", "text or HTML"), (b"\x00\x01garbage" * 500, "decoded"),
])
def test_bad_upload_is_a_clear_error(client: Client, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "upload.wav"
    path.write_bytes(content)
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(str(path)), api_name="/visualize")


def test_bad_parameter_is_a_clear_error(client: Client) -> None:
    with pytest.raises(Exception, match="hop length"):
        client.predict(handle_file(str(EXAMPLES_DIR / "chord_c_major.wav")), n_fft=256, hop_length=4096,
                       api_name="/visualize")


def test_server_still_serves_after_errors(client: Client) -> None:
    summary, *_ = client.predict(handle_file(str(EXAMPLES_DIR / "pink_noise.flac")), api_name="/visualize")
    assert summary["format"] == "flac"


def test_api_lists_visualize_and_hides_helpers(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/visualize" in endpoints
    assert not any("status" in name or "unload" in name for name in endpoints)
