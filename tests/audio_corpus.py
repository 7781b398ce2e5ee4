"""Generators for the audio-intake corpus: good files in every format people upload and bad ones of every kind.
Everything is made on the fly in a temp folder; nothing binary is committed."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf


def sine(freq: float = 440.0, seconds: float = 1.0, rate: int = 16_000, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> Path:
    sf.write(path, samples, rate, subtype=subtype)
    return path


def raw_wav(path: Path, rate: int, channels: int = 1, data: bytes = b"\x00\x00" * 100, bits: int = 16,
            fmt_code: int = 1) -> Path:
    """A WAV written byte by byte, so its header can claim anything (0 Hz, 1 Hz, 1 MHz...)."""
    block_align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_code, channels, rate, rate * block_align, block_align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def ffmpeg_encode(source: Path, target: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), *args, str(target)],
                   check=True, timeout=120)
    return target


def ffmpeg_generate(target: Path, lavfi: str, seconds: float, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-t", str(seconds), "-i", lavfi,
                    *args, str(target)], check=True, timeout=300)
    return target


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])
