"""Diarization results for people: the timeline figure (and the speaker colours "Inside the model" shares), the
turns table, the info and evaluation lines, the downloadable files (RTTM, JSON, speaker-tagged text and SRT) and one
file's row of a batch."""

from __future__ import annotations

import re

import numpy as np

from shared.audio.play_timeline import TimelineItem, play_timeline_html
from shared.audio.plots import new_figure, to_rgb, waveform_envelope
from shared.diarize.rttm import Turn, to_rttm
from shared.diarize.run import Diarization
from shared.diarize.scoring import Evaluation
from shared.diarize.who_said_what import WhoSaidWhat, tagged_srt, tagged_text
from shared.outputs.batch import ItemResult
from shared.outputs.results import new_result_path, write_json
from shared.progress import timing_line

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
UNMATCHED = "#b0b0b0"
DIARIZE_COLUMNS = ("speakers", "turns")  # the batch summary's own columns
SPEECH_LANE = "speech (VAD)"


def speaker_colors(speakers: list[str]) -> dict[str, str]:
    """The colour of each speaker, in order of first appearance: the same in the timeline and inside the model."""
    return {speaker: PALETTE[index % len(PALETTE)] for index, speaker in enumerate(speakers)}


def _lanes(ax, turns: list[Turn], speakers: list[str], colors: dict[str, str], top: float) -> list[float]:
    """One horizontal lane per speaker, top to bottom; returns the lanes' centres."""
    centres = []
    for index, speaker in enumerate(speakers):
        y = top - index
        spans = [(turn.start, turn.duration) for turn in turns if turn.speaker == speaker]
        ax.broken_barh(spans, (y - 0.4, 0.8), facecolors=colors.get(speaker, UNMATCHED), linewidth=0)
        centres.append(y)
    return centres


def timeline_image(samples: np.ndarray, sample_rate: int, diarization: Diarization,
                   reference: list[Turn] | None = None, evaluation: Evaluation | None = None) -> np.ndarray:
    """The waveform coloured by speaker, one lane per speaker under it, and the reference's lanes (coloured like the
    hypothesis speaker they were matched to) under those when a reference is given."""
    duration = len(samples) / sample_rate
    speakers = diarization.speakers
    colors = speaker_colors(speakers)
    ref_speakers = list(dict.fromkeys(t.speaker for t in sorted(reference or [], key=lambda t: t.start)))
    matched = {ref: hyp for hyp, ref in (evaluation.mapping if evaluation else {}).items()}
    ref_colors = {ref: colors.get(matched.get(ref, ""), UNMATCHED) for ref in ref_speakers}
    lanes = len(speakers) + len(ref_speakers)
    fig = new_figure((10, 1.9 + 0.32 * max(lanes, 1)))
    wave_ax, lane_ax = fig.subplots(2, 1, sharex=True, height_ratios=[1.6, 0.32 * max(lanes, 1) + 0.2])
    low, high = waveform_envelope(samples)
    times = np.linspace(0, duration, len(low))
    wave_ax.fill_between(times, low, high, color="#9a9a9a", lw=0, step="mid")
    for turn in diarization.turns:
        wave_ax.axvspan(turn.start, turn.end, color=colors[turn.speaker], alpha=0.25, lw=0)
    peak = max(1e-3, float(np.max(np.abs(samples)))) if len(samples) else 1.0
    title = f"{diarization.model_id}: {len(speakers)} speaker(s)"
    if ref_speakers:
        title += " · under the line: the reference (colour = matched speaker)"
    wave_ax.set(ylim=(-peak, peak), yticks=[], title=title)
    labels = list(speakers) + [f"ref {name}" for name in ref_speakers]
    centres = _lanes(lane_ax, diarization.turns, speakers, colors, top=lanes - 1)
    if ref_speakers:
        centres += _lanes(lane_ax, reference or [], ref_speakers, ref_colors, top=len(ref_speakers) - 1)
        lane_ax.axhline(len(ref_speakers) - 0.5, color="black", lw=0.8)
    lane_ax.set_yticks(centres, labels)
    lane_ax.set(xlim=(0, max(duration, 1e-3)), ylim=(-0.6, max(lanes, 1) - 0.4), xlabel="time (s)")
    lane_ax.grid(axis="x", alpha=0.3)
    return to_rgb(fig)


def playable_timeline(diarization: Diarization, audio_path: str | None, reference: list[Turn] | None = None) -> str:
    """The interactive timeline of the turns (one lane per speaker, coloured as in the picture; the speech regions
    the VAD found, and the reference's lanes, grey), with a player of the clip."""
    colors = speaker_colors(diarization.speakers)
    items = [TimelineItem(turn.speaker, turn.start, turn.end, color=colors[turn.speaker]) for turn in diarization.turns]
    items += [TimelineItem(SPEECH_LANE, start, end, color=UNMATCHED) for start, end in diarization.speech]
    items += [TimelineItem(f"ref {turn.speaker}", turn.start, turn.end, color=UNMATCHED) for turn in reference or []]
    title = f"Who spoke when ({diarization.model_id})"
    return play_timeline_html(items, diarization.audio_s, audio_path, title)


