"""Word alignment for people: the karaoke view (words that light up as the audio plays, click one to hear it from
there), the word table, word-level SRT/VTT/JSON downloads, the info line with the aligner's notes, and the "Inside
the model" picture of the trellis with its best path and each word's span. Draws from a `WordAlignment`; no model
is called here."""

from __future__ import annotations

import html

import numpy as np

from shared.audio.plots import new_figure, to_rgb
from shared.inside import InsideView, gallery_value
from shared.outputs.results import new_result_path, write_json
from shared.outputs.subtitles import Cue, to_srt, to_vtt
from shared.progress import timing_line
from shared.transcribe.aligner import MISMATCH_SCORE, TrellisView, WordAlignment

KARAOKE_HINT = ('<div class="karaoke"><p class="karaoke-hint">Tick <b>Align words</b> and transcribe: the words '
                'then light up as the audio plays, and a click on a word plays from there.</p></div>')
LABELLED_ROWS = 60  # characters labelled on the trellis picture's axis (every n-th beyond that)
_PATH, _SPANS = "#00e5ff", ("#ffffff", "#ffd54f")


def karaoke_html(alignment: WordAlignment | None, audio_url: str | None = None, message: str = "") -> str:
    """The words as <span data-start data-end> (s) after an <audio> player for `audio_url`; the tab's script
    highlights the word being played and seeks on click. Low-scoring words are underlined. `message` (e.g. why
    there is no alignment) replaces the words."""
    if alignment is None:
        return f'<div class="karaoke"><p class="karaoke-hint">{html.escape(message)}</p></div>' if message \
            else KARAOKE_HINT
    player = (f'<audio class="karaoke-audio" controls preload="metadata" src="{html.escape(audio_url, quote=True)}">'
              "</audio>" if audio_url else "")
    words = " ".join(_word_span(word.text, word.start, word.end, word.score) for word in alignment.words)
    warning = (f'<p class="karaoke-warning">⚠ {html.escape(alignment.notes[-1])}</p>' if alignment.mismatch
               and alignment.notes else "")
    return f'<div class="karaoke">{player}{warning}<p class="karaoke-words">{words}</p></div>'


def _word_span(text: str, start: float, end: float, score: float | None) -> str:
    low = score is None or score < MISMATCH_SCORE
    scored = "not aligned" if score is None else f"score {score:.0%}"
    return (f'<span class="kw{" kw-low" if low else ""}" data-start="{start:.3f}" data-end="{end:.3f}" '
            f'title="{start:.2f}–{end:.2f} s · {scored}">{html.escape(text)}</span>')


def word_rows(alignment: WordAlignment | None) -> list[list]:
    """start (s), end (s), word, score: one row per word."""
    if alignment is None:
        return []
    return [[round(w.start, 2), round(w.end, 2), w.text, None if w.score is None else round(w.score, 3)]
            for w in alignment.words]


def write_word_outputs(alignment: WordAlignment, stem: str = "words") -> list[str]:
    """Word-level subtitles (one cue per word) as SRT and VTT, and the alignment as JSON: the three file paths."""
    cues = [Cue(w.start, max(w.end, w.start), w.text) for w in alignment.words]
    paths = []
    for suffix, text in ((".srt", to_srt(cues)), (".vtt", to_vtt(cues))):
        path = new_result_path(stem + suffix)
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return [*paths, write_json(stem + ".json", alignment.to_json())]


def alignment_markdown(alignment: WordAlignment) -> str:
    """The line under the karaoke view: aligner, mean score, timing, and the notes (dropped characters, ...)."""
    score = "–" if alignment.score is None else f"{alignment.score:.0%}"
    lines = [f"**Aligned {len(alignment.words)} words** with `{alignment.model_id}` · mean word score {score} · "
             + timing_line(alignment.device, alignment.dtype, alignment.compute_s, alignment.audio_s, alignment.load_s)]
    lines += [f"- {html.escape(note)}" for note in alignment.notes]
    return "\n".join(lines)


