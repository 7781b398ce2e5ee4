"""Per-request overhead of the app: every tab's main API event through `gradio_client` against a launched app, vs
the engine alone called in this process on the same input, in one script run.

    HF_HOME=<tiny cache> .venv/bin/python bench/bench_app_overhead.py [--repeats 5] [--clip-s 30] [--root DIR]
        [--label after] [--tabs transcribe diarize ...]
    .venv/bin/python bench/bench_app_overhead.py --vad        # Silero VAD: JIT vs ONNX per window vs sequence ONNX
    .venv/bin/python bench/bench_app_overhead.py --pictures   # drawing: new figures vs pooled ones
    .venv/bin/python bench/bench_app_overhead.py --handlers [--root DIR]   # handlers' CPU in-process, no Gradio
    .venv/bin/python bench/bench_app_overhead.py --floor      # gradio_client against a do-nothing Gradio app
    HF_HOME=<tiny cache> .venv/bin/python bench/bench_app_overhead.py --phases   # where a request's time goes
    .venv/bin/python bench/bench_app_overhead.py --real-size [--tabs classify zero]  # default models at real size

Each tab uses its CPU default model: Transcribe `offline:whisper-tiny.en` (engine: faster-whisper's
`WhisperModel.transcribe`, same options: beam 1, no previous-text conditioning, no VAD filter), Diarize
`offline:diarizer` (engine: the diarizer object called on the samples), TTS `offline:piper-en_US-joe-medium`
(engine: `PiperVoice.synthesize` per sentence), Visualize (no model: engine = the same analysis and five pictures
drawn in this process). Classify and Zero-shot have no offline model: they use the tiny random AST / CLAP of a tiny
HF home (`python -m tests.tiny_models --out DIR`, then HF_HOME=DIR), and their engine is the tab's own task function
(`shared.classify.run.classify`, `shared.zero_shot.run.zero_shot`: the same sliding-window forward passes, nothing
drawn), since a single pipeline call would not do the tab's work; with tiny models their engine time is small, so
their ratio mostly measures the app's fixed cost and pictures. `--real-size` builds those two default models at
their real checkpoints' sizes instead (AST AudioSet from `ASTConfig()` with 527 labels, 87 M parameters; CLAP from
`ClapConfig()`, 153 M; random weights: the time is representative, the scores are not) into a temporary HF home.

The app answers with its API defaults, "Inside the model" pictures included; each tab with pictures is also
timed with `inside=False` (text only), and once more (pictures included) through a client given one SSL context
for all its calls (`Client(url, ssl_verify=ssl.create_default_context())`): gradio_client otherwise opens every
HTTP call with a new httpx client that loads the certificate bundle into a new SSL context (~25 ms each, even for
http://; a request makes 3 + one per output file). `--root` measures another checkout
(e.g. an export of an older commit: its app and its `shared` package); both processes get the same environment.
Medians over `--repeats` interleaved runs after one warm-up each; OMP_NUM_THREADS=1 unless set. Wall time and CPU
time (this process + the app's, threads and children included) are both reported: on a machine shared with other
jobs wall time swings with their load, CPU time much less.
Results: bench/results/app_overhead_<label>_<clip>s.json.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# one OpenMP thread in this process and in the app (inherited): on a shared 2-core machine oversubscribed OpenMP
# spin-waits made CTranslate2 in the app 8x slower than the same call here (see tests/conftest.py)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")  # app.py's setting, so the engine alone runs as fast as it can
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the engines here load from HF_HOME as the app does (it is offline too)
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SENTENCES = (  # about 30 s of Piper speech
    "The quick brown fox jumps over the lazy dog.",
    "Speech recognition is easier than you think.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her Wednesday at the train station.",
    "The weather today is sunny with a light breeze from the west.",
)
ZERO_SHOT_LABELS = "a dog barking, music, a siren, speech"
Timed = Callable[[], Any]
STAND_INS = "tiny random"  # what the Classify / Zero-shot models are ("real-size random" with --real-size)


def median_times(calls: dict[str, Timed], repeats: int,
                 cpu_clock: Callable[[], float] = time.process_time) -> dict[str, list[float]]:
    """Each call once to warm up, then `repeats` interleaved rounds: wall seconds per call and round under the
    call's name, and CPU seconds (`cpu_clock`) under "<name> cpu"."""
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {key: [] for name in calls for key in (name, f"{name} cpu")}
    for _ in range(repeats):
        for name, call in calls.items():
            start, cpu_start = time.perf_counter(), cpu_clock()
            call()
            times[name].append(time.perf_counter() - start)
            times[f"{name} cpu"].append(cpu_clock() - cpu_start)
    return times