def lines_timeline(rows: list[list], duration_s: float, audio_path: str | None) -> str:
    """The interactive timeline of who-said-what lines ([speaker, start, end, text] rows): hover shows the words."""
    colors = speaker_colors(list(dict.fromkeys(row[0] for row in rows)))
    items = [TimelineItem(row[0], row[1], row[2], row[3], colors[row[0]]) for row in rows]
    return play_timeline_html(items, duration_s, audio_path, "who said what")


def info_markdown(result: Diarization) -> str:
    seconds = result.speaker_seconds()
    who = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items()) or "nobody (no speech found)"
    text = (f"**{result.model_id}** · {len(seconds)} speaker(s): {who}\n\n"
            + timing_line(result.device, result.dtype, result.compute_s, result.audio_s, result.load_s))
    if result.note:
        text += f"\n\n*{result.note}*"
    if result.naming:
        text += "\n\n" + naming_markdown(result.naming)
    return text


def voice_rows(voices: list) -> list[list]:
    """The enrolled-voices table: [name, clip seconds] per known_speakers.Voice."""
    return [[voice.name, round(voice.seconds, 1)] for voice in voices]


def naming_markdown(naming: list[dict]) -> str:
    """Which enrolled voice each diarized speaker matched, and how closely."""
    parts = [f"{match['speaker']} → **{match['name']}** (closest {match['closest'] or '—'}, similarity "
             f"{match['similarity']:.2f})" for match in naming]
    return "Known speakers: " + "; ".join(parts) + "."


def evaluation_markdown(evaluation: Evaluation) -> str:
    e = evaluation.to_json()
    mapping = ", ".join(f"{hyp} → {ref}" for hyp, ref in evaluation.mapping.items()) or "none"
    return (f"**DER {e['diarization_error_rate']:.1%}** (collar {evaluation.collar_s:g} s) = missed speech "
            f"{e['missed_speech_rate']:.1%} ({e['missed_speech_s']:.2f} s) + false alarm {e['false_alarm_rate']:.1%} "
            f"({e['false_alarm_s']:.2f} s) + speaker confusion {e['confusion_rate']:.1%} ({e['confusion_s']:.2f} s) "
            f"of {e['reference_speech_s']:.1f} s of reference speech. Speaker mapping: {mapping}.")


def turn_rows(turns: list[Turn]) -> list[list]:
    return [[turn.speaker, round(turn.start, 2), round(turn.end, 2), round(turn.duration, 2)] for turn in turns]


def _stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name.rsplit(".", 1)[0]).strip("._") or "audio"
    return stem[:60]


def write_diarization_files(result: Diarization, audio_name: str, evaluation: Evaluation | None = None) -> list[str]:
    stem = _stem(audio_name)
    rttm_path = new_result_path(f"{stem}.rttm")
    rttm_path.write_text(to_rttm(result.turns, uri=stem))
    payload = result.to_json()
    if evaluation is not None:
        payload["evaluation"] = evaluation.to_json()
    return [str(rttm_path), write_json(f"{stem}.diarization.json", payload)]


def who_said_what_info(result: WhoSaidWhat) -> str:
    d = result.diarization
    diarized = "turns given" if d.engine == "none" else timing_line(d.device, d.dtype, d.compute_s, d.audio_s,
                                                                     d.load_s)
    source = "the turns given (the last diarization)" if d.engine == "none" else f"**{d.model_id}** turns"
    return (f"**{result.asr_model_id}** words × {source} · {len(result.lines)} line(s)\n\n"
            "recognition: " + timing_line(result.asr_device, result.asr_dtype, result.asr_compute_s, d.audio_s,
                                          result.asr_load_s) + f"\n\ndiarization: {diarized}")


def speaker_line_rows(result: WhoSaidWhat, names: dict[str, str]) -> list[list]:
    """The "who said what" table: [speaker (renamed), start s, end s, text] per line."""
    return [[names.get(line.speaker, line.speaker), round(line.start, 2), round(line.end, 2), line.text]
            for line in result.lines]


def speaker_lines_text(rows: list[list]) -> str:
    """The table's rows as "Name: text" lines."""
    return "\n".join(f"{row[0]}: {row[3]}" for row in rows) or "(no speech recognised)"


def write_who_said_what_files(result: WhoSaidWhat, audio_name: str, names: dict[str, str]) -> list[str]:
    stem = _stem(audio_name)
    text_path = new_result_path(f"{stem}.speakers.txt")
    text_path.write_text(tagged_text(result.lines, names) + "\n")
    srt_path = new_result_path(f"{stem}.speakers.srt")
    srt_path.write_text(tagged_srt(result.lines, names))
    return [str(text_path), str(srt_path), write_json(f"{stem}.who_said_what.json", result.to_json(names))]


def batch_item(named: tuple[str, Diarization]) -> ItemResult:
    """One file of a batch: its turns as RTTM (its recording id is the file's stem) and its row of the summary
    (DIARIZE_COLUMNS)."""
    stem, result = named
    return ItemResult({".rttm": to_rttm(result.turns, uri=stem)}, result.audio_s, result.compute_s,
                      result.load_s, result.device, result.dtype,
                      {"speakers": len(result.speakers), "turns": len(result.turns)})
