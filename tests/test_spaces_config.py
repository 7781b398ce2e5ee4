"""Hugging Face Spaces reads README front matter and packages.txt: they must match what the app pins."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def front_matter() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    assert text.startswith("---\n")
    block = text.split("---\n", 2)[1]
    return {key.strip(): value.strip().strip('"') for key, value in
            (line.split(":", 1) for line in block.splitlines() if ":" in line)}


def test_front_matter_fields() -> None:
    meta = front_matter()
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    for key in ("title", "emoji", "colorFrom", "colorTo", "python_version", "suggested_hardware", "license",
                "short_description"):
        assert meta.get(key), key
    assert len(meta["short_description"]) <= 60


def test_sdk_version_equals_pinned_gradio() -> None:
    pinned = re.search(r"^gradio==([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned is not None, "gradio must be pinned exactly in requirements.txt"
    assert front_matter()["sdk_version"] == pinned.group(1)
    import gradio

    assert gradio.__version__ == pinned.group(1)


def test_packages_txt_installs_ffmpeg() -> None:
    assert "ffmpeg" in (ROOT / "packages.txt").read_text().split()