def cpu_of(pid: int) -> Callable[[], float]:
    """A clock of the CPU seconds spent so far by this process and process `pid` (threads and waited-for children
    included): robust to other jobs on a shared machine, unlike wall time."""
    import psutil

    app = psutil.Process(pid)
    return lambda: time.process_time() + sum(app.cpu_times()[:4])


def clip_file(seconds: float, folder: Path) -> Path:
    """pyannote's 30 s two-speaker sample (16 kHz), tiled or cut to `seconds`, as a wav file."""
    import numpy as np
    import soundfile as sf

    from tests.speech_data import sample_wav

    samples, rate = sf.read(sample_wav(), dtype="float32")
    tiled = np.tile(samples, int(np.ceil(seconds * rate / len(samples))))[: int(seconds * rate)]
    path = folder / f"speech_{seconds:g}s.wav"
    sf.write(path, tiled, rate)
    return path


@contextmanager
def launched_app(root: Path, log_name: str, script: str = "app.py") -> Iterator[tuple[str, int]]:
    """`python app.py` (or `script`, run with `--port`) of the checkout `root` on a free port, offline, with this
    process's environment; yields its URL and process id and stops it on exit. Its output goes to
    artifacts/<log_name>."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (ROOT / "artifacts").mkdir(exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(ROOT / "artifacts" / log_name, "w") as log:
        process = subprocess.Popen([sys.executable, script, "--port", str(port)], cwd=root, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start: see artifacts/{log_name}")
            time.sleep(0.5)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def engines(clip: Path) -> dict[str, tuple[str, dict, Timed]]:
    """tab → (api_name, app keyword arguments, the engine alone on the same input)."""
    from shared.audio.intake import load_audio
    from shared.models.device import Placement
    from shared.models.loader import ModelLoader

    loader = ModelLoader(budget_mb=100_000, placement=Placement("cpu", "float32"))
    speech = load_audio(clip, 16_000).samples

    def transcribe() -> Any:
        model = loader.entry("offline:whisper-tiny.en").model
        segments, _ = model.transcribe(speech, beam_size=1, word_timestamps=False, condition_on_previous_text=False,
                                       vad_filter=False)
        return [segment.text for segment in segments]

    def diarize() -> Any:
        return loader.entry("offline:diarizer").model(speech)

    def tts() -> Any:
        voice = loader.entry("offline:piper-en_US-joe-medium").model
        return [chunk.audio_float_array for sentence in SENTENCES for chunk in voice.synthesize(sentence)]

    def visualize() -> Any:
        from shared.visualize.views import visualize_clip

        return visualize_clip(load_audio(clip))

    def classify() -> Any:  # the windowed forward passes the tab runs (2 s windows, 1 s hop), nothing drawn
        from shared.classify.run import classify

        return classify(load_audio(clip, 16_000), "MIT/ast-finetuned-audioset-10-10-0.4593", loader=loader)

    def zero_shot() -> Any:  # the windowed audio passes + label embeddings (cached) the tab runs, nothing drawn
        from shared.zero_shot.run import zero_shot

        return zero_shot(load_audio(clip, 16_000), "laion/clap-htsat-unfused", ZERO_SHOT_LABELS, loader=loader)

    return {
        "Transcribe (offline:whisper-tiny.en)": ("/transcribe", {"model": "offline:whisper-tiny.en"}, transcribe),
        "Diarize (offline:diarizer)": ("/diarize", {"model": "offline:diarizer"}, diarize),
        "TTS (offline:piper-en_US-joe-medium)": ("/tts", {"model": "offline:piper-en_US-joe-medium"}, tts),
        "Visualize": ("/visualize", {}, visualize),
        f"Classify ({STAND_INS} AST)": ("/classify", {"model": "MIT/ast-finetuned-audioset-10-10-0.4593"}, classify),
        f"Zero-shot ({STAND_INS} CLAP)": ("/zero_shot", {"labels": ZERO_SHOT_LABELS,
                                                        "model": "laion/clap-htsat-unfused"}, zero_shot),
    }


def real_size_home() -> Path:
    """A temporary HF home holding Classify's and Zero-shot's default models at real size (random weights), set as
    HF_HOME for this process and the app before anything imports huggingface_hub (which reads it once); removed
    when this process exits (~1 GB)."""
    global STAND_INS
    home = Path(tempfile.mkdtemp(prefix="real-size-hf-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["HF_HOME"] = str(home)
    STAND_INS = "real-size random"
    from bench.bench_classify import build_clap
    from shared.models.registry import get_spec
    from tests.tiny_models.hf_cache import install_folder
    from tests.tiny_models.transformers_models import build_ast

    with tempfile.TemporaryDirectory() as folder:
        for repo_id, built in build_ast(get_spec("MIT/ast-finetuned-audioset-10-10-0.4593"), Path(folder),
                                        real_size=True).items():
            install_folder(home, repo_id, built)
    build_clap(home)
    return home


def bench_tabs(root: Path, label: str, repeats: int, clip_s: float, only: list[str]) -> dict:
    from gradio_client import Client, handle_file

    results: dict[str, Any] = {"label": label, "root": str(root), "clip_s": clip_s, "repeats": repeats,
                               "load_average": os.getloadavg(), "tabs": {}}
    with tempfile.TemporaryDirectory() as folder, launched_app(root, f"bench_app_overhead_{label}.log") as (
            url, pid):
        clip = clip_file(clip_s, Path(folder))
        client = Client(url, verbose=False)
        kept_ssl = Client(url, verbose=False, ssl_verify=ssl.create_default_context())  # see the docstring
        text = " ".join(SENTENCES)
        for tab, (api_name, kwargs, engine) in engines(clip).items():
            if only and not any(word.lower() in tab.lower() for word in only):
                continue
            first = text if api_name == "/tts" else handle_file(str(clip))

            def app(api_name: str = api_name, first: Any = first, kwargs: dict = kwargs, caller: Any = client,
                    **extra: Any) -> Any:
                return caller.predict(first, **kwargs, **extra, api_name=api_name)

            calls = {"engine": engine, "app": app, "app, one SSL context": functools.partial(app, caller=kept_ssl)}
            if api_name != "/visualize":  # its pictures are its answer; the others can skip theirs (inside=False)
                calls["app, inside=False"] = functools.partial(app, inside=False)
            times = median_times(calls, repeats, cpu_of(pid))
            medians = {name: statistics.median(runs) for name, runs in times.items()}
            without = "app, inside=False" if "app, inside=False" in calls else "app"
            results["tabs"][tab] = {
                "median_s": medians, "runs": times, "ratio": medians["app"] / medians["engine"],
                "ratio_without_pictures": medians[without] / medians["engine"],
                "ratio_one_ssl_context": medians["app, one SSL context"] / medians["engine"],
                "cpu_ratio": medians["app cpu"] / medians["engine cpu"],
                "cpu_ratio_without_pictures": medians[f"{without} cpu"] / medians["engine cpu"]}
            row = results["tabs"][tab]
            print(f"{tab:38s} wall: engine {medians['engine']:6.2f} s app {medians['app']:6.2f} s "
                  f"{row['ratio']:5.2f}x (no pictures {row['ratio_without_pictures']:5.2f}x, one SSL context "
                  f"{row['ratio_one_ssl_context']:5.2f}x) | CPU: engine "
                  f"{medians['engine cpu']:6.2f} s app {medians['app cpu']:6.2f} s {row['cpu_ratio']:5.2f}x "
                  f"(no pictures {row['cpu_ratio_without_pictures']:5.2f}x)", flush=True)
    results["load_average_end"] = os.getloadavg()
    return results


# the floor: a Gradio app doing nothing, so what remains is Gradio's and gradio_client's own cost per request
FLOOR_APP = """
import sys, tempfile
from pathlib import Path
import gradio as gr

