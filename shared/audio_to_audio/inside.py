""""Inside the model" for audio to audio, drawn from what the run recorded (shared.audio_to_audio.capture):
SpeechT5's mel spectrogram before the vocoder and the x-vectors that steer the voice; SepFormer's estimated masks
and sources over time; an enhancer's gain per time-frequency bin (and a SepFormer enhancer's mask).
`render_inside` is the one entry point the tab calls; with `draw=False` only the card comes back."""

from __future__ import annotations

import numpy as np

from shared.audio.dsp import stft_power
from shared.audio.plots import CMAP, new_figure, pool_columns, to_rgb
from shared.audio_to_audio.capture import A2ARecording, ConversionTrace, EnhancementTrace, SeparationTrace, Trace
from shared.audio_to_audio.scores import frame_powers
from shared.inside import InsideView, gallery_value
from shared.models.voiceprint import cosine

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
GAIN_DB = 20.0  # the gain picture's range: ±20 dB


def mel_view(trace: ConversionTrace) -> InsideView:
    """SpeechT5's predicted log-mel (80 bands) over time."""
    mel = np.nan_to_num(trace.mel.T.astype(np.float32))
    fig = new_figure()
    ax = fig.add_subplot()
    low, high = (float(value) for value in np.percentile(mel, [1, 99]))
    image = ax.imshow(pool_columns(mel), origin="lower", aspect="auto", cmap=CMAP, interpolation="nearest",
                      extent=(0, mel.shape[1] * trace.mel_hop_s, 0, mel.shape[0]), vmin=low,
                      vmax=max(high, low + 1e-6))
    ax.set(xlabel="time (s)", ylabel="mel band", title="SpeechT5: mel spectrogram predicted in the target voice")
    fig.colorbar(image, ax=ax, pad=0.01, label="log-mel (model units)")
    return InsideView("Mel before the vocoder", to_rgb(fig),
                      f"{mel.shape[1]} frames ({mel.shape[1] * trace.mel_hop_s:.2f} s), two per decoder step; "
                      "HiFi-GAN turns them into the waveform you hear.")


def xvector_view(trace: ConversionTrace) -> InsideView:
    """The 512-d x-vectors of the input, the target voice and the output as rows of a heat map."""
    rows = [("input", trace.source_xvector), (f"target: {trace.target_label}", trace.target_xvector),
            ("output", trace.output_xvector)]
    rows = [(name, vector) for name, vector in rows if vector is not None]
    fig = new_figure((10, 2.6))
    ax = fig.add_subplot()
    matrix = np.stack([vector for _, vector in rows])
    limit = float(np.max(np.abs(matrix))) or 1.0
    image = ax.imshow(matrix, aspect="auto", cmap="coolwarm", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_yticks(range(len(rows)), [name for name, _ in rows])
    ax.set(xlabel="x-vector dimension (of 512)", title="Speaker x-vectors (speechbrain, unit length)")
    fig.colorbar(image, ax=ax, pad=0.01)
    similar = [f"{name} · target = {cosine(vector, trace.target_xvector):+.2f}" for name, vector in rows
               if not name.startswith("target")]
    return InsideView("The voice as a vector", to_rgb(fig),
                      "the decoder is conditioned on the target row; cosine with the target: " + ", ".join(similar))


def mask_view(masks: np.ndarray, hop_s: float, title: str) -> InsideView:
    """Each source's mask (bases x frames) as a heat map, one panel per source."""
    fig = new_figure((10, 1.8 + 1.4 * len(masks)))
    axes = fig.subplots(len(masks), 1, sharex=True, squeeze=False)[:, 0]
    for index, (ax, mask) in enumerate(zip(axes, masks, strict=True)):
        image = ax.imshow(pool_columns(np.nan_to_num(mask)), origin="lower", aspect="auto", cmap="viridis",
                          interpolation="nearest", extent=(0, mask.shape[1] * hop_s, 0, mask.shape[0]))
        ax.set_ylabel(f"source {index + 1}\nbasis")
    axes[0].set_title(title)
    axes[-1].set_xlabel("time (s)")
    fig.colorbar(image, ax=list(axes), pad=0.01, label="mask value")
    return InsideView("Estimated masks", to_rgb(fig),
                      f"{masks.shape[1]} learned bases every {hop_s * 1000:.2f} ms: where a source's mask is bright, "
                      "that part of the mixture's encoding is given to that source.")


def sources_view(trace: SeparationTrace) -> InsideView:
    """Level over time (dB, 20 ms frames) of the mixture and of each estimated source."""
    fig = new_figure()
    ax = fig.add_subplot()
    for index, signal in enumerate([trace.mixture, *trace.sources]):
        powers = 10 * np.log10(frame_powers(signal, trace.sample_rate) + 1e-10)
        times = np.arange(len(powers)) * 0.02
        style = {"color": "0.6", "lw": 2.0, "label": "mixture"} if index == 0 else \
            {"color": COLORS[(index - 1) % len(COLORS)], "lw": 1.0, "label": trace.labels[index - 1]}
        ax.plot(times, powers, **style)
    ax.set(xlabel="time (s)", ylabel="level (dB, 20 ms frames)", title="Estimated sources over time")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return InsideView("Sources over time", to_rgb(fig),
                      "where one source is loud and the other quiet, the model gave that stretch to one speaker; "
                      "both loud at once is overlapped speech.")


def gain_view(trace: EnhancementTrace) -> InsideView:
    """Output over input power per time-frequency bin (dB): what the enhancer kept (0 dB) and removed."""
    n_fft = 512
    before = stft_power(trace.noisy, trace.sample_rate, n_fft, n_fft // 4)
    after = stft_power(trace.enhanced, trace.sample_rate, n_fft, n_fft // 4).power
    frames = min(before.power.shape[1], after.shape[1])
    gain = 10 * np.log10((after[:, :frames] + 1e-10) / (before.power[:, :frames] + 1e-10))
    fig = new_figure()
    ax = fig.add_subplot()
    image = ax.imshow(np.clip(pool_columns(gain), -GAIN_DB, GAIN_DB), origin="lower", aspect="auto",
                      cmap="RdBu_r", vmin=-GAIN_DB, vmax=GAIN_DB, interpolation="nearest",
                      extent=(0, frames * before.hop_length / trace.sample_rate, 0, trace.sample_rate / 2000))
    ax.set(xlabel="time (s)", ylabel="frequency (kHz)", title="Gain applied: enhanced ÷ noisy power")
    fig.colorbar(image, ax=ax, pad=0.01, format="%+.0f dB")
    return InsideView("What was removed", to_rgb(fig),
                      "blue bins were turned down (noise, as the model judged it), white kept, red raised.")


def inside_views(trace: Trace) -> list[InsideView]:
    """The pictures of one run's trace."""
    if isinstance(trace, ConversionTrace):
        return [mel_view(trace), xvector_view(trace)]
    if isinstance(trace, SeparationTrace):
        masks = [] if trace.masks is None else [mask_view(trace.masks, trace.frame_hop_s,
                                                          "SepFormer: one mask per source")]
        return [*masks, sources_view(trace)]
    views = [gain_view(trace)]
    if trace.masks is not None:
        views.append(mask_view(trace.masks, trace.frame_hop_s, "SepFormer enhancement: the speech mask"))
    return views


def render_inside(recording: A2ARecording, draw: bool = True) -> tuple[list, str]:
    """The tab's gallery and card for a recorded run; with `draw=False` only the card, no picture drawn."""
    return (gallery_value(inside_views(recording.trace)) if draw else []), recording.card
