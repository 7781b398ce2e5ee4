"""Codec language models (the Vall-E idea): a decoder writes audio-codec tokens after the text, and when it first
reads a recording's tokens and that recording's transcript, it continues in that voice. Two, natively in
transformers:

- CSM (`sesame/csm-1b`): a Llama backbone writes the first of 32 Mimi codebooks per 80 ms frame, a small depth
  decoder the other 31; the reference goes in as a context turn "[0]transcript" + its Mimi codes.
- Dia (`nari-labs/Dia-1.6B-0626`): an encoder reads the text bytes, a decoder writes 9 DAC codebooks per 11.6 ms
  frame with a delay pattern (codebook k lags k frames behind, 8–15); the reference's DAC codes are the decoder's
  first frames and its transcript comes first in the text.

`load_codec_lm` is the loader's engine ("codec-lm"); `speak` runs one generation and records the token grids and
stage times (shared.tts.capture.CodecLmTrace) from that same run."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.models.device import Placement
from shared.models.registry import ModelSpec
from shared.progress import Stopwatch
from shared.tts.capture import CodecLmPart, CodecLmTrace, record_codec_encode
from shared.tts.text import SPEAKING_RATE_CPS

MAX_PART_S = 20.0  # longest audio one generation may write (s): caps the tokens of a model that never stops
SLACK = 1.6  # a part may run this many times the text's estimated speaking time, + LEAD_S
LEAD_S = 1.0  # seconds
DIA_SPECIAL_FROM = 1024  # DAC codes are 0..1023; 1024 eos, 1025 pad, 1026 bos
STAGES = ("encode the reference", "generate tokens", "decode to audio")
REPORT_EVERY = 8  # generation steps between two progress reports (each report may also stop a cancelled job)

FrameReport = Callable[[int, int], None]  # (frames written so far, at most this many): raises to stop generating


def _no_report(done: int, total: int) -> None:
    return None


@dataclass
class CodecLm:
    """A loaded codec LM: the transformers model, its processor and the codec that turns tokens into a waveform
    (`vocoder`: Mimi inside CSM, the DAC Dia's processor holds) at `sample_rate` Hz, `frame_rate` frames/s."""

    family: str  # "csm" or "dia"
    model: Any
    processor: Any
    vocoder: Any
    sample_rate: int
    frame_rate: float


def load_codec_lm(spec: ModelSpec, placement: Placement, options: dict) -> CodecLm:
    """CsmForConditionalGeneration or DiaForConditionalGeneration (safetensors, no remote code) on the placement's
    device and dtype, with its processor; Dia's DAC stays float32 (its processor feeds it float32 audio)."""
    from transformers import AutoProcessor, CsmForConditionalGeneration, DiaForConditionalGeneration

    model_class = CsmForConditionalGeneration if spec.family == "csm" else DiaForConditionalGeneration
    model = model_class.from_pretrained(spec.id, dtype=placement.torch_dtype, use_safetensors=True,
                                        trust_remote_code=False).to(placement.device).eval()
    processor = AutoProcessor.from_pretrained(spec.id, trust_remote_code=False)
    if spec.family == "csm":
        codec = model.codec_model
        frame_rate = float(codec.config.frame_rate)
    else:
        codec = processor.audio_tokenizer.to(placement.device).eval()
        frame_rate = codec.config.sampling_rate / math.prod(codec.config.downsampling_ratios)
    return CodecLm(spec.family, model, processor, codec, int(codec.config.sampling_rate), frame_rate)


def new_trace(lm: CodecLm, prompt_text: str) -> CodecLmTrace:
    """An empty recording for one synthesis with this model."""
    codec = "Mimi" if lm.family == "csm" else "DAC"
    return CodecLmTrace(lm.family, codec, int(lm.vocoder.config.codebook_size), lm.frame_rate, prompt_text)


def max_frames(lm: CodecLm, text: str) -> int:
    """Codec frames one generation may write for `text`: SLACK × its estimated speaking time + LEAD_S, at most
    MAX_PART_S seconds."""
    seconds = min(MAX_PART_S, len(text) / SPEAKING_RATE_CPS * SLACK + LEAD_S)
    return max(1, math.ceil(seconds * lm.frame_rate))


def speak(lm: CodecLm, text: str, reference: np.ndarray | None, reference_text: str, trace: CodecLmTrace,
          report: FrameReport = _no_report) -> np.ndarray:
    """One generation: `text` spoken after the reference (float32 mono at lm.sample_rate Hz, or None for the
    model's own voice) and its transcript. `report(frames, most)` is called every REPORT_EVERY frames (an exception
    it raises, e.g. a cancel, stops the generation). Returns float32 audio at lm.sample_rate Hz; adds a part to
    `trace`."""
    import torch

    with torch.inference_mode():
        if lm.family == "csm":
            return _csm(lm, text, reference, reference_text, trace, report)
        return _dia(lm, text, reference, reference_text, trace, report)


@functools.cache
def _frame_counter() -> type:
    """A transformers streamer that counts the frames `generate` writes and reports every REPORT_EVERY of them
    (built on first use: importing transformers is slow). Streamers, not stopping criteria: CSM's generate drops
    every criterion but its length limit, while both models hand a streamer the prompt once, then each new frame."""
    from transformers.generation.streamers import BaseStreamer

    class FrameCounter(BaseStreamer):
        def __init__(self, report: FrameReport, total: int) -> None:
            self.report, self.total, self.puts = report, total, 0

        def put(self, value: Any) -> None:
            self.puts += 1  # the first is the prompt
            frames = self.puts - 1
            if frames and frames % REPORT_EVERY == 0:
                self.report(frames, self.total)

        def end(self) -> None:
            return None

    return FrameCounter


def _counting(report: FrameReport, total: int) -> Any:
    return _frame_counter()(report, total)


def _to_model(inputs: Any, model: Any) -> Any:
    """The processor's tensors on the model's device, floats in its dtype (bf16 audio for a bf16 CSM)."""
    return {name: value.to(model.device, dtype=model.dtype) if value.is_floating_point() else value.to(model.device)
            for name, value in inputs.items()}


def _csm_prompt(lm: CodecLm, text: str, with_reference: bool, reference_text: str) -> str:
    """CSM's conversation as its chat template writes it: the reference turn (text, then its audio) and the new
    turn, both by speaker 0."""
    tokenizer, processor = lm.processor.tokenizer, lm.processor
    turn = f"{tokenizer.bos_token}[0]{{}}{tokenizer.eos_token}"
    context = turn.format(reference_text) + processor.audio_token + processor.audio_eos_token if with_reference \
        else ""
    return context + turn.format(text)


def _csm(lm: CodecLm, text: str, reference: np.ndarray | None, reference_text: str, trace: CodecLmTrace,
         report: FrameReport) -> np.ndarray:
    model = lm.model
    prompt = _csm_prompt(lm, text, reference is not None, reference_text)
    inputs = lm.processor(prompt, audio=[reference] if reference is not None else None)
    most = max_frames(lm, text)
    with record_codec_encode(lm.vocoder) as encoded, Stopwatch() as generation:
        codes = model.generate(**_to_model(inputs, model), max_new_tokens=most, do_sample=True,
                               depth_decoder_do_sample=True,
                               streamer=_counting(report, most))[0]  # (frames, codebooks)
    encode_s = sum(seconds for _, seconds in encoded)
    trace.add_time(STAGES[0], encode_s)
    trace.add_time(STAGES[1], generation.seconds - encode_s)
    ended = (codes == model.config.codebook_eos_token_id).all(dim=-1).nonzero()
    codes = codes[:int(ended.min())] if ended.numel() else codes
    prompt_codes = encoded[0][0] if encoded else np.zeros((codes.shape[-1], 0), np.int64)
    trace.parts.append(CodecLmPart(prompt_codes, codes.T.cpu().numpy()))
    if not len(codes):
        return np.zeros(0, np.float32)
    with Stopwatch() as decoding:
        audio = lm.vocoder.decode(codes.T[None]).audio_values[0, 0]
    trace.add_time(STAGES[2], decoding.seconds)
    return audio.float().cpu().numpy()


def _dia(lm: CodecLm, text: str, reference: np.ndarray | None, reference_text: str, trace: CodecLmTrace,
         report: FrameReport) -> np.ndarray:
    model, processor = lm.model, lm.processor
    script = f"[S1] {reference_text} [S1] {text}" if reference is not None else f"[S1] {text}"
    with Stopwatch() as encoding:
        inputs = processor(text=[script], audio=[reference] if reference is not None else None, padding=True,
                           return_tensors="pt")
    trace.add_time(STAGES[0], encoding.seconds if reference is not None else 0.0)
    prompt_frames = processor.get_audio_prompt_len(inputs["decoder_attention_mask"]) if reference is not None \
        else None
    delays = list(model.config.delay_pattern)
    most = max_frames(lm, text) + max(delays)
    with Stopwatch() as generation:
        output = model.generate(**_to_model(inputs, model), max_new_tokens=most,
                                streamer=_counting(report, most))
    trace.add_time(STAGES[1], generation.seconds)
    with Stopwatch() as decoding:
        audio = processor.batch_decode(output, audio_prompt_len=prompt_frames)[0]
    trace.add_time(STAGES[2], decoding.seconds)
    trace.parts.append(_dia_part(output[0].cpu().numpy(), delays, prompt_frames or 1))
    return audio.float().cpu().numpy().reshape(-1)


def _dia_part(sequence: np.ndarray, delays: list[int], prompt_end: int) -> CodecLmPart:
    """The decoder's sequence (frames × 9, delayed, with bos/pad/eos ids) as codebooks × frames with the delay
    undone (codebook k's frame t was written at step t + delay[k]) and the special ids dropped from the ends:
    the reference's frames (after the first bos row, up to `prompt_end`) and the generated ones after them."""
    frames = len(sequence) - max(delays)
    grid = np.stack([sequence[delay:delay + frames, channel] for channel, delay in enumerate(delays)])
    generated = grid[:, prompt_end:]
    audio_columns = np.flatnonzero((generated < DIA_SPECIAL_FROM).all(axis=0))
    generated = generated[:, :audio_columns[-1] + 1] if audio_columns.size else generated[:, :0]
    return CodecLmPart(grid[:, 1:prompt_end], generated)