FOLDER = Path(tempfile.mkdtemp())
FILES = [FOLDER / name for name in ("a.srt", "a.vtt", "a.json")]
for file in FILES:
    file.write_text("x" * 2000)

with gr.Blocks() as demo:
    text, audio, out, files = gr.Textbox(), gr.Audio(type="filepath"), gr.Textbox(), gr.File(file_count="multiple")
    gr.Button().click(lambda t: t, text, out, api_name="noop")
    gr.Button().click(lambda a: str(a), audio, out, api_name="upload")
    gr.Button().click(lambda t: [str(f) for f in FILES], text, files, api_name="three_files")
demo.queue().launch(server_port=int(sys.argv[2]), allowed_paths=[str(FOLDER)])
"""


def bench_floor(repeats: int, clip_s: float) -> None:
    """gradio_client against a do-nothing Gradio app: a text round trip, the same with the clip uploaded, and one
    returning three small files (downloaded by the client): the fixed cost no handler change can remove."""
    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "floor_app.py"
        script.write_text(FLOOR_APP)
        clip = clip_file(clip_s, Path(folder))
        with launched_app(ROOT, "bench_app_overhead_floor.log", str(script)) as (url, pid):
            calls = {}
            for kind, client in (("", Client(url, verbose=False)),
                                 (", one SSL context", Client(url, verbose=False,
                                                              ssl_verify=ssl.create_default_context()))):
                calls |= {
                    f"no-op (text in, text out){kind}": lambda c=client: c.predict("x", api_name="/noop"),
                    f"upload the {clip_s:g} s clip, text out{kind}": lambda c=client: c.predict(
                        handle_file(str(clip)), api_name="/upload"),
                    f"text in, 3 files out (downloaded){kind}": lambda c=client: c.predict(
                        "x", api_name="/three_files"),
                }
            times = median_times(calls, repeats, cpu_of(pid))
    for name, runs in times.items():
        if not name.endswith(" cpu"):
            cpu = statistics.median(times[f"{name} cpu"])
            print(f"{name:56s} wall {statistics.median(runs):6.3f} s   CPU (both processes) {cpu:6.3f} s")


PHASES = ("queue_wait", "preprocess", "fn_call", "postprocess", "total")  # Gradio's per-request trace, ms


def bench_phases(repeats: int, clip_s: float) -> None:
    """Where one request's time goes: the app launched with GRADIO_PROFILING=1 (Gradio's own per-request traces:
    queue wait, preprocess, the handler, postprocess) and called through a client with one SSL context, next to
    the client's wall time; medians of `repeats` after a warm-up, per tab and with/without the pictures."""
    from gradio_client import Client, handle_file

    os.environ["GRADIO_PROFILING"] = "1"  # inherited by the launched app
    with tempfile.TemporaryDirectory() as folder, launched_app(ROOT, "bench_app_overhead_phases.log") as (url, _):
        clip = handle_file(str(clip_file(clip_s, Path(folder))))
        client = Client(url, verbose=False, ssl_verify=ssl.create_default_context())
        cases = [(f"{tab}, inside={inside}", api, kwargs | {"inside": inside})
                 for tab, api, kwargs in (("Transcribe", "/transcribe", {"model": "offline:whisper-tiny.en"}),
                                          ("Diarize", "/diarize", {"model": "offline:diarizer"}))
                 for inside in (True, False)] + [("Visualize", "/visualize", {})]
        print(f"{'ms, medians of ' + str(repeats):28s} client wall " + " ".join(f"{name:>12s}" for name in PHASES))
        for name, api, kwargs in cases:
            walls = median_times({name: functools.partial(client.predict, clip, **kwargs, api_name=api)}, repeats)
            traces = _traces(url)[-repeats:]
            print(f"{name:28s} {statistics.median(walls[name]) * 1000:11.0f} " + " ".join(
                f"{statistics.median(trace[f'{phase}_ms'] for trace in traces):12.1f}" for phase in PHASES))


