"""The Transcribe tab's "Inside the model" views, drawn from what the run kept (`Transcript.inside`): Whisper's
log-mel input, the decoded tokens with their probabilities and times, the detected-language probabilities, the
CTC emission matrix with its greedy path, the Token-and-Duration Transducer's steps (the frame each token was emitted
at and the duration it predicted), and Moonshine's variable-length encoder beside Whisper's padded 30 s window. No
model is called here."""

from __future__ import annotations

import html

import numpy as np

from shared.audio.plots import new_figure, pool_columns, to_rgb, whisper_window_image
from shared.inside import InsideView, gallery_value
from shared.transcribe.capture import AsrInside, DecodedToken, EncodedChunk, TdtStep
from shared.transcribe.run import Transcript

LOW_CONFIDENCE = 0.5  # a token/word under this probability is marked as low-confidence
TOKENS_SHOWN = 80  # bars in the token picture (about what stays legible at the plot width)
MARKED_WORDS = 400  # words in the marked transcript
TOP_LANGUAGES = 5
CTC_ROWS_SHOWN = 40  # vocabulary rows in the emission picture when the vocabulary is larger (sentencepiece)
TDT_STEPS_SHOWN = 60  # transducer steps in the TDT picture (about what stays legible)
WHISPER_WINDOW_S = 30.0  # Whisper's encoder always reads one 30 s window
WHISPER_WINDOW_FRAMES = 1500  # encoder frames per Whisper window (20 ms each)
_OK, _LOW, _TIME = "#2b8cbe", "#d7301f", "#9e9e9e"


def inside_views(result: Transcript) -> list[InsideView]:
    """The pictures for this run, in reading order (input → decoding → language); empty when nothing ran."""
    kept = result.inside
    if kept is None or result.no_speech:
        return []
    views = []
    if kept.log_mel is not None:
        views.append(log_mel_view(kept.log_mel, result.audio_s, kept.input_image))
    if kept.tokens:
        views.append(tokens_view(kept.tokens, kept.tokens_unit, result.audio_s))
    if kept.languages:
        views.append(language_view(kept.languages))
    if kept.emissions is not None:
        views.append(emission_view(kept, result.ctc.frame_s if result.ctc else 0.02,
                                   len(result.ctc.tokens) if result.ctc else len(kept.emissions)))
    if kept.tdt_steps:
        views.append(tdt_view(kept.tdt_steps, kept.tdt_frame_s))
    if kept.encoded_chunks:
        views.append(encoder_length_view(kept.encoded_chunks, result.audio_s))
    return views


def inside_markdown(result: Transcript) -> str:
    """The architecture card plus what has no picture: the language note and the transcript with its
    low-confidence words marked."""
    kept = result.inside
    if result.no_speech:
        return "**No speech detected**: the speech-recognition model was not run, so there is nothing to show."
    if kept is None:
        return ""
    parts = [kept.card]
    if kept.language_note:
        parts.append(f"*Language:* {kept.language_note}")
    if kept.tokens_note:
        parts.append(f"*Tokens:* {kept.tokens_note}")
    marked = marked_transcript(kept.tokens, kept.tokens_unit)
    if marked:
        scope = " (first 30 s window)" if kept.tokens_unit == "token" and result.audio_s > 30 else ""
        parts.append(f"*Transcript{scope}, words under {LOW_CONFIDENCE:.0%} confidence marked:* {marked}")
    return "\n\n".join(part for part in parts if part)


def render_inside(result: Transcript, draw: bool = True) -> tuple[list, str]:
    """The Transcribe tab's gallery and card for a run (the run is its own recording: `Transcript.inside`); with
    `draw=False` only the card, no picture drawn."""
    return (gallery_value(inside_views(result)) if draw else []), inside_markdown(result)


# ---- Whisper --------------------------------------------------------------------------------------------------------
def log_mel_view(log_mel: np.ndarray, audio_s: float, image: np.ndarray | None = None) -> InsideView:
    """Whisper's input window with its caption; `image` when the run already drew it (while the engine decoded)."""
    image = whisper_window_image(log_mel, audio_s) if image is None else image
    shown = min(audio_s, 30.0)
    padding = f" The clip fills {shown:.1f} s; the rest of the window (right of the dashed line) is padding." \
        if audio_s < 30 else " Longer audio is cut into 30 s windows; this is the first."
    return InsideView("Whisper's input", image,
                      f"The log-mel spectrogram the encoder reads: {log_mel.shape[0]} mel bands (rows, low pitch at "
                      "the bottom) by 10 ms frames (columns) over one 30 s window; brighter means louder." + padding)


