"""Live microphone transcription, without Gradio: each streamed chunk is resampled to 16 kHz and appended to a
rolling buffer of at most LIVE_LIMIT_S seconds, and the whole buffer is transcribed again, so the text grows (and
corrects itself) as the person talks. The buffer travels as `(16_000, samples)`, the tab's session state."""

from __future__ import annotations

import numpy as np

from shared.audio.intake import load_audio, resample
from shared.transcribe.run import SAMPLE_RATE, TranscribeOptions, transcribe

LIVE_LIMIT_S = 60
LiveBuffer = tuple[int, np.ndarray]  # (16_000, mono float32 samples)


def append_chunk(chunk: tuple[int, np.ndarray], buffer: LiveBuffer | None) -> LiveBuffer:
    """The buffer with a microphone chunk (sample rate in Hz, PCM samples) appended, keeping the last
    LIVE_LIMIT_S seconds."""
    rate, data = chunk
    samples = resample(load_audio((rate, data)).samples, rate, SAMPLE_RATE)
    previous = buffer[1] if buffer is not None else np.zeros(0, np.float32)
    return SAMPLE_RATE, np.concatenate([previous, samples])[-LIVE_LIMIT_S * SAMPLE_RATE:]


def live_text(buffer: LiveBuffer, model_id: str) -> str:
    """The buffer's transcript; a failure becomes the text shown (the stream keeps going), silence "(listening…)"."""
    clip = load_audio(buffer, SAMPLE_RATE)
    try:
        text = transcribe(clip, model_id, TranscribeOptions(timestamps="none")).text
    except Exception as exc:
        text = f"(live transcription failed: {exc})"
    return text or "(listening…)"


def transcribe_live(chunk: tuple[int, np.ndarray], buffer: LiveBuffer | None, model_id: str) -> tuple[str, LiveBuffer]:
    """One streaming step: the new chunk appended, the whole buffer (≤ LIVE_LIMIT_S s) transcribed again."""
    combined = append_chunk(chunk, buffer)
    return live_text(combined, model_id), combined