def _traces(url: str) -> list[dict]:
    """The app's request traces with a handler (page loads and other calls left out), oldest first."""
    with urllib.request.urlopen(url + "gradio_api/profiling/traces") as response:
        return [trace for trace in json.load(response) if trace.get("fn_call_ms", 0) > 0]


def bench_vad(repeats: int) -> None:
    """Silero VAD window probabilities on 30 s and 10 min of speech: the streaming JIT model window by window (what
    the app used), the ONNX model window by window (what live transcription used), the sequence ONNX model."""
    import numpy as np
    import soundfile as sf
    import torch
    from silero_vad import load_silero_vad

    from shared.models.vad import VadState, load_silero
    from tests.speech_data import sample_wav

    speech, _ = sf.read(sample_wav(), dtype="float32")
    sequence, jit, onnx = load_silero(None, None, {}), load_silero_vad(onnx=False), load_silero_vad(onnx=True)  # type: ignore[arg-type]

    def per_window(model: Any, samples: np.ndarray) -> np.ndarray:
        model.reset_states()
        audio = torch.from_numpy(np.pad(samples, (0, -len(samples) % 512)))
        with torch.inference_mode():
            return np.array([model(audio[i:i + 512], 16_000).item() for i in range(0, len(audio), 512)])

    for name, samples in (("30 s", speech), ("10 min", np.tile(speech, 20))):
        padded = np.pad(samples, (0, -len(samples) % 512))
        calls = {"JIT per window": lambda s=samples: per_window(jit, s),
                 "ONNX per window": lambda s=samples: per_window(onnx, s),
                 "sequence ONNX, 64 windows per call": lambda p=padded: sequence.score(p, VadState())}
        times = median_times(calls, repeats)
        reference = calls["JIT per window"]()
        for method, call in calls.items():
            difference, seconds = float(np.abs(call() - reference).max()), statistics.median(times[method])
            print(f"{name:7s} {method:36s} {seconds:7.3f} s   max |p - p_JIT| {difference:.1e}")


