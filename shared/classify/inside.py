""""Inside the model" for the Classify tab (AST, wav2vec2-style classifiers, Whisper language detection): the input
the model got for its most confident window (kept from the batch the forward pass used, `ClassifyResult.model_input`),
the per-window scores, and for language identification the top languages over time; never a second forward pass.
No Gradio here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shared.audio.plots import new_figure, pool_columns, to_rgb, waveform_envelope, whisper_window_image
from shared.audio.timeline import short_label
from shared.audio.windows import Window
from shared.classify.capture import ModelInput, PatchGrid
from shared.classify.run import ClassifyResult
from shared.inside import InsideView, gallery_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes

KALDI_FRAME_S, KALDI_HOP_S = 0.025, 0.010  # AST's filterbank: 25 ms frames every 10 ms
ZOOM_PATCHES = 2  # the close-up shows this many patch strides each way past the first patch
MAX_FRAME_LINES = 200  # wav2vec2 frame boundaries drawn only up to this many
LANGUAGE_ID_FAMILIES = ("mms-lid", "whisper-lid")  # classifiers whose labels are languages
TOP_LANGUAGES = 3  # lines in the languages-over-time picture
_LINE_COLOURS = ("#2b8cbe", "#fdae61", "#7fbf7b", "#9e9e9e")


def _window_phrase(window: Window, number: int) -> str:
    return f"window {number} ({window.start_s:.2f}–{window.end_s:.2f} s)"


def _kaldi_frames(n_samples: int, sample_rate: int) -> int:
    frame, hop = round(KALDI_FRAME_S * sample_rate), round(KALDI_HOP_S * sample_rate)
    return 0 if n_samples < frame else 1 + (n_samples - frame) // hop


def ast_input_view(result: ClassifyResult, model_input: ModelInput) -> InsideView:
    """The normalised filterbank AST got for its most confident window, with the patch grid drawn over it and a
    close-up of the first overlapping patches."""
    import matplotlib

    grid = model_input.patch_grid
    assert grid is not None
    fbank = model_input.values.T  # (mel bands, frames), as the patch embedding sees it
    bands, frames = fbank.shape
    down, across = grid.counts(bands, frames)
    real_frames = min(frames, _kaldi_frames(model_input.n_samples, model_input.sample_rate))
    window = result.windows[model_input.window_index]

    fig = new_figure((10, 3.4))
    main, zoom = fig.subplots(1, 2, width_ratios=[4, 1])
    sound = fbank[:, : max(real_frames, 1)]
    low, high = float(np.percentile(sound, 1)), float(np.percentile(sound, 99.5))
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#d9d9d9")
    shown = np.ma.masked_array(fbank, np.zeros_like(fbank, bool))
    shown[:, real_frames:] = np.ma.masked  # padding: grey, so the colours span the sound itself
    image = main.imshow(pool_columns(shown.filled(np.nan)), origin="lower", aspect="auto",
                        extent=(0, frames, 0, bands), cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
    starts_t = np.arange(across) * grid.time_stride
    starts_f = np.arange(down) * grid.frequency_stride
    main.vlines(starts_t, 0, bands, colors="white", lw=0.4, alpha=0.35)
    main.hlines(starts_f, 0, frames, colors="white", lw=0.4, alpha=0.35)
    if frames - real_frames > 0.15 * frames:
        main.text((real_frames + frames) / 2, bands * 0.5, "padding", color="#555555", ha="center", va="center",
                  fontsize=10)
    main.set(xlim=(0, frames), ylim=(0, bands), xlabel="input frame (10 ms each)", ylabel="mel band",
             title=f"What AST sees: {bands}-band filterbank of {_window_phrase(window, model_input.window_index + 1)}"
                   f" — {short_label(model_input.label)} {model_input.score:.2f}")
    fig.colorbar(image, ax=main, pad=0.01, label="normalised log-mel")
    _draw_first_patches(zoom, shown, grid, cmap=cmap, vmin=low, vmax=high)
    padding = (f" Only {real_frames} of the {frames} frames hold this window's sound; the grey rest is padding."
               if real_frames < frames else "")
    caption = (f"The normalised filterbank the model got for its most confident window (time across, pitch up, "
               f"bright = loud), cut into {down * across:,} overlapping {grid.patch}×{grid.patch} patches — {down} "
               f"down × {across} across, one every {grid.frequency_stride} bands and {grid.time_stride} frames "
               f"(close-up: the first four) — each becoming one transformer token.{padding}")
    return InsideView("Filterbank input and patch grid", to_rgb(fig), caption)


def _draw_first_patches(zoom: Axes, shown: np.ma.MaskedArray, grid: PatchGrid, **colour_scale: Any) -> None:
    """The close-up: the filterbank's first frames and bands with the first four (overlapping) patches outlined."""
    import matplotlib.patches as mpatches

    bands, frames = shown.shape
    extent = grid.patch + ZOOM_PATCHES * max(grid.time_stride, grid.frequency_stride)
    zoom_f, zoom_t = min(bands, extent), min(frames, extent)
    zoom.imshow(shown[:zoom_f, :zoom_t].filled(np.nan), origin="lower", aspect="auto",
                extent=(0, zoom_t, 0, zoom_f), interpolation="nearest", **colour_scale)
    colours = ("#00e5ff", "#ff4081", "#ffd740", "#69f0ae")
    corners = [(0, 0), (grid.time_stride, 0), (0, grid.frequency_stride),
               (grid.time_stride, grid.frequency_stride)]
    for colour, (t0, f0) in zip(colours, corners, strict=True):
        zoom.add_patch(mpatches.Rectangle((t0, f0), grid.patch, grid.patch, fill=False, ec=colour, lw=1.6))
    zoom.set(xlim=(0, zoom_t), ylim=(0, zoom_f), xlabel="frame", ylabel="band", title="first 4 patches")


