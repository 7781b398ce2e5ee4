"""A transcript for people: the info line under the result, the SRT/VTT/JSON downloads, the "How CTC turns frames
into text" table and walkthrough, the model comparison rows with word diffs, one file's row of a batch, and the live
view (committed text black, tentative grey, with words, latency and real-time factor)."""

from __future__ import annotations

import html
import statistics

from shared.models.registry import get_spec
from shared.outputs.batch import ItemResult, json_text
from shared.outputs.results import new_result_path, write_json
from shared.outputs.subtitles import Cue, to_srt, to_vtt
from shared.outputs.text_metrics import cer, normalize, wer, word_diff_html
from shared.progress import real_time_factor, timing_line
from shared.transcribe import ctc
from shared.transcribe.live import LiveStream, LiveUpdate
from shared.transcribe.run import Transcript

CTC_ROWS = 400  # rows of the frame table; the caption says when the clip has more
TEXT_PREVIEW_CHARS = 200  # of a batch file's transcript in the summary
TRANSCRIBE_COLUMNS = ("language", "segments", "text")  # the batch summary's own columns
COMPARE_HEADERS = ["model", "engine", "architecture", "year", "params (M)", "languages", "WER", "CER", "load (s)",
                   "compute (s)", "RTF", "device", "text"]


def info_markdown(result: Transcript) -> str:
    """The markdown line under the transcript: language (with its probability), model, timing line."""
    if result.no_speech:
        return "**No speech detected** (Silero VAD found under 0.2 s of speech), so no text was invented."
    language = ""
    if result.language:
        probability = f" ({result.language_probability:.0%})" if result.language_probability is not None else ""
        language = f"**Language** `{result.language}`{probability} · "
    return f"{language}**{result.model_id}** · " + timing_line(result.device, result.dtype, result.compute_s,
                                                              result.audio_s, result.load_s)


def segment_rows(result: Transcript) -> list[list]:
    """The segments table: start (s), end (s), text."""
    return [[round(s.start, 2), round(s.end, 2), s.text] for s in result.segments]


def _cues(result: Transcript) -> list[Cue]:
    return [Cue(segment.start, segment.end, segment.text) for segment in result.segments]


def write_outputs(result: Transcript) -> list[str]:
    """The download paths: subtitles (`.srt`, `.vtt`) when there are segments, and the transcript's JSON."""
    if not result.segments:
        return [write_json("transcript.json", result.to_json())]
    cues = _cues(result)
    srt_path = new_result_path("transcript.srt")
    srt_path.write_text(to_srt(cues))
    vtt_path = new_result_path("transcript.vtt")
    vtt_path.write_text(to_vtt(cues))
    return [str(srt_path), str(vtt_path), write_json("transcript.json", result.to_json())]


def ctc_view_rows(result: Transcript) -> list[list]:
    """The CTC table: per run of identical frames, its frames, time span (s), token and what decoding does with
    it (first CTC_ROWS runs); empty for a model that is not CTC."""
    frames = result.ctc
    if frames is None:
        return []
    rows = []
    previous = None
    for token, first, last in ctc.runs(frames.tokens)[:CTC_ROWS]:
        shown = "␣ (word break)" if token == frames.word_delimiter else ("∅ blank" if token == frames.blank
                                                                         else token)
        rows.append([f"{first}–{last}" if last > first else str(first),
                     f"{first * frames.frame_s:.2f}–{(last + 1) * frames.frame_s:.2f}", shown,
                     _ctc_action(token, previous, first, last, frames.blank)])
        previous = token if token != frames.blank else previous
    return rows


def _ctc_action(token: str, previous: str | None, first: int, last: int, blank: str) -> str:
    if token == blank:
        return "blank → dropped"
    if token == previous:
        return "same letter again after a blank → kept (a double letter)"
    return "kept" if last == first else f"repeated over {last - first + 1} frames → merged into one"


