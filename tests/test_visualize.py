"""DSP against reference implementations, and the Visualize pure function."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from shared.audio.dsp import audio_summary, mel_power, power_to_db, stft_power, whisper_log_mel
from shared.audio.intake import AudioClip, load_audio
from shared.audio.plots import pool_columns, waveform_envelope
from shared.errors import UserError
from shared.serving.widgets import EXAMPLES_DIR
from shared.visualize.run import SpectrogramParams
from shared.visualize.views import visualize_clip
from tests.audio_corpus import sine


def clip_of(samples: np.ndarray, rate: int = 16_000) -> AudioClip:
    return AudioClip(samples.astype(np.float32), rate, rate, 1, "wav", "test.wav")


@pytest.mark.parametrize(("n_fft", "hop", "window"), [(512, 128, "hann"), (2048, 512, "hamming"),
                                                       (256, 256, "rectangular")])
def test_stft_matches_librosa(n_fft: int, hop: int, window: str) -> None:
    import librosa

    samples = np.random.default_rng(0).standard_normal(16_000).astype(np.float32)
    ours = stft_power(samples, 16_000, n_fft, hop, window, chunk_frames=7).power
    lib_window = "boxcar" if window == "rectangular" else window
    ref = np.abs(librosa.stft(samples, n_fft=n_fft, hop_length=hop, window=lib_window, pad_mode="reflect")) ** 2
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-3, atol=1e-3 * ref.max())


def test_mel_matches_librosa() -> None:
    import librosa

    samples = sine(440, 1.0) + 0.01 * np.random.default_rng(1).standard_normal(16_000).astype(np.float32)
    spec = stft_power(samples, 16_000, 1024, 256)
    ref = librosa.feature.melspectrogram(y=samples, sr=16_000, n_fft=1024, hop_length=256, n_mels=64,
                                         pad_mode="reflect", fmin=50, fmax=7000)
    np.testing.assert_allclose(mel_power(spec, 64, 50, 7000), ref, rtol=1e-3, atol=1e-4 * ref.max())


def test_whisper_log_mel_matches_transformers_feature_extractor() -> None:
    from transformers import WhisperFeatureExtractor

    samples = np.random.default_rng(2).standard_normal(16_000 * 7).astype(np.float32) * 0.1
    for n_mels in (80, 128):
        ref = WhisperFeatureExtractor(feature_size=n_mels)(samples, sampling_rate=16_000,
                                                           return_tensors="np").input_features[0]
        ours = whisper_log_mel(samples, n_mels)
        assert ours.shape == ref.shape == (n_mels, 3000)
        np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_power_to_db_floor_and_reference() -> None:
    db = power_to_db(np.array([[1.0, 0.1, 1e-12]]), top_db=80)
    np.testing.assert_allclose(db, [[0.0, -10.0, -80.0]], atol=1e-5)


def test_summary_on_known_signals() -> None:
    summary = audio_summary(sine(440, 2.0, amplitude=1.0), 16_000)
    assert summary["peak_dbfs"] == pytest.approx(0.0, abs=0.01)
    assert summary["rms_dbfs"] == pytest.approx(-3.01, abs=0.02)
    assert summary["silence_ratio"] == 0.0
    half_silent = np.concatenate([sine(440, 1.0), np.zeros(16_000, np.float32)])
    assert audio_summary(half_silent, 16_000)["silence_ratio"] == pytest.approx(0.5, abs=0.03)


def test_envelope_and_pooling_keep_extremes() -> None:
    samples = np.zeros(1_000_000, np.float32)
    samples[123_456] = 0.9
    samples[654_321] = -0.7
    low, high = waveform_envelope(samples, 1000)
    assert high.max() == pytest.approx(0.9) and low.min() == pytest.approx(-0.7)
    matrix = np.zeros((4, 10_000), np.float32)
    matrix[2, 5_555] = 3.0
    assert pool_columns(matrix, 100).shape == (4, 100) and pool_columns(matrix, 100).max() == 3.0


def test_visualize_example_files() -> None:
    for path in sorted(EXAMPLES_DIR.glob("*.*")):
        if path.suffix in (".wav", ".flac", ".ogg"):
            view = visualize_clip(load_audio(path))
            for image in (view.waveform, view.spectrogram, view.mel, view.log_mel_db, view.whisper_input):
                assert image.ndim == 3 and image.shape[2] == 3 and image.shape[1] >= 600
                assert image.std() > 5  # something was drawn
            assert view.summary["duration_s"] > 1 and view.summary["sample_rate"] in (8_000, 16_000, 22_050, 44_100)


def test_visualize_long_and_tiny_clips() -> None:
    long_view = visualize_clip(clip_of(np.random.default_rng(0).standard_normal(16_000 * 300) * 0.1))
    assert long_view.summary["duration_s"] == 300
    tiny_view = visualize_clip(clip_of(sine(440, 0.01)))
    assert tiny_view.spectrogram.shape[0] > 100


def test_visualize_high_rate_capped() -> None:
    view = visualize_clip(AudioClip(sine(30_000, 0.5, 192_000), 192_000, 192_000, 1, "wav", "bat.wav"))
    assert view.summary["sample_rate"] == 192_000


@pytest.mark.parametrize(("params", "message"), [
    (SpectrogramParams(n_fft=1000), "n_fft"), (SpectrogramParams(hop_length=4096, n_fft=1024), "hop length"),
    (SpectrogramParams(window="kaiser"), "window"), (SpectrogramParams(n_mels=1000), "n_mels"),
    (SpectrogramParams(fmin=9000, fmax=8000), "fmin"), (SpectrogramParams(top_db=1), "top_db"),
])
def test_parameter_errors(params: SpectrogramParams, message: str) -> None:
    with pytest.raises(UserError, match=message):
        visualize_clip(clip_of(sine()), params)


def test_fmax_above_nyquist_is_clamped() -> None:
    assert SpectrogramParams(fmax=50_000).validated(16_000).fmax == 8_000


def test_concurrent_renders_are_independent() -> None:
    clips = [clip_of(sine(f, 1.0)) for f in (300, 600, 1200, 2400)]
    results: dict[int, np.ndarray] = {}

    def render(index: int) -> None:
        results[index] = visualize_clip(clips[index]).spectrogram

    threads = [threading.Thread(target=render, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    serial = [visualize_clip(clip).spectrogram for clip in clips]
    for index in range(4):
        np.testing.assert_array_equal(results[index], serial[index])