def waveform_input_view(result: ClassifyResult, model_input: ModelInput) -> InsideView:
    """A waveform model has no filterbank: the samples it got for its most confident window, with the 20 ms frames
    its convolutions make of them."""
    samples = model_input.values
    rate = model_input.sample_rate
    duration = len(samples) / rate
    window = result.windows[model_input.window_index]
    fig = new_figure((10, 2.6))
    ax = fig.add_subplot()
    if len(samples) <= 4000:
        ax.plot(np.arange(len(samples)) / rate, samples, lw=0.7, color="#1f77b4")
    else:
        low, high = waveform_envelope(samples)
        ax.fill_between(np.linspace(0, duration, len(low)), low, high, color="#1f77b4", lw=0, step="mid")
    frames = model_input.frames
    if frames and frames <= MAX_FRAME_LINES:
        ax.vlines(np.arange(1, frames) * duration / frames, *ax.get_ylim(), colors="grey", lw=0.4, alpha=0.5)
    ax.set(xlim=(0, max(duration, 1e-3)), xlabel="time within the window (s)", ylabel="amplitude (model input)",
           title=f"What the model sees: the raw waveform of {_window_phrase(window, model_input.window_index + 1)}"
                 f" — {short_label(model_input.label)} {model_input.score:.2f}")
    ax.grid(alpha=0.3)
    frame_text = (f"; its convolutions turn them into {frames} frames of about 20 ms (grey lines), which the "
                  "transformer mixes and then averages into one vector for the classifier" if frames else "")
    # the feature extractor's do_normalize (most checkpoints) scales each input to zero mean, unit variance
    scaling = ", scaled to zero mean and unit variance" if abs(float(samples.std()) - 1) < 0.05 else ""
    caption = (f"No spectrogram here: the model reads the {len(samples):,} samples of its most confident window "
               f"directly{scaling}{frame_text}.")
    return InsideView("Waveform input", to_rgb(fig), caption)


def whisper_input_view(result: ClassifyResult, model_input: ModelInput) -> InsideView:
    """The log-mel window Whisper's encoder read for the most confident window (the rest of the 30 s is padding)."""
    window = result.windows[model_input.window_index]
    seconds = model_input.n_samples / model_input.sample_rate
    image = whisper_window_image(model_input.values, seconds)
    return InsideView("Whisper's input", image,
                      f"The log-mel spectrogram of {_window_phrase(window, model_input.window_index + 1)}, its most "
                      f"confident ({model_input.label} {model_input.score:.2f}): {model_input.values.shape[0]} mel "
                      f"bands, one 30 s window of which {seconds:.1f} s is sound and the rest padding. Whisper's "
                      "first decoding step reads the start token and this window; the language tokens' "
                      "probabilities at that step are the scores.")


