"""Postprocessing of transcripts for people: info line, subtitle/JSON files, the CTC table, the comparison."""

from __future__ import annotations

import html

from shared.outputs.results import new_result_path, write_json
from shared.outputs.subtitles import Cue, to_srt, to_vtt
from shared.outputs.text_metrics import cer, normalize, wer, word_diff_html
from shared.progress import timing_line
from shared.transcribe import ctc
from shared.transcribe.run import Transcript

CTC_ROWS = 400  # rows of the frame table; the caption says when the clip has more


def info_markdown(result: Transcript) -> str:
    if result.no_speech:
        return "**No speech detected** (Silero VAD found under 0.2 s of speech), so no text was invented."
    language = ""
    if result.language:
        probability = f" ({result.language_probability:.0%})" if result.language_probability is not None else ""
        language = f"**Language** `{result.language}`{probability} · "
    return f"{language}**{result.model_id}** · " + timing_line(result.device, result.dtype, result.compute_s,
                                                              result.audio_s, result.load_s)


def write_outputs(result: Transcript) -> list[str]:
    if not result.segments:
        return [write_json("transcript.json", result.to_json())]
    cues = [Cue(segment.start, segment.end, segment.text) for segment in result.segments]
    srt_path = new_result_path("transcript.srt")
    srt_path.write_text(to_srt(cues))
    vtt_path = new_result_path("transcript.vtt")
    vtt_path.write_text(to_vtt(cues))
    return [str(srt_path), str(vtt_path), write_json("transcript.json", result.to_json())]


def ctc_view_rows(result: Transcript) -> list[list]:
    frames = result.ctc
    if frames is None:
        return []
    rows = []
    previous = None
    for token, first, last in ctc.runs(frames.tokens)[:CTC_ROWS]:
        if token == frames.blank:
            action = "blank → dropped"
        elif token == previous:
            action = "same letter again after a blank → kept (a double letter)"
        else:
            action = "kept" if last == first else f"repeated over {last - first + 1} frames → merged into one"
        shown = "␣ (word break)" if token == frames.word_delimiter else ("∅ blank" if token == frames.blank
                                                                         else token)
        rows.append([f"{first}–{last}" if last > first else str(first),
                     f"{first * frames.frame_s:.2f}–{(last + 1) * frames.frame_s:.2f}", shown, action])
        previous = token if token != frames.blank else previous
    return rows


def ctc_view_markdown(result: Transcript, frames_shown: int = 60) -> str:
    frames = result.ctc
    if frames is None:
        return "The CTC view appears when a CTC model (wav2vec2 / HuBERT) is chosen."
    first = frames.tokens[:frames_shown]
    collapsed, steps = ctc.collapse(first, frames.blank)

    def show(token: str) -> str:
        return "_" if token == frames.blank else ("|" if token == frames.word_delimiter else token)

    merged = [show(step.token) for step in steps if step.reason != "repeat"]
    blank_share = sum(token == frames.blank for token in frames.tokens) / max(1, len(frames.tokens))
    more = f" (first {CTC_ROWS} runs in the table)" if len(ctc.runs(frames.tokens)) > CTC_ROWS else ""
    return (f"The model emits one token per **{frames.frame_s * 1000:.0f} ms frame** ({len(frames.tokens)} frames; "
            f"{blank_share:.0%} are the blank `_`). Greedy CTC decoding, first {len(first)} frames:\n\n"
            f"1. argmax per frame: `{' '.join(show(t) for t in first)}`\n"
            f"2. merge repeats: `{' '.join(merged)}`\n"
            f"3. drop blanks: `{' '.join(show(t) for t in collapsed)}`\n"
            f"4. `|` becomes a space: **{html.escape(ctc.tokens_to_text(collapsed, frames.word_delimiter))}**"
            f"\n\nA letter that really repeats (\"ll\") needs a blank between its frames.{more}")


def compare_rows(results: list[Transcript], reference: str = "") -> tuple[list[list], str]:
    """One row per model (WER/CER against the reference when given) and word-level diffs as HTML."""
    baseline = reference if reference.strip() else (results[0].text if results else "")
    against = "the reference text" if reference.strip() else f"the first model ({results[0].model_id})"
    rows = []
    diffs = [f"<p>Differences against {html.escape(against)}: <del>missing</del> <ins>different/extra</ins></p>"]
    for result in results:
        scored = bool(reference.strip())
        rows.append([result.model_id, round(wer(reference, result.text), 4) if scored else None,
                     round(cer(reference, result.text), 4) if scored else None, round(result.load_s, 2),
                     round(result.compute_s, 2), round(result.real_time_factor, 4),
                     f"{result.device}/{result.dtype}", result.text or "(no speech detected)"])
        diffs.append(f"<p><b>{html.escape(result.model_id)}</b>: "
                     f"{word_diff_html(baseline, result.text) if normalize(result.text) else '<i>no text</i>'}</p>")
    return rows, "\n".join(diffs)
