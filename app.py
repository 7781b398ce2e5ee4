"""Audio Demo Suite: see, hear and compare what today's audio models do with a sound or a sentence.

    python app.py [--host 127.0.0.1] [--port 7860] [--share]
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import re
import threading
from pathlib import Path

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")  # pyannote.audio sends telemetry unless told not to
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# torch's CPU tensors of 2 MiB and more on transparent huge pages (where the kernel offers them on request, the usual
# "madvise" setting): fewer page faults and TLB misses; real-size CLAP's 30 s zero-shot pass 4.0 -> 3.4-3.6 s, the
# other default engines unchanged (bench/results/app_overhead_session5.txt). Read by torch at its first allocation.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

import gradio as gr

from shared import config
from shared.config import SETTINGS
from shared.models.availability import start_hub_probe
from shared.serving.cancel import make_model_events_cancellable
from shared.serving.gradio_io import encode_image, wav_is_playable
from shared.serving.widgets import INSIDE_CSS
from tabs import audio_to_audio, classify, diarize, evaluate, settings, transcribe, tts, visualize, zero_shot

TITLE = "Audio Demo Suite"


def _memoize_gradio_playable_check() -> None:
    """Gradio runs ffprobe on every example audio while building the page (about 20 runs for the same 6 files,
    over a second of start-up), and again on every output audio file (~90 ms each). A wav file's header answers
    without ffprobe; other files: same file, same answer, remembered per (path, size, mtime)."""
    from gradio import processing_utils

    check = getattr(processing_utils, "audio_is_playable", None)
    if check is None or hasattr(check, "cache_info"):
        return

    @functools.lru_cache(maxsize=512)
    def playable(path: str, size: int, mtime: float) -> bool:
        return check(path)

    def audio_is_playable(path: str) -> bool:
        known = wav_is_playable(path)  # every output wav is new: its header answers without ffprobe
        if known is not None:
            return known
        try:
            stat = os.stat(path)
        except OSError:
            return check(path)
        return playable(path, stat.st_size, stat.st_mtime)

    audio_is_playable.cache_info = playable.cache_info  # type: ignore[attr-defined]
    audio_is_playable.__wrapped__ = check  # type: ignore[attr-defined]
    processing_utils.audio_is_playable = audio_is_playable


def _write_gradio_images_atomically() -> None:
    """Gradio 6.31 saves output images into a content-addressed cache path with a plain write_bytes: when two
    requests produce the same image at once (the same example clicked twice), one truncates the file while the
    other is serving it ("Too little data for declared Content-Length", a broken download). Same path means same
    bytes, so keep an existing file and write new ones through a temporary name and an atomic rename. Encoded
    with less effort than Gradio's default (shared/serving/gradio_io.py)."""
    from gradio import processing_utils

    original = getattr(processing_utils, "save_pil_to_cache", None)
    if original is None or getattr(original, "atomic", False):
        return

    def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
        data = encode_image(img, format)
        folder = Path(cache_dir) / processing_utils.hash_bytes(data)
        folder.mkdir(exist_ok=True, parents=True)
        target = (folder / f"{name}.{format}").resolve()
        if not target.exists():
            partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
            partial.write_bytes(data)
            os.replace(partial, target)
        return str(target)

    save_pil_to_cache.atomic = True  # type: ignore[attr-defined]
    processing_utils.save_pil_to_cache = save_pil_to_cache


def build_demo() -> gr.Blocks:
    start_hub_probe()
    _memoize_gradio_playable_check()
    _write_gradio_images_atomically()
    with gr.Blocks(title=TITLE, delete_cache=(1800, 3600)) as demo:  # hourly, drop files older than an hour
        gr.Markdown(f"# {TITLE}\nDrop in a sound or type a sentence; see, hear and compare what audio models do "
                    "with it.")
        with gr.Tabs():
            for title, tab in (("Visualize", visualize), ("Classify", classify), ("Zero-shot", zero_shot),
                               ("Transcribe", transcribe), ("Diarize", diarize), ("Text-to-speech", tts),
                               ("Audio → audio", audio_to_audio), ("Evaluate", evaluate)):
                with gr.Tab(title, elem_id="tab-" + re.sub(r"[^a-z0-9]+", "-", title.lower())):
                    tab.build()
            settings.build()
    make_model_events_cancellable(demo)  # a cancelled job stops at its next progress update and frees its slot
    demo.queue(default_concurrency_limit=2, max_size=SETTINGS.queue_size)
    return demo


def main() -> None:
    host, port = config.server_address()
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--host", default=host)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--share", action="store_true", help="also serve through a public gradio.live link")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    build_demo().launch(server_name=args.host, server_port=args.port, share=args.share,
                        max_file_size=SETTINGS.max_file_bytes, theme=gr.themes.Soft(), css=INSIDE_CSS)


if __name__ == "__main__":
    main()
