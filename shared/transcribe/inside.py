"""The Transcribe tab's "Inside the model" views, drawn from what the run kept (`Transcript.inside`): Whisper's
log-mel input, the decoded tokens with their probabilities and times, the detected-language probabilities, and
the CTC emission matrix with its greedy path. No model is called here."""

from __future__ import annotations

import html

import numpy as np

from shared.audio.plots import new_figure, pool_columns, to_rgb, whisper_input_image
from shared.inside import InsideView, gallery_value
from shared.transcribe.capture import AsrInside, DecodedToken
from shared.transcribe.run import Transcript

LOW_CONFIDENCE = 0.5  # a token/word under this probability is marked as low-confidence
TOKENS_SHOWN = 80  # bars in the token picture (about what stays legible at the plot width)
MARKED_WORDS = 400  # words in the marked transcript
TOP_LANGUAGES = 5
_OK, _LOW, _TIME = "#2b8cbe", "#d7301f", "#9e9e9e"


def inside_views(result: Transcript) -> list[InsideView]:
    """The pictures for this run, in reading order (input → decoding → language); empty when nothing ran."""
    kept = result.inside
    if kept is None or result.no_speech:
        return []
    views = []
    if kept.log_mel is not None:
        views.append(log_mel_view(kept.log_mel, result.audio_s))
    if kept.tokens:
        views.append(tokens_view(kept.tokens, kept.tokens_unit, result.audio_s))
    if kept.languages:
        views.append(language_view(kept.languages))
    if kept.emissions is not None:
        views.append(emission_view(kept, result.ctc.frame_s if result.ctc else 0.02,
                                   len(result.ctc.tokens) if result.ctc else len(kept.emissions)))
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
def log_mel_view(log_mel: np.ndarray, audio_s: float) -> InsideView:
    image = whisper_input_image(pool_columns(log_mel), audio_s)
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


def emission_view(kept: AsrInside, frame_s: float, total_frames: int) -> InsideView:
    emissions = kept.emissions
    frames, vocabulary = emissions.shape
    path = emissions.argmax(axis=1)
    fig = new_figure((10, 4.2))
    ax = fig.add_subplot()
    shown = pool_columns(emissions.T)  # already at most CTC_VIEW_FRAMES columns
    extent = (0, frames * frame_s, -0.5, vocabulary - 0.5)
    image = ax.imshow(np.maximum(shown, -20.0), origin="lower", aspect="auto", extent=extent, cmap="magma",
                      vmin=-20, vmax=0, interpolation="nearest")
    times = (np.arange(frames) + 0.5) * frame_s
    ax.plot(times, path, color="#00e5ff", lw=0.9, drawstyle="steps-mid")
    labels = [_ctc_label(kept.emission_labels[i] if i < len(kept.emission_labels) else None, kept.blank_id, i)
              for i in range(vocabulary)]
    ax.set_yticks(np.arange(vocabulary), labels, fontsize=6 if vocabulary > 24 else 8)
    of = f" (first {frames} of {total_frames} frames)" if total_frames > frames else ""
    ax.set(xlabel="time (s)", ylabel="character", title=f"CTC emissions{of}: log-probability per frame and character")
    fig.colorbar(image, ax=ax, pad=0.01, label="log-probability")
    rgb = to_rgb(fig)
    blanks = int(np.sum(path == kept.blank_id))
    caption = (f"Each column is one {frame_s * 1000:.0f} ms frame, each row a character (∅ is CTC's blank, ␣ the "
               "word break); brighter means more likely. The cyan line is the greedy path — each frame's best "
               "character — which the \"How CTC turns frames into text\" table collapses into text. Here the "
               f"path spends {blanks} of {frames} frames on the blank.")
    if total_frames > frames:
        caption += f" Shown: the first {frames * frame_s:.0f} s ({frames} of {total_frames} frames)."
    return InsideView("CTC emission matrix", rgb, caption)
