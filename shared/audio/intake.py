"""Audio intake: the one place that decodes and validates what the user gives.

`load_audio` takes an uploaded / recorded / example file path (or a Gradio `(rate, array)` tuple) and returns
mono float32 at the rate the consumer asks for, or raises `AudioInputError` naming the problem. Limits are
checked from the header before decoding wherever the format allows it, and many-channel files are downmixed
block by block so memory stays bounded.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.config import SETTINGS
from shared.errors import UserError

MIN_SAMPLE_RATE = 4_000
MAX_SAMPLE_RATE = 384_000
_BLOCK_FRAMES = 1 << 16

# leading bytes of the containers people upload; anything else is still tried with ffmpeg unless it is text
_MAGIC = (
    (b"RIFF", "wav"), (b"RF64", "wav"), (b"fLaC", "flac"), (b"OggS", "ogg"), (b"ID3", "mp3"),
    (b"\x1aE\xdf\xa3", "webm"), (b"FORM", "aiff"), (b"caff", "caf"), (b"#!AMR", "amr"),
)


class AudioInputError(UserError):
    """The audio the user gave cannot be used; the message says why."""


@dataclass(frozen=True)
class AudioClip:
    samples: np.ndarray  # float32, mono
    sample_rate: int
    source_sample_rate: int
    source_channels: int
    source_format: str
    name: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class AudioHeader:
    sample_rate: int
    channels: int
    duration_s: float | None  # None when the container does not say (e.g. some webm)
    format: str


def sniff_format(head: bytes) -> str | None:
    """Container name from the first bytes, 'text' for text/HTML, None when unknown."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return "mp4"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3" if (head[1] & 0x06) else "aac"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"<", b"{", b"[") or _looks_like_text(head):
        return "text"
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable / len(text) > 0.95


def _wav_header(path: Path) -> AudioHeader | None:
    """Parse a RIFF/WAVE fmt chunk ourselves, so absurd headers get a precise message (libsndfile just fails)."""
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            return None
        fmt = None
        data_bytes = None
        while True:
            chunk = handle.read(8)
            if len(chunk) < 8:
                break
            chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"fmt ":
                fmt = handle.read(min(size, 40))
                handle.seek(size - len(fmt) + (size & 1), os.SEEK_CUR)
            elif chunk_id == b"data":
                data_bytes = size
                break
            else:
                handle.seek(size + (size & 1), os.SEEK_CUR)
    if fmt is None or len(fmt) < 16:
        raise AudioInputError("This WAV file has no valid format header (it is corrupt or truncated).")
    _, channels, sample_rate, _, block_align, _ = struct.unpack("<HHIIHH", fmt[:16])
    file_data = max(0, path.stat().st_size - 44)
    if data_bytes is None or data_bytes in (0, 0xFFFFFFFF) or data_bytes > file_data + 1024:
        data_bytes = file_data  # streaming writers leave the size at 0 or -1; truncated files overstate it
    duration = data_bytes / block_align / sample_rate if block_align and sample_rate else None
    return AudioHeader(sample_rate, channels, duration, "wav")


def _check_header(header: AudioHeader, max_duration_s: float, max_channels: int) -> None:
    if not MIN_SAMPLE_RATE <= header.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioInputError(
            f"The file says its sample rate is {header.sample_rate:,} Hz; supported rates are "
            f"{MIN_SAMPLE_RATE:,}–{MAX_SAMPLE_RATE:,} Hz.")
    if header.channels < 1:
        raise AudioInputError("The file says it has no audio channels.")
    if header.channels > max_channels:
        raise AudioInputError(f"The file has {header.channels} channels; at most {max_channels} are supported.")
    if header.duration_s is not None and header.duration_s > max_duration_s:
        raise AudioInputError(f"The audio is {_fmt_duration(header.duration_s)} long; the limit is "
                              f"{_fmt_duration(max_duration_s)}. Trim it and try again.")


def _fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _decode_soundfile(path: Path, max_duration_s: float, max_channels: int) -> tuple[np.ndarray, AudioHeader] | None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError):
        return None
    header = AudioHeader(int(info.samplerate), int(info.channels), info.frames / info.samplerate
                         if info.samplerate else None, info.format.lower())
    _check_header(header, max_duration_s, max_channels)
    max_frames = int(max_duration_s * header.sample_rate) + 1
    blocks = []
    total = 0
    try:
        with sf.SoundFile(str(path)) as handle:
            for block in handle.blocks(blocksize=_BLOCK_FRAMES, dtype="float32", always_2d=True):
                blocks.append(block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0].copy())
                total += len(block)
                if total > max_frames:
                    raise AudioInputError(f"The audio is longer than the limit of {_fmt_duration(max_duration_s)}.")
    except (RuntimeError, sf.LibsndfileError) as exc:
        if not blocks:
            raise AudioInputError("The file could not be decoded: it is corrupt or truncated.") from exc
    samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    return samples, header