def token_words(tokens: list[DecodedToken], unit: str) -> list[tuple[str, float | None]]:
    """Text tokens grouped into words (a token starting with a space starts a word); a word's confidence is its
    least probable token. Word and segment units pass through."""
    if unit != "token":
        return [(token.text.strip(), token.probability) for token in tokens if token.text.strip()]
    words: list[tuple[str, float | None]] = []
    for token in tokens:
        if token.timestamp or not token.text.strip():
            continue
        if words and not token.text.startswith(" "):
            text, probability = words[-1]
            lowest = min((p for p in (probability, token.probability) if p is not None), default=None)
            words[-1] = (text + token.text, lowest)
        else:
            words.append((token.text.strip(), token.probability))
    return words


def marked_transcript(tokens: list[DecodedToken], unit: str) -> str:
    """Markdown/HTML: the words in order, low-confidence ones in <mark> with their probability."""
    words = token_words(tokens, unit)
    pieces = []
    for text, probability in words[:MARKED_WORDS]:
        escaped = html.escape(text)
        if probability is not None and probability < LOW_CONFIDENCE:
            pieces.append(f"<mark title=\"{probability:.0%}\">{escaped}</mark><sub>{probability:.0%}</sub>")
        else:
            pieces.append(escaped)
    more = f" … (first {MARKED_WORDS} of {len(words)} words)" if len(words) > MARKED_WORDS else ""
    return " ".join(pieces) + more


def _label(token: DecodedToken, unit: str, width: int = 14) -> str:
    text = token.text.replace("\n", " ").strip() or "␣"
    text = text if len(text) <= width else text[: width - 1] + "…"
    if unit != "token" and token.time is not None:  # words and segments carry their own start time
        text += f" · {token.time:.1f}s"
    return text


def tokens_view(tokens: list[DecodedToken], unit: str, audio_s: float) -> InsideView:
    shown = tokens[:TOKENS_SHOWN]
    probabilities = np.array([np.nan if t.probability is None else t.probability for t in shown], dtype=float)
    colours = [_TIME if t.timestamp else (_LOW if (t.probability or 0) < LOW_CONFIDENCE else _OK) for t in shown]
    fig = new_figure((10, 3.4))
    ax = fig.add_subplot()
    positions = np.arange(len(shown))
    ax.bar(positions, np.nan_to_num(probabilities), color=colours, width=0.8)
    ax.axhline(LOW_CONFIDENCE, color=_LOW, ls="--", lw=0.8)
    ax.set_xticks(positions, [_label(t, unit) for t in shown], rotation=90, fontsize=7 if len(shown) > 30 else 9)
    ax.set_xlim(-0.6, max(len(shown), 1) - 0.4)
    ax.set_ylim(0, 1.02)
    noun = {"token": "tokens", "word": "words", "segment": "segments"}[unit]
    of = f" (first {len(shown)} of {len(tokens)})" if len(tokens) > len(shown) else ""
    ax.set(ylabel="probability", title=f"Decoded {noun}{of}: how sure the model was of each choice")
    image = to_rgb(fig)
    scored = [t for t in tokens if not t.timestamp and t.probability is not None]
    low = sum(t.probability < LOW_CONFIDENCE for t in scored)
    if unit == "token":
        scope = " in the first 30 s window" if audio_s > 30 else ""
        how = ("Each bar is one token the decoder wrote, left to right; its height is the probability the model "
               "gave that token when it chose it. Grey bars are timestamp tokens (segment starts and ends, time "
               f"in brackets); red bars are under {LOW_CONFIDENCE:.0%}")
        count = f": {low} of {len(scored)} text tokens{scope}."
    elif unit == "word":
        how = ("Each bar is one word, in order, labelled with its start time; its height is the engine's "
               f"probability for that word. Red bars are under {LOW_CONFIDENCE:.0%}")
        count = f": {low} of {len(scored)} words."
    else:
        how = ("faster-whisper reports one average token probability per 30 s decoding window (choose word "
               "timestamps for per-word probabilities); each bar is a segment, labelled with its start time. "
               f"Red bars are under {LOW_CONFIDENCE:.0%}")
        count = f": {low} of {len(scored)} segments."
    return InsideView("Decoded tokens and their probabilities", image, how + count)


