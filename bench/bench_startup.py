"""Start-up: `python app.py` until the UI answers HTTP 200, vs a bare Gradio app with the same number of tabs.

    python bench/bench_startup.py [--repeats 3]

Goal: app / bare ≤ 1.5 (heavy imports — torch, transformers, pyannote — deferred to first use).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = """
import sys
import gradio as gr
with gr.Blocks() as demo:
    for name in ("Visualize", "Classify", "Zero-shot", "Transcribe", "Diarize", "Text-to-speech", "Models"):
        with gr.Tab(name):
            gr.Markdown(name)
demo.launch(server_port=int(sys.argv[1]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_to_200(command: list[str], port: int) -> float:
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(" ".join(command))
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bare = Path(folder) / "bare_app.py"
        bare.write_text(BARE_APP)
        results: dict[str, list[float]] = {"bare": [], "app": []}
        for _ in range(args.repeats):  # interleaved, so drift in machine load hits both alike
            port = free_port()
            results["bare"].append(time_to_200([sys.executable, str(bare), str(port)], port))
            port = free_port()
            results["app"].append(time_to_200([sys.executable, "app.py", "--port", str(port)], port))
    bare_s, app_s = statistics.median(results["bare"]), statistics.median(results["app"])
    print(f"median of {args.repeats}: bare Gradio (7 tabs) {bare_s:.2f} s, app {app_s:.2f} s")
    print(f"ratio app / bare: {app_s / bare_s:.2f}  (goal ≤ 1.5)")