def _decode_ffmpeg(path: Path, max_duration_s: float, max_channels: int) -> tuple[np.ndarray, AudioHeader]:
    try:
        from torchcodec.decoders import AudioDecoder

        decoder = AudioDecoder(str(path), num_channels=1)
        metadata = decoder.metadata
    except Exception as exc:
        raise AudioInputError("The file could not be decoded as audio: it is not an audio file, or it is "
                              "corrupt.") from exc
    header = AudioHeader(int(metadata.sample_rate or 0), int(metadata.num_channels or 0),
                         metadata.duration_seconds_from_header, str(metadata.codec or "unknown"))
    _check_header(header, max_duration_s, max_channels)
    try:
        decoded = decoder.get_samples_played_in_range(0.0, max_duration_s + 1.0)
    except Exception as exc:
        raise AudioInputError("The file could not be decoded: it is corrupt or truncated.") from exc
    samples = decoded.data.numpy()[0].astype(np.float32, copy=False)
    if len(samples) > max_duration_s * header.sample_rate + 1:
        raise AudioInputError(f"The audio is longer than the limit of {_fmt_duration(max_duration_s)}.")
    return samples, header


def scale_pcm(array: np.ndarray) -> np.ndarray:
    """Integer PCM to float32 in [-1, 1] by its dtype's range; floats pass through."""
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32, copy=False)
    if array.dtype == np.uint8:
        return (array.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(array.dtype, np.signedinteger):
        return array.astype(np.float32) / float(-np.iinfo(array.dtype).min)
    raise AudioInputError(f"Unsupported sample type {array.dtype}.")


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    if source_rate == target_rate or len(samples) == 0:
        return samples
    import soxr

    return soxr.resample(samples, source_rate, target_rate, quality="HQ").astype(np.float32, copy=False)


def load_audio(source: str | os.PathLike | tuple[int, np.ndarray] | None, target_sr: int | None = None, *,
               max_duration_s: float | None = None, max_bytes: int | None = None,
               max_channels: int | None = None) -> AudioClip:
    """Decode, validate, downmix and resample whatever the user gave. Raises `AudioInputError`."""
    max_duration_s = SETTINGS.max_duration_s if max_duration_s is None else max_duration_s
    max_bytes = SETTINGS.max_file_bytes if max_bytes is None else max_bytes
    max_channels = SETTINGS.max_channels if max_channels is None else max_channels
    if source is None or (isinstance(source, str) and not source.strip()):
        raise AudioInputError("No audio was given: upload a file or record one (if uploading, wait until the "
                              "upload has finished).")
    if isinstance(source, tuple):
        samples, header, name = _from_array(source, max_duration_s, max_channels)
    else:
        samples, header, name = _from_file(Path(source), max_duration_s, max_bytes, max_channels)
    if len(samples) == 0:
        raise AudioInputError("The audio contains no samples.")
    if not np.isfinite(samples).all():
        raise AudioInputError("The audio contains NaN or infinite sample values.")
    rate = target_sr or header.sample_rate
    return AudioClip(resample(samples, header.sample_rate, rate), rate, header.sample_rate, header.channels,
                     header.format, name)


def _from_array(source: tuple, max_duration_s: float, max_channels: int) -> tuple[np.ndarray, AudioHeader, str]:
    rate, array = source
    array = _samples_by_channels(np.asarray(array), max_channels)
    header = AudioHeader(int(rate), array.shape[1], array.shape[0] / rate if rate else None, "array")
    _check_header(header, max_duration_s, max_channels)
    return scale_pcm(array).mean(axis=1, dtype=np.float32), header, "recording"


def _samples_by_channels(array: np.ndarray, max_channels: int) -> np.ndarray:
    """A recorded array as (samples, channels): 1-D is one channel; (channels, samples) is transposed."""
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise AudioInputError("Recorded audio must be one- or two-dimensional.")
    if array.shape[0] < array.shape[1] and array.shape[0] <= max_channels:  # (channels, samples) layout
        array = array.T
    return array


def to_mono(array: np.ndarray) -> np.ndarray:
    """A recorded chunk (1-D, or 2-D in either layout; float or integer PCM) as mono float32 in [-1, 1]: what a
    streaming microphone gives, without load_audio's length checks (a chunk may be a few milliseconds)."""
    return scale_pcm(_samples_by_channels(np.asarray(array), SETTINGS.max_channels)).mean(axis=1, dtype=np.float32)


def _from_file(path: Path, max_duration_s: float, max_bytes: int,
               max_channels: int) -> tuple[np.ndarray, AudioHeader, str]:
    if not path.is_file():
        raise AudioInputError("The uploaded file is missing (the upload may not have finished).")
    size = path.stat().st_size
    if size == 0:
        raise AudioInputError(f"The file {path.name!r} is empty (0 bytes).")
    if size > max_bytes:
        raise AudioInputError(f"The file is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    with open(path, "rb") as handle:
        head = handle.read(512)
    kind = sniff_format(head)
    if kind == "text":
        raise AudioInputError(f"{path.name!r} is a text or HTML document, not audio.")
    if kind == "wav":
        wav_header = _wav_header(path)
        if wav_header is not None:
            _check_header(wav_header, max_duration_s, max_channels)
    decoded = _decode_soundfile(path, max_duration_s, max_channels) if kind in ("wav", "flac", "ogg", "aiff") \
        else None
    if decoded is None:
        decoded = _decode_ffmpeg(path, max_duration_s, max_channels)
    samples, header = decoded
    return samples, header, path.name


def is_silent(samples: np.ndarray, threshold_dbfs: float = -60.0) -> bool:
    """True when the whole clip stays below `threshold_dbfs` RMS (digital silence or near it)."""
    if len(samples) == 0:
        return True
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return rms <= 10 ** (threshold_dbfs / 20)
