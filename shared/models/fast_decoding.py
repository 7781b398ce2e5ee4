"""Faster Whisper decoding for the transformers engine on a GPU, set up once when a Whisper pipeline loads.

Batch-1 decoding of these models is bound by kernel launches, not memory (bench/results/bench_gpu.txt: 1-3 % of
the bandwidth bound). Two remedies, each behind its own switch (shared/config.py, README "Configuration"):

- compile: a static KV cache, with which transformers' `generate()` runs the one-token decoder steps through
  `torch.compile(mode="reduce-overhead")` (CUDA graphs; the prompt step stays eager). The steps are compiled at
  load time by a warm-up on silence, for the one shape this serves: batch 1, greedy (a clip of up to 30 s). Other
  requests (beam search, word timestamps, long-form batches) keep the dynamic cache and run eagerly, and the
  process-wide compiler stance is "eager_on_recompile" after a warm-up, so a step that would need a new graph
  (another shape, a hook that a capture adds) runs eagerly instead: nothing is compiled while a request waits.
- assistant: speculative decoding with a distilled decoder (`ASSISTANTS`: Distil-Whisper large-v3.5 for
  large-v3 / large-v3-turbo), loaded decoder-only (`WhisperForCausalLM`) so that it reads the main model's encoder
  output. Greedy decoding checks every drafted token with the main model, so the text is the main model's own
  (transformers lifts the begin-of-text suppression of a space / end-of-text while an assistant drafts). Assisted
  generation runs one sequence at a time: the assistant serves greedy, batch-1 requests without word timestamps,
  and not runs whose tokens a logits processor records (the Transcribe tab's own runs, for "Inside the model").

`auto` (the default of both switches) turns them on on CUDA and off elsewhere: on CPU transformers does not
compile and the assistant's extra passes would not pay, and on ZeroGPU a request may land on a fresh GPU, so the
compile time would never be amortised. Not measured on a GPU yet: bench/bench_gpu_decoding.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared import config
from shared.models.device import Placement

# main model → its distilled assistant (same tokenizer and 128-bin encoder input)
ASSISTANTS: dict[str, str] = {
    "openai/whisper-large-v3": "distil-whisper/distil-large-v3.5",
    "openai/whisper-large-v3-turbo": "distil-whisper/distil-large-v3.5",
}
SWITCHES = ("auto", "on", "off")


def enabled(switch: str, device: str) -> bool:
    """Whether a switch ("auto", "on", "off") is on for a model placed on `device`: auto = CUDA, not ZeroGPU."""
    if switch not in SWITCHES:
        raise ValueError(f"a decoding switch is one of {SWITCHES}, not {switch!r}")
    if switch == "auto":
        return device == "cuda" and not config.on_zero_gpu()
    return switch == "on"


@dataclass
class FastDecoding:
    """What `prepare` set up for one loaded Whisper model; `generate_kwargs` picks the path per request."""

    static_cache: bool = False  # compiled one-token steps with a static KV cache, warmed up at load
    assistant: Any = None
    assistant_id: str = ""
    compile_s: float = 0.0  # seconds the warm-up took (compilation included)

    def generate_kwargs(self, *, batch_size: int, num_beams: int, word_timestamps: bool,
                        recording: bool = False) -> dict[str, Any]:
        """Extra `generate()` arguments for a request: the assistant (not while a logits processor records every
        step: it would also see the drafted tokens that are then dropped), else the static cache; each only for a
        greedy batch-1 request without word timestamps. Nothing otherwise."""
        if num_beams != 1 or word_timestamps or batch_size != 1:
            return {}
        if self.assistant is not None and not recording:
            return {"assistant_model": self.assistant}
        return {"cache_implementation": "static"} if self.static_cache else {}


def prepare(pipe: Any, model_id: str, placement: Placement, *, compile_fn: Callable[[Any], float] | None = None,
            load_assistant: Callable[[str, Placement], Any] | None = None) -> FastDecoding | None:
    """At load time, for a transformers Whisper pipeline: compile the decoder steps and/or attach the assistant
    as the settings and the device allow (`enabled`). Returns what was set up (also kept as
    `pipe.model.fast_decoding`), or None when both are off. `compile_fn` (the warm-up, returning seconds) and
    `load_assistant` replace `compile_steps` and `load_decoder_only` (tests)."""
    settings = config.current()
    use_compile = enabled(settings.whisper_compile, placement.device)
    assistant_id = ASSISTANTS.get(model_id, "") if enabled(settings.whisper_assistant, placement.device) else ""
    if not use_compile and not assistant_id:
        return None
    fast = FastDecoding()
    if assistant_id:
        fast.assistant, fast.assistant_id = (load_assistant or load_decoder_only)(assistant_id, placement), assistant_id
    if use_compile:
        fast.static_cache, fast.compile_s = True, (compile_fn or compile_steps)(pipe)
    pipe.model.fast_decoding = fast
    return fast


def load_decoder_only(model_id: str, placement: Placement) -> Any:
    """A Whisper checkpoint's decoder alone (`WhisperForCausalLM`), in the main model's dtype, on its device."""
    from transformers import WhisperForCausalLM

    model = WhisperForCausalLM.from_pretrained(model_id, dtype=placement.torch_dtype, use_safetensors=True,
                                               trust_remote_code=False)
    return model.to(placement.device).eval()


def compile_steps(pipe: Any) -> float:
    """Warm the model's static-cache decoding up at load (on CUDA transformers compiles the steps then), and make
    any later recompilation run eagerly instead. Returns the seconds it took."""
    import time

    import numpy as np
    import torch
    from transformers import CompileConfig

    model = pipe.model
    model.generation_config.compile_config = CompileConfig(mode="reduce-overhead", fullgraph=False)
    features = pipe.feature_extractor(np.zeros(16_000, np.float32), sampling_rate=16_000,
                                      return_tensors="pt").input_features.to(model.device, model.dtype)
    start = time.perf_counter()
    with torch.compiler.set_stance("default"), torch.inference_mode():
        for _ in range(2):  # CUDA graphs are recorded on the second run of a compiled step
            model.generate(features, num_beams=1, cache_implementation="static")
    torch.compiler.set_stance("eager_on_recompile")
    return time.perf_counter() - start


def decoding_kwargs(model: Any, *, batch_size: int, num_beams: int, word_timestamps: bool,
                    recording: bool = False) -> dict[str, Any]:
    """The request's extra generate() arguments from what `prepare` set up on this model ({} when nothing):
    `batch_size` windows per generate() call, `recording` = a logits processor records every step."""
    fast = getattr(model, "fast_decoding", None)
    if fast is None:
        return {}
    return fast.generate_kwargs(batch_size=batch_size, num_beams=num_beams, word_timestamps=word_timestamps,
                                recording=recording)
