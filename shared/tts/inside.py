""""Inside the model" for text to speech: the pictures drawn from what a synthesis run recorded
(shared.tts.capture), with plain-language captions: SpeechT5's predicted mel spectrogram and stop curve, Bark's
tokens and time per stage, VITS's duration per character, Piper's phonemes. `render_inside` is the one entry point
the tab calls; with the section closed it draws nothing and only the architecture card is returned.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from shared.audio.plots import new_figure, pool_columns, to_rgb
from shared.inside import InsideView, gallery_value
from shared.tts.capture import (
    BARK_STAGES,
    BarkTrace,
    CodecLmPart,
    CodecLmTrace,
    PiperTrace,
    SpeechT5Part,
    SpeechT5Trace,
    Trace,
    TtsRecording,
    VitsTrace,
)

MAX_DURATION_BARS = 120  # characters / phonemes drawn in a duration chart; the caption says when there are more
MAX_PIPER_ROWS = 12  # sentences drawn in the phoneme picture
MAX_STOP_CURVES = 8  # SpeechT5 parts drawn in the stop-score chart
SPACE, BLANK = "␣", "∅"


# ---- pictures -----------------------------------------------------------------------------------------------------
def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def speecht5_views(trace: SpeechT5Trace) -> list[InsideView]:
    """The predicted mel spectrogram and the stop curve (none when no part produced frames)."""
    parts = [part for part in trace.parts if part.mel.size]
    if not parts:
        return []
    return [_mel_view(trace, parts), _stop_view(trace, parts)]


def _mel_view(trace: SpeechT5Trace, parts: list[SpeechT5Part]) -> InsideView:
    mel = np.nan_to_num(np.concatenate([part.mel for part in parts]).T.astype(np.float32))  # (bins, frames)
    frames = mel.shape[1]
    fig = new_figure()
    ax = fig.add_subplot()
    low, high = (float(v) for v in np.percentile(mel, [1, 99]))
    image = ax.imshow(pool_columns(mel), origin="lower", aspect="auto", cmap="magma", interpolation="nearest",
                      extent=(0, frames * trace.frame_s, 0, mel.shape[0]), vmin=low, vmax=max(high, low + 1e-6))
    border = 0
    for part in parts[:-1]:
        border += len(part.mel)
        ax.axvline(border * trace.frame_s, color="white", ls="--", lw=1)
    ax.set(xlabel="time (s)", ylabel=f"mel band (of {mel.shape[0]})",
           title="SpeechT5: mel spectrogram predicted by the decoder, before the vocoder")
    fig.colorbar(image, ax=ax, pad=0.01, label="log-mel (model units)")
    steps = sum(len(part.stop) for part in parts)
    in_parts = f" in {len(parts)} parts (dashed lines)" if len(parts) > 1 else ""
    return InsideView(
        "Predicted mel spectrogram",
        to_rgb(fig),
        f"The decoder wrote {frames} frames × {mel.shape[0]} mel bands ({frames * trace.frame_s:.2f} s){in_parts}, "
        f"{trace.reduction_factor} frames per step over {steps} steps; the HiFi-GAN vocoder turned exactly this "
        "picture into the waveform. Time runs left to right, low pitches at the bottom, brighter = louder.")


def _stop_view(trace: SpeechT5Trace, parts: list[SpeechT5Part]) -> InsideView:
    fig = new_figure((10, 2.8))
    ax = fig.add_subplot()
    peak = trace.threshold
    stopped = 0
    for index, part in enumerate(parts[:MAX_STOP_CURVES]):
        score = np.nan_to_num(part.stop)
        steps_axis = np.arange(1, len(score) + 1)
        ax.plot(steps_axis, score, marker="." if len(score) < 60 else None, lw=1.2,
                label=f"part {index + 1}" if len(parts) > 1 else None)
        peak = max(peak, float(score.max(initial=0)))
    for part in parts:
        stopped += bool(len(part.stop)) and float(part.stop[-1]) >= trace.threshold
    ax.axhline(trace.threshold, color="black", ls="--", lw=1, label=f"stop threshold {trace.threshold:g}")
    ax.set(xlabel="decoder step", ylabel="stop score", ylim=(0, peak * 1.08),
           title=f"SpeechT5: stop head per decoder step (Σ of the step's {trace.reduction_factor} frame "
                 "probabilities)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    if len(parts) == 1:
        how = (f"it reached {trace.threshold:g} at step {len(parts[0].stop)}, so the decoder stopped there"
               if stopped else f"it never reached {trace.threshold:g}: the decoder was stopped at its length limit "
               f"after {len(parts[0].stop)} steps")
    else:
        how = f"{stopped} of {len(parts)} parts were ended by the stop head, the others by the length limit"
    return InsideView(
        "Stop probability",
        to_rgb(fig),
        f"After each decoder step a small 'stop' layer scores whether the speech is finished; {how}. "
        "Up = more sure it is done; the dashed line is the threshold.")


def _duration_bars(labels: list[str], own_s: np.ndarray, extra_s: np.ndarray | None, title: str,
                   xlabel: str, own_label: str, extra_label: str) -> np.ndarray:
    fig = new_figure((10, 3.2))
    ax = fig.add_subplot()
    positions = np.arange(len(labels))
    ax.bar(positions, own_s, color="#1f77b4", width=0.8, label=own_label if extra_s is not None else None)
    if extra_s is not None:
        ax.bar(positions, extra_s, bottom=own_s, color="#aec7e8", width=0.8, label=extra_label)
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xticks(positions, labels, fontsize=8 if len(labels) <= 60 else 6)
    ax.set(xlim=(-0.6, max(len(labels), 1) - 0.4), xlabel=xlabel, ylabel="seconds", title=title)
    ax.grid(axis="y", alpha=0.3)
    return to_rgb(fig)


def _shown(token: str) -> str:
    return SPACE if token.isspace() else token


def vits_views(trace: VitsTrace) -> list[InsideView]:
    """The duration VITS chose for each input character, as bars (none when nothing was recorded)."""
    labels: list[str] = []
    own: list[float] = []
    blank: list[float] = []
    for part in trace.parts:
        for token, is_blank, frames in zip(part.tokens, part.blank, part.frames, strict=True):
            if is_blank and labels:
                blank[-1] += float(frames)
            elif is_blank:  # the blank before the first character
                labels.append(BLANK)
                own.append(0.0)
                blank.append(float(frames))
            else:
                labels.append(_shown(token))
                own.append(float(frames))
                blank.append(0.0)
    if not labels:
        return []
    own_s, blank_s = np.array(own) * trace.frame_s, np.array(blank) * trace.frame_s
    has_blanks = any(any(part.blank) for part in trace.parts)
    shown = min(len(labels), MAX_DURATION_BARS)
    image = _duration_bars(labels[:shown], own_s[:shown], blank_s[:shown] if has_blanks else None,
                           "VITS: how long each input character lasts (the duration predictor's choice)",
                           "input character (as the model reads it)", "the character", "the blank after it")
    characters = sum(1 for label in labels if label != BLANK)
    longest = int(np.argmax(own_s))
    more = f" (the first {shown} of {len(labels)} are drawn)" if shown < len(labels) else ""
    colours = ("Dark: the character's own frames; light: the blank token the tokenizer puts after it (pauses and "
               "transitions). " if has_blanks else "")
    caption = (f"Each bar is the time VITS gave one input character{more}: {characters} characters, "
               f"{float(own_s.sum() + blank_s.sum()):.2f} s in all; the longest is ‘{labels[longest]}’ "
               f"({own_s[longest]:.2f} s). {colours}One frame = {trace.frame_s * 1000:.0f} ms. The durations are "
               "sampled, so another seed changes them.")
    return [InsideView("Duration per character", image, caption)]


BARK_STAGE_LABELS = {"semantic": "semantic\n(what is said)", "coarse": "coarse\n(voice, prosody)",
                     "fine": "fine\n(detail)"}


def bark_views(trace: BarkTrace) -> list[InsideView]:
    """Tokens and seconds per Bark stage (none when nothing was recorded)."""
    parts = [part for part in trace.parts if part]
    if not parts:
        return []
    names = [name for _, name in BARK_STAGES]
    tokens = {name: sum(stage.tokens for part in parts for stage in part if stage.name == name) for name in names}
    seconds = {name: sum(stage.seconds for part in parts for stage in part if stage.name == name) for name in names}
    total_s = sum(trace.part_seconds) if trace.part_seconds else sum(seconds.values())
    decode_s = max(0.0, total_s - sum(seconds.values()))
    fine_frames = sum(stage.shape[-1] for part in parts for stage in part if stage.name == "fine")
    coarse_frames = tokens["coarse"] // max(trace.coarse_codebooks, 1)

    fig = new_figure((10, 3.0))
    left, right = fig.subplots(1, 2)
    rows = np.arange(len(names))[::-1]
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c"]
    left.barh(rows, [tokens[name] for name in names], color=colours)
    for row, name in zip(rows, names, strict=True):
        left.text(tokens[name], row, f" {tokens[name]:,}", va="center", fontsize=8)
    left.set_yticks(rows, [BARK_STAGE_LABELS[name] for name in names], fontsize=8)
    left.set(xlabel="tokens generated", title="Bark: tokens per stage", xlim=(0, max(tokens.values()) * 1.25 + 1))
    time_names = [*names, "decode"]
    time_rows = np.arange(len(time_names))[::-1]
    values = [seconds[name] for name in names] + [decode_s]
    right.barh(time_rows, values, color=[*colours, "#7f7f7f"])
    for row, value in zip(time_rows, values, strict=True):
        right.text(value, row, f" {value:.2f} s", va="center", fontsize=8)
    right.set_yticks(time_rows, [*(name for name in names), "EnCodec decode\n& the rest"], fontsize=8)
    right.set(xlabel="seconds", title="time per stage", xlim=(0, max(values) * 1.3 + 1e-3))
    image = to_rgb(fig)

    slowest = max(names, key=lambda name: seconds[name])
    chunks = f" over {len(parts)} parts of the text" if len(parts) > 1 else ""
    caption = (f"Bark runs three models in a row{chunks}: {tokens['semantic']} semantic tokens (what is said), then "
               f"{trace.coarse_codebooks} × {coarse_frames} coarse codec tokens (voice and prosody), then "
               f"{trace.fine_codebooks} × {fine_frames} fine tokens (the fine model fills in the other "
               f"{trace.fine_codebooks - trace.coarse_codebooks} codebooks); EnCodec decodes {trace.frame_rate:g} "
               f"frames per second of audio. The {slowest} stage took longest: {seconds[slowest]:.2f} of "
               f"{total_s:.2f} s.")
    return [InsideView("Tokens and time per stage", image, caption)]


def _ellipsis(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def piper_views(trace: PiperTrace) -> list[InsideView]:
    """The phonemes Piper spoke per sentence, and per-phoneme durations when the voice has them."""
    sentences = [sentence for sentence in trace.sentences if sentence.phonemes]
    if not sentences:
        return []
    rows = sentences[:MAX_PIPER_ROWS]
    durations = np.array([sentence.samples / trace.sample_rate for sentence in rows])
    fig = new_figure((10, 0.9 + 0.42 * len(rows)))
    ax = fig.add_subplot()
    positions = np.arange(len(rows))[::-1]
    ax.barh(positions, durations, color="#c6dbef", height=0.8)
    for position, sentence in zip(positions, rows, strict=True):
        ax.text(0.01 * max(durations.max(), 1e-3), position, "/" + _ellipsis("".join(sentence.phonemes), 90) + "/",
                va="center", fontsize=9)
    ax.set_yticks(positions, [str(index + 1) for index in range(len(rows))], fontsize=8)
    ax.set(xlabel="seconds of audio", ylabel="sentence", xlim=(0, max(durations.max(), 1e-3) * 1.02),
           title="Piper: the phonemes it spoke (espeak-ng IPA), one bar per sentence")
    image = to_rgb(fig)
    # sounds only: stress (ˈ) and length (ː) marks are modifier letters, spaces and punctuation are not letters
    phonemes = sum(1 for sentence in sentences for phoneme in sentence.phonemes
                   if unicodedata.category(phoneme[:1] or " ") in ("Ll", "Lu", "Lo"))
    seconds = sum(sentence.samples for sentence in sentences) / trace.sample_rate
    more = f" (the first {MAX_PIPER_ROWS} are drawn)" if len(sentences) > MAX_PIPER_ROWS else ""
    caption = (f"Piper does not read letters: espeak-ng turned the text into {phonemes} IPA phonemes in "
               f"{_plural(len(sentences), 'sentence')}{more} (ˈ marks the stressed syllable, ː a long sound), and "
               f"the voice spoke them in {seconds:.2f} s, {phonemes / max(seconds, 1e-9):.0f} phonemes per second. "
               f"Each bar's length is that sentence's audio. First: /{_ellipsis(''.join(sentences[0].phonemes), 120)}/")
    views = [InsideView("Phonemes spoken", image, caption)]

    aligned = [pair for sentence in sentences for pair in sentence.phoneme_samples or []]
    if aligned:  # only voices exported with an alignment output have these
        shown = aligned[:MAX_DURATION_BARS]
        image = _duration_bars([_shown(phoneme) for phoneme, _ in shown],
                               np.array([samples for _, samples in shown]) / trace.sample_rate, None,
                               "Piper: how long each phoneme lasts", "phoneme", "", "")
        views.append(InsideView("Duration per phoneme", image,
                                f"The audio the voice gave each phoneme (from its alignment output), "
                                f"{len(shown)} of {len(aligned)} drawn; ^ and $ are the start and end markers."))
    return views


MAX_GRID_FRAMES = 1500  # codec frames drawn in the token grid (the rest are summarised in the caption)


def codec_lm_views(trace: CodecLmTrace) -> list[InsideView]:
    """The codebook token grid of the first part (the reference's tokens, then the generated ones) and the time
    of each stage (none when nothing was generated)."""
    parts = [part for part in trace.parts if part.generated.size or part.prompt.size]
    if not parts:
        return []
    return [_token_grid_view(trace, parts[0], len(parts)), _codec_stages_view(trace)]


def _token_grid_view(trace: CodecLmTrace, part: CodecLmPart, count: int) -> InsideView:
    prompt_frames, new_frames = part.prompt.shape[1], part.generated.shape[1]
    grid = np.concatenate([part.prompt, part.generated], axis=1).astype(np.float32)[:, :MAX_GRID_FRAMES]
    shown = np.ma.masked_where(grid >= trace.codebook_size, grid)  # Dia's bos/pad/eos ids are not audio codes
    fig = new_figure((10, 3.4))
    ax = fig.add_subplot()
    ax.imshow(shown, aspect="auto", origin="upper", cmap="viridis", interpolation="nearest",
              vmin=0, vmax=trace.codebook_size - 1, extent=(0, grid.shape[1] / trace.frame_rate, grid.shape[0], 0))
    label = {"ha": "center", "va": "bottom", "fontsize": 9, "fontweight": "bold"}
    if prompt_frames:
        boundary = prompt_frames / trace.frame_rate
        ax.axvline(boundary, color="red", lw=2.5)
        ax.text(boundary / 2, -0.15, "your recording (prompt tokens)", color="#555555", **label)
    ax.text((prompt_frames + new_frames / 2) / trace.frame_rate, -0.15, "generated", color="red", **label)
    ax.set_yticks(np.arange(grid.shape[0]) + 0.5, [str(row) for row in range(grid.shape[0])], fontsize=7)
    ax.set(xlabel="seconds of audio", ylabel=f"codebook (of {grid.shape[0]})")
    ax.set_title(f"{trace.family.upper()}: {trace.codec} codec tokens, codebooks × frames (colour = code id)", pad=16)
    image = to_rgb(fig)
    per_second = grid.shape[0] * trace.frame_rate
    prompt_words = (f"The first {prompt_frames} frames ({prompt_frames / trace.frame_rate:.1f} s, left of the "
                    "red line) are your recording as the codec heard it; the model read them and their "
                    "transcript, then continued the sequence" if prompt_frames else
                    "There was no recording, so the model started from its text alone")
    more = f" Part 1 of {count} is drawn." if count > 1 else ""
    cut = f" The first {MAX_GRID_FRAMES} frames are drawn." if prompt_frames + new_frames > MAX_GRID_FRAMES else ""
    return InsideView(
        "Codec token grid", image,
        f"This is the Vall-E idea: speech as a grid of discrete codec tokens, {grid.shape[0]} codebooks × "
        f"{trace.frame_rate:.1f} frames per second = {per_second:,.0f} tokens per second of audio. {prompt_words}: "
        f"{new_frames} new frames ({new_frames / trace.frame_rate:.1f} s). Codebook 0 (top) carries the most, the "
        f"later ones add detail.{more}{cut}")


def _codec_stages_view(trace: CodecLmTrace) -> InsideView:
    names = list(trace.stages)
    seconds = [trace.stages[name] for name in names]
    fig = new_figure((10, 2.2))
    ax = fig.add_subplot()
    rows = np.arange(len(names))[::-1]
    ax.barh(rows, seconds, color=["#ff7f0e", "#1f77b4", "#2ca02c"][:len(names)])
    for row, value in zip(rows, seconds, strict=True):
        ax.text(value, row, f" {value:.2f} s", va="center", fontsize=8)
    ax.set_yticks(rows, names, fontsize=8)
    ax.set(xlabel="seconds", title=f"{trace.family.upper()}: time per stage", xlim=(0, max([*seconds, 1e-3]) * 1.3))
    image = to_rgb(fig)
    frames = sum(part.generated.shape[1] for part in trace.parts)
    slowest = max(names, key=lambda name: trace.stages[name]) if names else ""
    generate_s = trace.stages.get("generate tokens", 0.0)
    rate = f", {frames / generate_s:.1f} frames per second of compute" if generate_s > 0 else ""
    return InsideView(
        "Time per stage", image,
        f"{trace.codec} encoded the recording into tokens, the model wrote {frames} frames{rate}, and {trace.codec} "
        f"decoded them into audio. The slowest stage was “{slowest}”: writing tokens one frame at a time is what "
        "makes codec LMs slow on a CPU.")


def xvector_view(trace: SpeechT5Trace) -> list[InsideView]:
    """The recording's 512-d x-vector next to the nearest CMU ARCTIC preset's (none without a recorded voice)."""
    if trace.xvector is None:
        return []
    fig = new_figure((10, 2.6))
    ax = fig.add_subplot()
    dims = np.arange(len(trace.xvector))
    ax.plot(dims, trace.xvector, lw=0.9, label="your recording")
    if trace.nearest_preset is not None:
        name, preset = trace.nearest_preset
        cosine = float(np.dot(trace.xvector, preset) / max(np.linalg.norm(trace.xvector) * np.linalg.norm(preset),
                                                           1e-8))
        ax.plot(dims, preset, lw=0.9, alpha=0.8, label=f"nearest preset: {name}")
        tail = (f"The nearest CMU ARCTIC preset is ‘{name}’ (cosine {cosine:.2f}): SpeechT5 now speaks with a voice "
                "vector it never saw in training, so it lands between the voices it knows.")
    else:
        tail = ("The CMU ARCTIC presets (a hub dataset) are unavailable here, so the nearest preset cannot be "
                "shown.")
    ax.set(xlabel="dimension", ylabel="value", title="SpeechT5's speaker input: the recording's x-vector (512-d)")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return [InsideView("Your voice as an x-vector", to_rgb(fig),
                       "speechbrain's x-vector model (the one that made SpeechT5's presets) turned the recording into "
                       f"512 numbers; SpeechT5's decoder reads them at every step. {tail}")]


def inside_views(trace: Trace | None) -> list[InsideView]:
    """The pictures for one synthesis run's trace (none when there is nothing to show)."""
    if isinstance(trace, SpeechT5Trace):
        return xvector_view(trace) + speecht5_views(trace)
    if isinstance(trace, CodecLmTrace):
        return codec_lm_views(trace)
    if isinstance(trace, BarkTrace):
        return bark_views(trace)
    if isinstance(trace, VitsTrace):
        return vits_views(trace)
    if isinstance(trace, PiperTrace):
        return piper_views(trace)
    return []


def render_inside(recording: TtsRecording, draw: bool = True) -> tuple[list, str]:
    """The TTS tab's gallery and card for a recorded run; with `draw=False` only the card, no picture drawn."""
    return (gallery_value(inside_views(recording.trace)) if draw else []), recording.card
