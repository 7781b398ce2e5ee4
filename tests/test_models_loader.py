"""The shared loader: cache, single flight, LRU eviction under a budget, failures, messages."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from shared.errors import ModelUnavailableError
from shared.models.device import Placement, choose_placement
from shared.models.loader import ModelLoader, explain_load_error
from shared.models.registry import get_spec

CPU = Placement("cpu", "float32")


class FakeEngine:
    """Stands in for transformers: counts loads, can be slow or fail on demand."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[str] = []
        self.fail_with: Exception | None = None
        self._lock = threading.Lock()

    def __call__(self, spec, placement, options):
        with self._lock:
            self.calls.append(spec.id)
        time.sleep(self.delay_s)
        if self.fail_with is not None:
            raise self.fail_with
        return {"model": spec.id, "options": options}


def make_loader(budget_mb: float = 10_000, delay_s: float = 0.0) -> tuple[ModelLoader, FakeEngine]:
    engine = FakeEngine(delay_s)
    return ModelLoader(budget_mb=budget_mb, placement=CPU, engines={"transformers": engine}), engine


def test_second_request_hits_cache() -> None:
    loader, engine = make_loader()
    with loader.use("openai/whisper-tiny") as first:
        pass
    with loader.use("openai/whisper-tiny") as second:
        pass
    assert first is second
    assert engine.calls == ["openai/whisper-tiny"]
    assert loader.load_counts["openai/whisper-tiny"] == 1


def test_key_includes_device_dtype_and_options() -> None:
    loader, engine = make_loader()
    with loader.use("openai/whisper-tiny"):
        pass
    with loader.use("openai/whisper-tiny", placement=Placement("cpu", "bfloat16")):
        pass
    with loader.use("openai/whisper-tiny", variant="x"):
        pass
    assert len(engine.calls) == 3


def test_single_flight_many_threads_one_load() -> None:
    loader, engine = make_loader(delay_s=0.3)
    results = []
    barrier = threading.Barrier(10)

    def worker() -> None:
        barrier.wait()
        with loader.use("openai/whisper-base") as model:
            results.append(model)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert engine.calls == ["openai/whisper-base"]
    assert len(results) == 10 and all(model is results[0] for model in results)