def language_view(languages: dict[str, float]) -> InsideView:
    ranked = sorted(languages.items(), key=lambda item: item[1], reverse=True)[:TOP_LANGUAGES]
    fig = new_figure((10, 2.4))
    ax = fig.add_subplot()
    codes = [code for code, _ in ranked][::-1]
    values = [probability for _, probability in ranked][::-1]
    bars = ax.barh(codes, values, color=[_OK] * (len(values) - 1) + ["#fdae61"])
    for bar, value in zip(bars, values, strict=True):
        ax.text(min(value + 0.01, 0.9), bar.get_y() + bar.get_height() / 2, f"{value:.1%}", va="center", fontsize=9)
    ax.set_xlim(0, 1)
    ax.set(xlabel="probability", title=f"Detected language: top {len(ranked)} of {len(languages)}")
    image = to_rgb(fig)
    best, best_p = ranked[0]
    return InsideView("Language detection", image,
                      f"Whisper's first decoding step scores every language token after the start token; this is "
                      f"that step's distribution over the first 30 s window. It chose `{best}` ({best_p:.0%}) and "
                      "wrote the rest in that language.")


# ---- CTC ------------------------------------------------------------------------------------------------------------
def _ctc_label(label: str | None, blank_id: int, index: int) -> str:
    if index == blank_id:
        return "∅ blank"
    return {"|": "␣ (space)", None: "?"}.get(label, label)


def emission_rows(emissions: np.ndarray, blank_id: int, most: int = CTC_ROWS_SHOWN) -> np.ndarray:
    """The vocabulary rows worth drawing, in vocabulary order: all of a small (character) vocabulary; of a large
    (sentencepiece) one the blank, every token on the greedy path, then the most likely others, `most` in all."""
    vocabulary = emissions.shape[1]
    if vocabulary <= most:
        return np.arange(vocabulary)
    chosen = list(dict.fromkeys([blank_id, *(int(i) for i in emissions.argmax(axis=1))]))[:most]
    for index in np.argsort(-emissions.max(axis=0), kind="stable"):
        if len(chosen) >= most:
            break
        if int(index) not in chosen:
            chosen.append(int(index))
    return np.sort(np.array(chosen))


def emission_view(kept: AsrInside, frame_s: float, total_frames: int) -> InsideView:
    rows = emission_rows(kept.emissions, kept.blank_id)
    emissions = kept.emissions[:, rows]
    frames, vocabulary = emissions.shape
    path = np.searchsorted(rows, kept.emissions.argmax(axis=1))  # the greedy path's row in the drawn matrix
    fig = new_figure((10, 4.2))
    ax = fig.add_subplot()
    shown = pool_columns(emissions.T)  # already at most CTC_VIEW_FRAMES columns
    extent = (0, frames * frame_s, -0.5, vocabulary - 0.5)
    image = ax.imshow(np.maximum(shown, -20.0), origin="lower", aspect="auto", extent=extent, cmap="magma",
                      vmin=-20, vmax=0, interpolation="nearest")
    times = (np.arange(frames) + 0.5) * frame_s
    ax.plot(times, path, color="#00e5ff", lw=0.9, drawstyle="steps-mid")
    labels = [_ctc_label(kept.emission_labels[i] if i < len(kept.emission_labels) else None, kept.blank_id, i)
              for i in rows]
    ax.set_yticks(np.arange(vocabulary), labels, fontsize=6 if vocabulary > 24 else 8)
    of = f" (first {frames} of {total_frames} frames)" if total_frames > frames else ""
    unit = "character" if len(kept.emission_labels) <= CTC_ROWS_SHOWN else "token"
    ax.set(xlabel="time (s)", ylabel=unit, title=f"CTC emissions{of}: log-probability per frame and {unit}")
    fig.colorbar(image, ax=ax, pad=0.01, label="log-probability")
    rgb = to_rgb(fig)
    blanks = int(np.sum(kept.emissions.argmax(axis=1) == kept.blank_id))
    caption = (f"Each column is one {frame_s * 1000:.0f} ms frame, each row a {unit} (∅ is CTC's blank, ␣ the "
               "word break); brighter means more likely. The cyan line is the greedy path — each frame's best "
               "character — which the \"How CTC turns frames into text\" table collapses into text. Here the "
               f"path spends {blanks} of {frames} frames on the blank.")
    if total_frames > frames:
        caption += f" Shown: the first {frames * frame_s:.0f} s ({frames} of {total_frames} frames)."
    if len(rows) < len(kept.emission_labels):
        caption += (f" Rows: {len(rows)} of the {len(kept.emission_labels)} sentencepiece tokens (the blank, those "
                    "on the path and the most likely others); '▁' starts a word.")
    return InsideView("CTC emission matrix", rgb, caption)