def bench_pictures(repeats: int) -> None:
    """Transcribe's inside pictures and Visualize's five pictures: new figures each time vs pooled figures (the
    layout measured every time), vs pooled figures with the layout remembered (shared/audio/layout_memo.py)."""
    from shared.audio import layout_memo, plots
    from shared.audio.intake import load_audio
    from shared.transcribe import inside
    from shared.transcribe.run import transcribe
    from shared.visualize.views import visualize_clip
    from tests.speech_data import sample_wav

    clip = load_audio(sample_wav(), 16_000)
    result = transcribe(clip, "offline:whisper-tiny.en", inside=True)
    for name, draw in (("Transcribe inside views", lambda: inside.inside_views(result)),
                       ("Visualize pictures", lambda: visualize_clip(clip))):
        times = median_times({
            "new figures": lambda draw=draw: (plots.empty_pool(), layout_memo.forget(), draw()),
            "pooled figures": lambda draw=draw: (layout_memo.forget(), draw()),
            "pooled, layout remembered": draw}, repeats)
        new_s, pooled_s, kept_s = (statistics.median(times[name]) for name in (
            "new figures", "pooled figures", "pooled, layout remembered"))
        print(f"{name:26s} new figures {new_s:6.3f} s   pooled {pooled_s:6.3f} s ({pooled_s / new_s:.2f}x)   "
              f"layout remembered too {kept_s:6.3f} s ({kept_s / new_s:.2f}x of new, {kept_s / pooled_s:.2f}x of "
              "pooled)")


def bench_handlers(repeats: int) -> None:
    """CPU seconds in this process (no Gradio) for Transcribe on the 30 s sample: faster-whisper alone vs the tab's
    handler without and with its pictures, and the Diarize handler (pictures included). Run with `--root` to
    measure another checkout's handlers."""
    from shared.audio.intake import load_audio
    from shared.models.loader import get_loader
    from tabs import diarize, transcribe
    from tests.speech_data import sample_wav

    wav = str(sample_wav())

    def engine() -> list[str]:
        model = get_loader().entry("offline:whisper-tiny.en").model
        segments, _ = model.transcribe(load_audio(wav, 16_000).samples, beam_size=1, word_timestamps=False,
                                       condition_on_previous_text=False, vad_filter=False)
        return [segment.text for segment in segments]

    times = median_times({
        "faster-whisper alone": engine,
        "Transcribe handler, inside=False": lambda: transcribe.run_transcribe(wav, transcribe.OFFLINE, inside=False),
        "Transcribe handler, inside=True": lambda: transcribe.run_transcribe(wav, transcribe.OFFLINE, inside=True),
        "Diarize handler, inside=True": lambda: diarize.run_diarize(wav, "offline:diarizer", inside=True),
    }, repeats)
    for name, runs in times.items():
        if name.endswith(" cpu"):
            print(f"{name[:-4]:34s} CPU {statistics.median(runs):6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose app and shared package to measure")
    parser.add_argument("--label", default="after")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clip-s", type=float, default=30.0)
    parser.add_argument("--tabs", nargs="*", default=[], help="words of the tab names to run (default: all)")
    parser.add_argument("--vad", action="store_true", help="only the Silero VAD comparison")
    parser.add_argument("--pictures", action="store_true", help="only the picture drawing comparison")
    parser.add_argument("--handlers", action="store_true", help="only the in-process handler CPU comparison")
    parser.add_argument("--floor", action="store_true", help="only gradio_client against a do-nothing Gradio app")
    parser.add_argument("--phases", action="store_true", help="only where a request's time goes (Gradio's traces)")
    parser.add_argument("--real-size", action="store_true",
                        help="Classify / Zero-shot with their default models built at real size (random weights)")
    args = parser.parse_args()
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    sys.path.insert(1, str(ROOT))
    if args.floor or args.phases:
        (bench_floor if args.floor else bench_phases)(args.repeats, args.clip_s)
        return
    if args.vad or args.pictures or args.handlers:
        (bench_vad if args.vad else bench_pictures if args.pictures else bench_handlers)(args.repeats)
        return
    if args.real_size:
        real_size_home()
        args.tabs = args.tabs or ["classify", "zero"]
    results = bench_tabs(root, args.label, args.repeats, args.clip_s, args.tabs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"app_overhead_{args.label}_{args.clip_s:g}s.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