def test_different_models_load_in_parallel() -> None:
    loader, _ = make_loader(delay_s=0.4)
    start = time.perf_counter()
    threads = [threading.Thread(target=lambda m=m: loader.entry(m)) for m in ("openai/whisper-tiny",
                                                                               "openai/whisper-base")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.perf_counter() - start < 0.75  # per-key locks, not one global lock


def test_lru_eviction_order_and_in_use_protection() -> None:
    # sizes from the registry: tiny 151, base 290, wav2vec2 378 MB
    loader, _engine = make_loader(budget_mb=700)
    loader.entry("openai/whisper-tiny")
    loader.entry("openai/whisper-base")
    loader.entry("openai/whisper-tiny")  # tiny is now the most recently used
    loader.entry("facebook/wav2vec2-base-960h")  # 151+290+378 > 700 → evict LRU: base
    assert loader.evictions == ["openai/whisper-base"]
    assert loader.is_loaded("openai/whisper-tiny") and not loader.is_loaded("openai/whisper-base")

    with loader.use("openai/whisper-tiny"):  # pinned: the older wav2vec2 goes instead? no: tiny is in use
        loader.entry("openai/whisper-base")  # needs 290: 151+378+290 > 700, tiny pinned → evict wav2vec2
        assert loader.evictions[-1] == "facebook/wav2vec2-base-960h"
        assert loader.is_loaded("openai/whisper-tiny")
    assert loader.used_mb() <= 700


def test_in_use_model_never_evicted_even_when_over_budget() -> None:
    loader, _ = make_loader(budget_mb=400)
    with loader.use("openai/whisper-base"):  # 290
        loader.entry("facebook/wav2vec2-base-960h")  # 378: over budget, base pinned → wav2vec2 stays loaded
        assert loader.is_loaded("openai/whisper-base")
    assert "openai/whisper-base" not in loader.evictions


def test_model_bigger_than_budget_is_refused() -> None:
    loader, engine = make_loader(budget_mb=200)
    with pytest.raises(ModelUnavailableError, match="memory budget"):
        loader.entry("openai/whisper-large-v3-turbo")
    assert engine.calls == []


def test_failed_load_is_not_cached_and_explained() -> None:
    loader, engine = make_loader()
    engine.fail_with = OSError("We couldn't connect to 'https://huggingface.co' to load the files")
    with pytest.raises(ModelUnavailableError, match="not downloaded and the Hugging Face hub is unreachable"):
        loader.entry("openai/whisper-tiny")
    assert not loader.is_loaded("openai/whisper-tiny")
    engine.fail_with = None
    loader.entry("openai/whisper-tiny")
    assert engine.calls == ["openai/whisper-tiny", "openai/whisper-tiny"]


def test_unknown_model_is_a_user_error() -> None:
    loader, engine = make_loader()
    with pytest.raises(ModelUnavailableError, match="unknown model"):
        loader.entry("https://evil.example/model")
    assert engine.calls == []


def test_unload_all_keeps_models_in_use_and_status_reports() -> None:
    loader, _ = make_loader()
    loader.entry("openai/whisper-tiny")
    with loader.use("openai/whisper-base"):
        status = {row["id"]: row for row in loader.status()}
        assert status["openai/whisper-base"]["in_use"] == 1
        assert set(status["openai/whisper-tiny"]) >= {"device", "dtype", "memory_mb", "load_s"}
        assert loader.unload_all() == 1
        assert loader.is_loaded("openai/whisper-base")
    assert loader.unload_all() == 1 and loader.status() == []


@pytest.mark.parametrize(("exc", "expected"), [
    (MemoryError(), "Out of memory"),
    (OSError("You are trying to access a gated repo. 401 Client Error"), "gated model"),
    (OSError("Cannot find the requested files in the disk cache and outgoing traffic has been disabled"),
     "not downloaded"),
    (ValueError("weird"), "Could not load"),
])
def test_explain_load_error(exc: Exception, expected: str) -> None:
    assert expected in explain_load_error(get_spec("openai/whisper-tiny"), exc)


def test_token_never_in_message() -> None:
    secret = "hf_SECRETSECRETSECRET"
    message = explain_load_error(get_spec("pyannote/speaker-diarization-3.1"),
                                 OSError(f"401 Client Error for token {secret}"))
    assert secret not in message and "gated" in message


def test_placement_choice_and_overrides() -> None:
    assert choose_placement("cpu", "auto") == Placement("cpu", "float32")
    assert choose_placement("cpu", "bfloat16").dtype == "bfloat16"
    auto = choose_placement()
    assert auto.device in ("cuda", "mps", "cpu")
    assert (auto.dtype == "float32") == (auto.device == "cpu")
    with pytest.raises(ValueError):
        choose_placement("tpu")


def test_real_transformers_engine_offline_with_empty_cache(tmp_path: Path) -> None:
    """The real loading code, with nothing cached and the hub unreachable, says exactly that."""
    code = ("from shared.models.loader import get_loader\n"
            "from shared.errors import ModelUnavailableError\n"
            "try:\n    get_loader().entry('openai/whisper-tiny')\n"
            "except ModelUnavailableError as exc:\n    print('MESSAGE:', exc)\n")
    env = {**os.environ, "HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent, env=env,
                            capture_output=True, text=True, timeout=120)
    assert "MESSAGE: Model openai/whisper-tiny is not downloaded and the Hugging Face hub is unreachable" \
        in result.stdout, result.stdout + result.stderr


def test_half_precision_placements_budget_half_the_fp32_size() -> None:
    """A 6.2 GB (fp32) model fits a 4 GB budget on a bf16 GPU, not on an fp32 CPU (refused before any loading)."""
    from shared.models.registry import get_spec

    spec = get_spec("sesame/csm-1b")
    assert spec.memory_mb("bfloat16") == spec.memory_mb("float16") == spec.size_mb / 2 < 4000
    assert spec.memory_mb("float32") == spec.size_mb > 4000
    with pytest.raises(ModelUnavailableError, match="in float32, more than the memory budget"):
        ModelLoader(budget_mb=4000, placement=CPU).entry("sesame/csm-1b")