# ---- Token-and-Duration Transducer ----------------------------------------------------------------------------------
def tdt_view(steps: list[TdtStep], frame_s: float) -> InsideView:
    """Each decoding step as a bar: it starts at the frame the step looked at and is as long as the duration it
    predicted (the frames then skipped); tokens blue and labelled, blanks grey."""
    shown = steps[:TDT_STEPS_SHOWN]
    fig = new_figure((10, 4.6))
    ax = fig.add_subplot()
    for index, step in enumerate(shown):
        start, width = step.offset_s + step.frame * frame_s, max(step.duration, 0.15) * frame_s
        ax.barh(index, width, left=start, height=0.7, color=_TIME if step.blank else _OK)
        if not step.blank:
            ax.text(start + width + frame_s * 0.2, index, f"{step.token} ·{step.duration}", va="center", fontsize=7)
    ax.invert_yaxis()
    ax.set_yticks([])
    first, last = shown[0], shown[-1]
    ax.set_xlim(first.offset_s + first.frame * frame_s,
                last.offset_s + (last.frame + max(last.duration, 1) + 6) * frame_s)
    of = f" (first {len(shown)} of {len(steps)})" if len(steps) > len(shown) else ""
    ax.set(xlabel="time (s)", ylabel="decoding step ↓",
           title=f"Transducer steps{of}: frame looked at (bar start) and predicted duration (bar length)")
    image = to_rgb(fig)
    tokens = sum(not step.blank for step in steps)
    visited = len({(step.offset_s, step.frame) for step in steps})
    ends: dict[float, int] = {}
    for step in steps:
        ends[step.offset_s] = max(ends.get(step.offset_s, 0), step.frame + max(step.duration, 1))
    return InsideView("Token-and-Duration Transducer", image,
                      f"Each row is one decoding step, top to bottom. A step looks at one {frame_s * 1000:.0f} ms "
                      "encoder frame (where its bar starts) and predicts two things: the next token, or 'blank' "
                      "(grey) when nothing new is said there, and a duration: how many frames to jump before the "
                      "next step (the bar's length; the number after each token). Duration 0 means another token "
                      f"from the same frame. Here {tokens} tokens and {len(steps) - tokens} blanks in {len(steps)} "
                      f"steps; the joint network looked at {visited} of the {sum(ends.values())} frames of the "
                      "speech, where CTC scores every frame. The frame a token is emitted at is its timestamp.")


# ---- Moonshine's variable-length encoder --------------------------------------------------------------------------
def encoder_length_view(chunks: list[EncodedChunk], audio_s: float) -> InsideView:
    """What the encoder read: Whisper's fixed 30 s windows (the clip, then padding) against the chunks Moonshine
    encoded at their own length, with the encoder frames each made."""
    windows = max(1, int(np.ceil(audio_s / WHISPER_WINDOW_S)))
    fig = new_figure((10, 2.8))
    ax = fig.add_subplot()
    for index in range(windows):
        left = index * WHISPER_WINDOW_S
        filled = min(WHISPER_WINDOW_S, max(0.0, audio_s - left))
        ax.barh(1, filled, left=left, height=0.6, color=_OK, edgecolor="white")
        ax.barh(1, WHISPER_WINDOW_S - filled, left=left + filled, height=0.6, color="#f0f0f0", edgecolor=_TIME,
                hatch="//")
    for chunk in chunks:
        ax.barh(0, chunk.end - chunk.start, left=chunk.start, height=0.6, color="#fdae61", edgecolor="white")
        ax.text((chunk.start + chunk.end) / 2, 0, str(chunk.frames), ha="center", va="center", fontsize=8)
    whisper_frames = windows * WHISPER_WINDOW_FRAMES
    moonshine_frames = sum(chunk.frames for chunk in chunks)
    ax.set_yticks([0, 1], [f"Moonshine: {moonshine_frames} frames", f"Whisper: {whisper_frames} frames"])
    ax.set_xlim(0, windows * WHISPER_WINDOW_S)
    ax.set(xlabel="time (s)", title="What the encoder reads: Whisper's padded 30 s window vs Moonshine's own length")
    image = to_rgb(fig)
    padding = windows * WHISPER_WINDOW_S - audio_s
    return InsideView("Variable-length encoder", image,
                      f"Whisper's encoder always reads whole 30 s windows: this {audio_s:.1f} s clip takes {windows} "
                      f"window(s), {whisper_frames} encoder frames, of which {padding:.1f} s is padding (hatched). "
                      f"Moonshine encoded only the {len(chunks)} speech chunk(s) Silero VAD found, each at its own "
                      f"length (the number in each orange bar is its encoder frames): {moonshine_frames} frames in "
                      "all. Encoder work grows with the frames (attention with their square), so short clips are "
                      "cheap for Moonshine and cost Whisper a full window.")
