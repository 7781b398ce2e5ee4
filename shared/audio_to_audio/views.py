"""Audio-to-audio results -> what the tab shows: wav files for the before/after players (and downloads), the
spectrograms side by side, the headline with timing and scores, and the details JSON. No model is
loaded here and no Gradio is imported."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from shared.audio.dsp import stft_power
from shared.audio.plots import CMAP, new_figure, pool_columns, to_rgb
from shared.audio_to_audio.run import JOB_NAMES, AudioResult, Track
from shared.models.registry import SEPARATE
from shared.models.voiceprint import VERIFY_EER, VERIFY_THRESHOLD
from shared.outputs.results import new_result_path, write_json
from shared.progress import timing_line

TOP_DB = 80.0  # dB range of the spectrograms
PANEL_WIDTH = 4.2  # inches per spectrogram panel
SCORE_HELP = {
    "x-vector cosine": "speechbrain x-vector (the CMU ARCTIC presets' encoder): 1 = same direction",
    "voiceprint similarity": f"Resemblyzer GE2E voiceprint cosine: same speaker above {VERIFY_THRESHOLD:.2f} (equal "
                             f"error rate {VERIFY_EER:.1%} on real voices); similar voices can score higher",
    "round-trip WER": "the built-in recogniser on the output vs its transcript of the input (0 = same words heard)",
    "SI-SDR": "scale-invariant signal-to-distortion ratio against the clean reference",
    "SNR estimate": "reference-free: loud frames vs the quietest frames' noise floor",
    "energy share": "share of the summed energy of the separated sources",
}


def write_wav(track: Track, name: str) -> str:
    """The track as a 16-bit PCM wav (clipped to [-1, 1]) in the results folder; returns its path."""
    path = new_result_path(name)
    sf.write(path, np.clip(track.samples, -1.0, 1.0), track.sample_rate, subtype="PCM_16")
    return str(path)


def slug(label: str) -> str:
    """A file-name-safe version of a track label."""
    kept = "".join(char if char.isalnum() else "_" for char in label.split(" (")[0].strip().lower())
    return kept.strip("_") or "audio"


def write_outputs(result: AudioResult) -> tuple[str, list[str]]:
    """(the input's wav, one wav per output), named after the tracks."""
    return (write_wav(result.source, f"{slug(result.source.label)}.wav"),
            [write_wav(track, f"{slug(track.label)}.wav") for track in result.outputs])


def db_images(tracks: list[Track], shared_scale: bool) -> list[np.ndarray]:
    """Each track's STFT power in dB, against the loudest bin of all of them (`shared_scale`: levels compare across
    panels) or of its own track (separated sources, each scaled for listening)."""
    n_fft = 1024 if max(track.sample_rate for track in tracks) > 16_000 else 512
    powers = [pool_columns(stft_power(track.samples, track.sample_rate, n_fft, n_fft // 4).power, 600)
              for track in tracks]
    overall = max(float(power.max()) for power in powers)
    return [np.maximum(10 * np.log10(np.maximum(power, 1e-12) / ((overall if shared_scale else power.max()) or 1.0)),
                       -TOP_DB) for power in powers]


def side_by_side(result: AudioResult) -> np.ndarray:
    """The input's and every output's spectrogram side by side (one dB scale; per panel for separated sources, which
    are each scaled for listening), as an RGB image."""
    tracks = [result.source, *result.outputs]
    shared_scale = result.task != SEPARATE
    images = db_images(tracks, shared_scale)
    fig = new_figure((PANEL_WIDTH * len(tracks) + 0.8, 3.2))
    axes = fig.subplots(1, len(tracks), sharey=True, squeeze=False)[0]
    for ax, track, image in zip(axes, tracks, images, strict=True):
        shown = ax.imshow(image, origin="lower", aspect="auto", cmap=CMAP, vmin=-TOP_DB, vmax=0,
                          interpolation="nearest", extent=(0, track.duration_s, 0, track.sample_rate / 2000))
        ax.set(title=track.label, xlabel="time (s)")
    axes[0].set_ylabel("frequency (kHz)")
    fig.colorbar(shown, ax=list(axes), format="%+.0f dB", pad=0.01)
    scale = "one dB scale" if shared_scale else "each panel against its own loudest bin"
    fig.suptitle(f"{JOB_NAMES[result.task]}: before and after ({result.model_id}; {scale})")
    return to_rgb(fig)


def score_help(name: str) -> str:
    """What a score measures, from a key phrase in its name."""
    return next((text for key, text in SCORE_HELP.items() if key in name), "")


def info_markdown(result: AudioResult) -> str:
    """The headline (model, input length), the timing line with the real-time factor, the scores and the notes."""
    lines = [f"**{result.model_id}** · {JOB_NAMES[result.task]} · {result.audio_s:.2f} s of input → "
             + ", ".join(f"{track.label} ({track.duration_s:.2f} s)" for track in result.outputs),
             timing_line(result.device, result.dtype, result.compute_s, result.audio_s, result.load_s)]
    if result.scores:
        rows = [f"| {name} | {value:{'.2f' if 'WER' in name else '+.2f'}} | {score_help(name)} |"
                for name, value in result.scores.items()]
        lines.append("| score | value | what it measures |\n|---|---|---|\n" + "\n".join(rows))
    lines += [f"- {note}" for note in result.notes]
    return "\n\n".join(lines)


def write_details(result: AudioResult) -> str:
    """The details (scores, timing, notes) as a JSON download; returns its path."""
    return write_json(f"{result.task}.json", result.to_json())