def top_languages(result: ClassifyResult, k: int = TOP_LANGUAGES) -> list[int]:
    """The `k` languages with the highest mean probability over the audible windows (label indices)."""
    audible = result.window_scores[~np.isnan(result.window_scores).any(axis=1)]
    if len(audible) == 0:
        return []
    return [int(i) for i in np.argsort(-audible.mean(axis=0), kind="stable")[:k]]


def language_timeline_view(result: ClassifyResult) -> InsideView:
    """The top languages' probabilities per window, one line each (gaps where a window is silent), plus the rest."""
    chosen = top_languages(result)
    centres = np.array([(w.start_s + w.end_s) / 2 for w in result.windows])
    fig = new_figure((10, 3.2))
    ax = fig.add_subplot()
    for colour, index in zip(_LINE_COLOURS, chosen, strict=False):
        ax.plot(centres, result.window_scores[:, index], marker="o", ms=3, color=colour, label=result.labels[index])
    rest = 1.0 - result.window_scores[:, chosen].sum(axis=1)
    ax.plot(centres, rest, ls=":", color=_LINE_COLOURS[-1], label="all others")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, max(result.audio_s, 1e-3))
    ax.legend(loc="upper right", fontsize=8)
    ax.set(xlabel="time (s)", ylabel="probability",
           title=f"Language over time: top {len(chosen)} languages, {result.window_s:g} s windows every "
                 f"{result.hop_s:g} s")
    image = to_rgb(fig)
    audible = ~np.isnan(result.window_scores).any(axis=1)
    winners = result.window_scores[audible].argmax(axis=1) if audible.any() else np.zeros(0, int)
    switches = int(np.sum(winners[1:] != winners[:-1]))
    return InsideView("Languages over time", image,
                      f"Each point is one window's probability of a language (a softmax over all "
                      f"{len(result.labels)} languages, so a window's values sum to 1; the dotted line is every other "
                      f"language together). The winning language changes {switches} time(s) across the "
                      f"{int(audible.sum())} windows the model ran on: a mixed-language recording shows as lines "
                      "crossing; gaps are silent windows.")


def timeline_view(result: ClassifyResult, timeline: np.ndarray) -> InsideView:
    """The tab's timeline (already drawn for this run) as the per-window scores view."""
    audible = ~np.isnan(result.window_scores).any(axis=1) if result.window_scores.size else np.zeros(0, bool)
    silent = len(result.windows) - int(audible.sum())
    text = f"Each column is one of the {len(result.windows)} windows, each row a label; brighter = higher score."
    if audible.any():
        winners = result.window_scores[audible].argmax(axis=1)
        best = int(np.bincount(winners).argmax())
        text += (f" '{result.labels[best]}' has the top score in {int((winners == best).sum())} of the "
                 f"{int(audible.sum())} windows the model ran on.")
    if silent:
        text += f" Grey: {silent} silent window{'s' * (silent != 1)}, skipped (not sent to the model)."
    return InsideView("Scores per window", timeline, text)


def classify_inside(result: ClassifyResult, timeline: np.ndarray) -> tuple[list[InsideView], str]:
    """The Classify tab's views and architecture card for one run; `timeline` is the image the tab already drew."""
    card = result.card_markdown()
    if result.silent:
        return [], card
    views = []
    model_input = result.model_input
    if model_input is not None:
        if model_input.patch_grid is not None:
            views.append(ast_input_view(result, model_input))
        elif model_input.values.ndim == 1:
            views.append(waveform_input_view(result, model_input))
        elif result.family == "whisper-lid":
            views.append(whisper_input_view(result, model_input))
    views.append(timeline_view(result, timeline))
    if result.family in LANGUAGE_ID_FAMILIES:
        views.append(language_timeline_view(result))
    return views, card


@dataclass
class ClassifyRecording:
    """What a Classify run keeps for its pictures: the result (with the model input kept from the forward pass) and
    the timeline image the tab drew anyway."""

    result: ClassifyResult
    timeline: np.ndarray


def render_inside(recording: ClassifyRecording, draw: bool = True) -> tuple[list, str]:
    """The Classify tab's gallery and card for a recorded run; with `draw=False` only the card, no picture drawn."""
    if not draw:
        return [], recording.result.card_markdown()
    views, card = classify_inside(recording.result, recording.timeline)
    return gallery_value(views), card