# ---- inside the model: the trellis ----------------------------------------------------------------------------------
def trellis_picture(view: TrellisView) -> InsideView:
    """Characters (rows, top to bottom in reading order) × frames: each cell the model's log-probability of that
    character at that frame; the best path in cyan, each word boxed (its characters' rows over its span) and named
    above."""
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Rectangle

    rows, frames = view.log_probs.shape
    fig = new_figure((10, 4.8))
    ax = fig.add_subplot()
    extent = (0, frames * view.frame_s, rows - 0.5, -0.5)
    image = ax.imshow(np.maximum(view.log_probs, -20.0), aspect="auto", extent=extent, cmap="magma", vmin=-20,
                      vmax=0, interpolation="nearest")
    on_path = view.path >= 0
    times = (np.arange(len(view.path)) + 0.5) * view.frame_s
    ax.plot(times[on_path], view.path[on_path], ".", color=_PATH, ms=2.5)
    for index, (_, start, end) in enumerate(view.words):
        first, last = word_box_rows(view, start, end)
        color = _SPANS[index % 2]
        ax.add_patch(Rectangle((start * view.frame_s, first - 0.5), (min(end, frames) - start) * view.frame_s,
                               last - first + 1, facecolor=to_rgba(color, 0.2), edgecolor=color, lw=1.2))
    top = ax.twiny()  # the words above their spans
    top.set_xlim(ax.get_xlim())
    top.set_xticks([(start + min(end, frames)) / 2 * view.frame_s for _, start, end in view.words],
                   [word for word, _, _ in view.words], fontsize=7, rotation=90 if len(view.words) > 20 else 0)
    step = max(1, int(np.ceil(rows / LABELLED_ROWS)))
    ax.set_yticks(np.arange(0, rows, step), [_shown(label) for label in view.labels[::step]], fontsize=6)
    ax.set(xlabel="time (s)", ylabel="transcript character")
    fig.colorbar(image, ax=ax, pad=0.01, label="log-probability")
    return InsideView("Forced alignment: the trellis and its best path", to_rgb(fig), _trellis_caption(view))


def word_box_rows(view: TrellisView, start: int, end: int) -> tuple[int, int]:
    """The first and last character row the best path visits in a word's frames [start, end); every row when the
    word's characters lie below the rows shown."""
    rows = view.path[start:end]
    rows = rows[rows >= 0]
    return (int(rows.min()), int(rows.max())) if len(rows) else (0, len(view.labels) - 1)


def _shown(label: str) -> str:
    return "␣" if label in ("|", " ") else label


def _trellis_caption(view: TrellisView) -> str:
    rows, frames = view.log_probs.shape
    part = ""
    if view.total_frames > frames or view.total_tokens > rows:
        part = (f" Shown: the first {frames * view.frame_s:.0f} s ({frames} of {view.total_frames} frames) and the "
                f"first {rows} of {view.total_tokens} characters.")
    band = (" This clip is long, so the search kept to a band of about ±30 s of text around where the model's "
            "non-blank frames say the text should be (bounded memory)." if view.banded else "")
    return ("Forced alignment knows the text and asks only *when* each character is said. Each row is one character "
            "of the transcript in order (␣ is the word break), each column a "
            f"{view.frame_s * 1000:.0f} ms frame; brighter means the CTC model found that character more likely "
            "there. The best path (cyan) moves down one character at a time, never back, and may rest on the blank "
            "between characters (no dot); Viterbi's dynamic programme picks the path with the highest total "
            "log-probability. Each box is one word (named above it): its characters' rows, from its first character's "
            "first frame to its last character's last frame." + band + part)


def render_alignment_inside(alignment: WordAlignment | None, draw: bool = True) -> tuple[list, str]:
    """The "Align text" tab's gallery (the trellis) and card."""
    if alignment is None or alignment.trellis is None:
        return [], ""
    card = (f"**Forced alignment with a CTC model** — `{alignment.model_id}`  \nThe CTC model reads the audio once "
            "(frames of 20 ms, in 30 s windows); the transcript's characters are then threaded through its per-frame "
            "probabilities by dynamic programming (the same recursion as `torchaudio.functional.forced_align`).")
    return (gallery_value([trellis_picture(alignment.trellis)]) if draw else []), card