def ctc_view_markdown(result: Transcript, frames_shown: int = 60) -> str:
    """The four steps of greedy CTC decoding on the first `frames_shown` frames, as markdown."""
    frames = result.ctc
    if frames is None:
        return "The CTC view appears when a CTC model (wav2vec2 / HuBERT / Parakeet CTC) is chosen."
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
            f"4. `{frames.word_delimiter}` (where a word starts) becomes a space: "
            f"**{html.escape(ctc.tokens_to_text(collapsed, frames.word_delimiter))}**"
            f"\n\nA letter that really repeats (\"ll\") needs a blank between its frames.{more}")


def compare_rows(results: list[Transcript], reference: str = "") -> tuple[list[list], str]:
    """One row per model under COMPARE_HEADERS (its engine, architecture, year, parameters and languages from the
    registry; WER/CER against the reference when given; load and compute seconds, RTF) and word-level diffs as
    HTML."""
    baseline = reference if reference.strip() else (results[0].text if results else "")
    against = "the reference text" if reference.strip() else f"the first model ({results[0].model_id})"
    diffs = [f"<p>Differences against {html.escape(against)}: <del>missing</del> <ins>different/extra</ins></p>"]
    for result in results:
        diffs.append(f"<p><b>{html.escape(result.model_id)}</b>: "
                     f"{word_diff_html(baseline, result.text) if normalize(result.text) else '<i>no text</i>'}</p>")
    return [_compare_row(result, reference) for result in results], "\n".join(diffs)


def _compare_row(result: Transcript, reference: str) -> list:
    """The COMPARE_HEADERS cells of one model (WER and CER None without a reference)."""
    scored = bool(reference.strip())
    facts = get_spec(result.model_id).facts
    return [result.model_id, result.engine, facts["architecture"], facts["year"], facts["params (M)"],
            facts["languages"],
            round(wer(reference, result.text), 4) if scored else None,
            round(cer(reference, result.text), 4) if scored else None, round(result.load_s, 2),
            round(result.compute_s, 2), round(result.real_time_factor, 4), f"{result.device}/{result.dtype}",
            result.text or "(no speech detected)"]


def batch_item(result: Transcript) -> ItemResult:
    """One file of a batch: its outputs (`.srt`, `.json`) and its row of the summary (TRANSCRIBE_COLUMNS)."""
    text = result.text if len(result.text) <= TEXT_PREVIEW_CHARS else result.text[:TEXT_PREVIEW_CHARS] + "…"
    return ItemResult({".srt": to_srt(_cues(result)), ".json": json_text(result.to_json())}, result.audio_s,
                      result.compute_s, result.load_s, result.device, result.dtype,
                      {"language": result.language or "", "segments": len(result.segments),
                       "text": text if not result.no_speech else "(no speech detected)"})


def live_html(update: LiveUpdate | None) -> str:
    """The live transcript: committed text (final) in the page's colour, tentative text (may change) in grey."""
    if update is None or not update.text:
        return '<div class="live-transcript"><span class="live-tentative">(listening…)</span></div>'
    return ('<div class="live-transcript">'
            f'<span class="live-committed">{html.escape(update.committed)}</span> '
            f'<span class="live-tentative" style="color: #888">{html.escape(update.tentative)}</span></div>')


def live_stats(stream: LiveStream) -> str:
    """One line under the live transcript: words committed, commit latency (median and p90, s), real-time factor
    (compute s per s of audio) and the working buffer (s)."""
    latencies = sorted(stream.latencies_s)
    words = stream.word_count
    latency = (f"latency {statistics.median(latencies):.2f} s (p90 {latencies[int(0.9 * (len(latencies) - 1))]:.2f} s)"
               if latencies else "latency –")
    rtf = real_time_factor(stream.compute_s, stream.audio_s)
    return (f"**{words} words** · {latency} · real-time factor {rtf:.2f} · {stream.audio_s:.1f} s heard · "
            f"buffer {stream.buffer_s:.1f} s")


def live_ending(update: LiveUpdate, stream: LiveStream) -> tuple[str, str, list[list], list[str]]:
    """A finished live stream's outputs: the live view, its stats with the transcript's info line, the segments
    table and the SRT/VTT/JSON downloads."""
    result = stream.transcript()
    return (live_html(update), live_stats(stream) + "  \n" + info_markdown(result), segment_rows(result),
            write_outputs(result))
