"""Audio intake: every format people upload, every kind of bad input → the right message."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from shared.audio.intake import AudioInputError, is_silent, load_audio, scale_pcm, sniff_format
from tests.audio_corpus import dominant_frequency, ffmpeg_encode, ffmpeg_generate, raw_wav, sine, write_wav


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wav(tmp_path_factory.mktemp("tone") / "tone.wav", sine(440, 2.0, 44_100), 44_100)


# ---- formats -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("suffix", "args"), [
    ("flac", []), ("ogg", ["-c:a", "libvorbis"]), ("mp3", ["-b:a", "64k"]), ("webm", ["-c:a", "libopus"]),
    ("m4a", ["-c:a", "aac"]), ("mp4", ["-c:a", "aac"]), ("opus", []), ("aiff", []),
])
def test_browser_and_common_formats_decode(tmp_path: Path, tone_wav: Path, suffix: str, args: list[str]) -> None:
    encoded = ffmpeg_encode(tone_wav, tmp_path / f"tone.{suffix}", *args)
    clip = load_audio(encoded, 16_000)
    assert clip.sample_rate == 16_000
    assert abs(clip.duration_s - 2.0) < 0.1
    assert abs(dominant_frequency(clip.samples, 16_000) - 440) < 5


@pytest.mark.parametrize("rate", [8_000, 11_025, 44_100, 48_000, 96_000, 192_000])
def test_resampling_keeps_pitch_and_length(tmp_path: Path, rate: int) -> None:
    path = write_wav(tmp_path / "s.wav", sine(1000, 1.5, rate), rate)
    clip = load_audio(path, 16_000)
    assert clip.source_sample_rate == rate and clip.sample_rate == 16_000
    assert abs(len(clip.samples) - 24_000) <= 2
    assert abs(dominant_frequency(clip.samples, 16_000) - 1000) < 3
    assert 0.45 < np.max(np.abs(clip.samples[100:-100])) < 0.55  # no gain change from the resampler


def test_native_rate_when_no_target(tone_wav: Path) -> None:
    clip = load_audio(tone_wav)
    assert clip.sample_rate == 44_100 and clip.source_format == "wav" and clip.name == "tone.wav"


@pytest.mark.parametrize(("subtype", "tolerance"), [("PCM_U8", 1 / 64), ("PCM_16", 1e-4), ("PCM_24", 1e-6),
                                                    ("PCM_32", 1e-6), ("FLOAT", 1e-7)])
def test_integer_pcm_scaled_by_its_range(tmp_path: Path, subtype: str, tolerance: float) -> None:
    samples = sine(300, 0.5, 16_000, amplitude=0.8)
    path = write_wav(tmp_path / "pcm.wav", samples, 16_000, subtype)
    clip = load_audio(path, 16_000)
    assert np.max(np.abs(clip.samples - samples)) < tolerance + 1e-3


def test_scale_pcm_arrays() -> None:
    assert scale_pcm(np.array([-32768, 0, 16384], np.int16)).tolist() == [-1.0, 0.0, 0.5]
    assert scale_pcm(np.array([0, 128, 255], np.uint8))[1] == 0.0
    assert scale_pcm(np.array([-(2**31)], np.int32))[0] == -1.0


def test_stereo_downmixed_to_mean(tmp_path: Path) -> None:
    left, right = sine(440, 1.0, 16_000, 0.4), sine(440, 1.0, 16_000, 0.2)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 16_000, subtype="FLOAT")
    clip = load_audio(path)
    assert clip.source_channels == 2
    np.testing.assert_allclose(clip.samples, (left + right) / 2, atol=1e-6)


@pytest.mark.parametrize("channels", [6, 64])
def test_many_channels(tmp_path: Path, channels: int) -> None:
    data = np.tile(sine(440, 3.0, 16_000, 0.3)[:, None], (1, channels))
    path = tmp_path / "multi.wav"
    sf.write(path, data, 16_000, subtype="PCM_16")
    clip = load_audio(path)
    assert clip.source_channels == channels
    assert abs(np.max(np.abs(clip.samples)) - 0.3) < 1e-3


def test_too_many_channels(tmp_path: Path) -> None:
    path = raw_wav(tmp_path / "c.wav", 16_000, channels=65, data=b"\x00" * 65 * 2 * 10)
    with pytest.raises(AudioInputError, match="65 channels"):
        load_audio(path)


def test_gradio_numpy_tuple_input() -> None:
    rate, data = 48_000, (sine(440, 1.0, 48_000) * 32767).astype(np.int16)
    clip = load_audio((rate, np.stack([data, data], axis=1)), 16_000)
    assert clip.source_channels == 2 and len(clip.samples) == 16_000


# ---- bad inputs --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [None, ""])
def test_nothing_given(value: object) -> None:
    with pytest.raises(AudioInputError, match="No audio was given"):
        load_audio(value)  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="missing"):
        load_audio(tmp_path / "gone.wav")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioInputError, match="empty"):
        load_audio(path)


def test_header_only_wav(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match=r"no samples|corrupt"):
        load_audio(raw_wav(tmp_path / "h.wav", 16_000, data=b""))


def test_random_bytes_named_wav(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).bytes(20_000))
    with pytest.raises(AudioInputError, match="could not be decoded"):
        load_audio(path)


def test_truncated_file_decodes_what_is_there_or_says_so(tmp_path: Path, tone_wav: Path) -> None:
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(tone_wav.read_bytes()[:30_000])
    clip = load_audio(truncated)
    assert 0 < clip.duration_s < 0.4
    flac = ffmpeg_encode(tone_wav, tmp_path / "t.flac")
    cut_flac = tmp_path / "cut.flac"
    cut_flac.write_bytes(flac.read_bytes()[:200])
    with pytest.raises(AudioInputError):
        load_audio(cut_flac)


def test_mp3_named_wav_still_decodes(tmp_path: Path, tone_wav: Path) -> None:
    mp3 = ffmpeg_encode(tone_wav, tmp_path / "t.mp3")
    renamed = tmp_path / "really_mp3.wav"
    renamed.write_bytes(mp3.read_bytes())
    assert abs(load_audio(renamed, 16_000).duration_s - 2.0) < 0.1


@pytest.mark.parametrize("content", [b"<!DOCTYPE html><html><script>alert(1)</script></html>",
                                     b"just some notes\nnot audio at all\n", b"{\"json\": true}"])
def test_text_and_html_renamed_to_wav(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "page.wav"
    path.write_bytes(content)
    with pytest.raises(AudioInputError, match="text or HTML document"):
        load_audio(path)


@pytest.mark.parametrize("rate", [0, 1, 500_000])
def test_absurd_sample_rates_rejected(tmp_path: Path, rate: int) -> None:
    with pytest.raises(AudioInputError, match="sample rate"):
        load_audio(raw_wav(tmp_path / "r.wav", rate))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_rejected(tmp_path: Path, bad: float) -> None:
    samples = sine()
    samples[100] = bad
    path = write_wav(tmp_path / "nan.wav", samples, 16_000, "FLOAT")
    with pytest.raises(AudioInputError, match="NaN or infinite"):
        load_audio(path)


def test_too_long_rejected_from_header_fast(tmp_path: Path) -> None:
    big = write_wav(tmp_path / "real_long.wav", np.zeros(16_000 * 120, np.float32), 16_000)
    start = time.perf_counter()
    with pytest.raises(AudioInputError, match="2:00 long; the limit is 1:00"):
        load_audio(big, max_duration_s=60)
    assert time.perf_counter() - start < 0.5


def test_header_overstating_length_is_not_trusted(tmp_path: Path) -> None:
    """A header claiming 2 h in a 1 s file is read as what the file holds, not refused for the claim."""
    path = raw_wav(tmp_path / "liar.wav", 16_000, data=b"\x00\x01" * 16_000)
    data = bytearray(path.read_bytes())
    data[40:44] = (2 * 3600 * 16_000 * 2).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    assert abs(load_audio(path, max_duration_s=60).duration_s - 1.0) < 0.01


def test_compression_bomb_rejected_before_decoding(tmp_path: Path) -> None:
    """Two hours of silence in a FLAC of a few hundred KB: refused from the header, memory untouched."""
    import resource

    bomb = ffmpeg_generate(tmp_path / "bomb.flac", "anullsrc=r=8000:cl=mono", 7200, "-c:a", "flac")
    assert bomb.stat().st_size < 2_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(AudioInputError, match="2:00:00 long; the limit is 1:00:00"):
        load_audio(bomb, max_duration_s=3600)
    assert time.perf_counter() - start < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KB


def test_bomb_without_duration_header_stops_at_the_limit(tmp_path: Path) -> None:
    """A stream with no duration in its header (webm from a pipe) is decoded only up to the limit."""
    bomb = tmp_path / "bomb.webm"
    import subprocess

    subprocess.run(f"ffmpeg -nostdin -loglevel error -f lavfi -t 600 -i anullsrc=r=16000:cl=mono -c:a libopus "
                   f"-f webm - > {bomb}", shell=True, check=True, timeout=300)
    with pytest.raises(AudioInputError, match="longer than the limit"):
        load_audio(bomb, max_duration_s=60)


def test_file_too_big(tmp_path: Path, tone_wav: Path) -> None:
    with pytest.raises(AudioInputError, match=r"the limit is 0 MB|limit is"):
        load_audio(tone_wav, max_bytes=1000)


@pytest.mark.parametrize("seconds", [0.01, 0.4, 5.0])
def test_short_and_medium_clips(tmp_path: Path, seconds: float) -> None:
    clip = load_audio(write_wav(tmp_path / "s.wav", sine(440, seconds), 16_000), 16_000)
    assert abs(clip.duration_s - seconds) < 0.002


def test_silence_detection() -> None:
    assert is_silent(np.zeros(16_000, np.float32))
    assert is_silent(np.full(16_000, 1e-4, np.float32))
    assert not is_silent(sine())


def test_sniff_format() -> None:
    assert sniff_format(b"RIFF\x00\x00\x00\x00WAVE") == "wav"
    assert sniff_format(b"fLaC") == "flac"
    assert sniff_format(b"\x00\x00\x00\x20ftypM4A ") == "mp4"
    assert sniff_format(b"<html>") == "text"
    assert sniff_format(bytes(range(256))) is None
