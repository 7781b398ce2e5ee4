"""The one line every result shows: device, dtype, compute time, real-time factor, model load."""

from __future__ import annotations


def timing_line(device: str, dtype: str, compute_s: float, audio_s: float, load_s: float) -> str:
    """`audio_s` is the audio processed (input for recognition/classification, output for synthesis)."""
    rtf = compute_s / audio_s if audio_s else 0.0
    loaded = f" · model load {load_s:.2f} s" if load_s >= 0.01 else " · model from cache"
    return (f"`{device}` · `{dtype}` · compute {compute_s:.2f} s for {audio_s:.1f} s of audio · "
            f"real-time factor {rtf:.3f}{loaded}")
