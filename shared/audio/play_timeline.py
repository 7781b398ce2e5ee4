"""A timeline you can play, as self-contained HTML: one lane per speaker (or "speech", "segments"…), a bar per span
with its hover text (lane, times, words), an <audio> player of the clip, zoom buttons, a playhead. The clicking,
hovering and zooming are wired by shared/serving/timeline_widget.py (a gr.HTML with `js_on_load`); this module only
writes the markup, so task `views` modules can build it. No Gradio here."""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote

LANE_PX = 24  # height of one lane
AXIS_PX = 18  # height of the time axis under the lanes
FALLBACK_COLOR = "#7f7f7f"
MAX_ITEMS = 5000  # bars drawn at most (a 30-minute meeting has a few hundred turns)


@dataclass(frozen=True)
class TimelineItem:
    """One bar: a span of `lane` from `start` to `end` seconds, with optional words for the hover text."""

    lane: str
    start: float
    end: float
    text: str = ""
    color: str = ""


def clock(seconds: float) -> str:
    """"01:02.5" (minutes:seconds.tenths; hours in front from an hour on)."""
    minutes, secs = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}" if hours else f"{minutes:02d}:{secs:04.1f}"


def file_url(path: str | None) -> str:
    """The URL Gradio serves a cached file at, relative to the page (works under a Spaces root path too)."""
    return f"gradio_api/file={quote(path, safe='/')}" if path else ""


def hover_text(item: TimelineItem) -> str:
    """What the mouse shows over a bar: lane, start–end, and the words if any."""
    text = f"{item.lane} · {clock(item.start)}–{clock(item.end)}"
    return f"{text} · {item.text}" if item.text else text


def _ticks(duration_s: float) -> list[float]:
    """At most 7 round tick times across the clip (labels stay apart at the narrowest width)."""
    steps = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800)
    step = next((s for s in steps if duration_s / s <= 6), 3600)
    return [index * step for index in range(int(duration_s // step) + 1)]


def _bar(item: TimelineItem, row: int, duration_s: float) -> str:
    left = 100 * item.start / duration_s
    width = max(100 * (item.end - item.start) / duration_s, 0.05)
    tip = html.escape(hover_text(item))
    return (f'<rect class="tl-item" data-start="{item.start:.3f}" data-tip="{tip}" x="{left:.4f}%" '
            f'y="{row * LANE_PX + 3}" width="{width:.4f}%" height="{LANE_PX - 6}" rx="2" '
            f'fill="{html.escape(item.color or FALLBACK_COLOR)}"><title>{tip}</title></rect>')


def _axis(duration_s: float, top: int) -> str:
    marks = []
    for tick in _ticks(duration_s):
        x = 100 * tick / duration_s
        anchor = "start" if tick == 0 else "end" if x > 97 else "middle"
        marks.append(f'<line x1="{x:.3f}%" x2="{x:.3f}%" y1="0" y2="{top}" class="tl-grid"/>'
                     f'<text x="{x:.3f}%" y="{top + 13}" text-anchor="{anchor}" class="tl-tick">{clock(tick)}</text>')
    return "".join(marks)


def play_timeline_html(items: list[TimelineItem], duration_s: float, audio_path: str | None = None,
                       title: str = "") -> str:
    """The timeline's markup: lanes in order of first appearance, bars, time axis, and a player of `audio_path`
    (a file Gradio serves) that a click on a bar or a lane seeks. Empty `items`: a line saying there is nothing."""
    if not items or duration_s <= 0:
        return '<div class="tl-empty">Nothing to show on the timeline yet.</div>'
    lanes = list(dict.fromkeys(item.lane for item in sorted(items, key=lambda i: i.start)))
    height = len(lanes) * LANE_PX
    bars = "".join(_bar(item, lanes.index(item.lane), duration_s) for item in items[:MAX_ITEMS])
    labels = "".join(f'<div class="tl-label" style="height:{LANE_PX}px" title="{html.escape(lane)}">'
                     f"{html.escape(lane)}</div>" for lane in lanes)
    player = (f'<audio class="tl-audio" controls preload="metadata" src="{html.escape(file_url(audio_path))}">'
              "</audio>" if audio_path else "")
    caption = f"<b>{html.escape(title)}</b> · " if title else ""
    caption += "hover a bar to read it, click to play from there, +/− to zoom"
    return (f'<div class="tl-root" data-duration="{duration_s:.3f}">'
            f'<div class="tl-bar"><span class="tl-title">{caption}</span>'
            '<button type="button" class="tl-zoom" data-zoom="out" title="zoom out">−</button>'
            '<button type="button" class="tl-zoom" data-zoom="in" title="zoom in">+</button>'
            '<button type="button" class="tl-zoom" data-zoom="fit" title="whole clip">fit</button></div>'
            f'<div class="tl-body"><div class="tl-labels" style="padding-bottom:{AXIS_PX}px">{labels}</div>'
            '<div class="tl-scroll"><div class="tl-inner" style="width:100%">'
            f'<svg class="tl-svg" width="100%" height="{height + AXIS_PX}" data-duration="{duration_s:.3f}">'
            f'<rect class="tl-lanes" x="0" y="0" width="100%" height="{height}"/>{_axis(duration_s, height)}{bars}'
            f'<line class="tl-playhead" x1="0%" x2="0%" y1="0" y2="{height}"/></svg></div></div></div>'
            f'<div class="tl-tip" aria-live="polite"></div>{player}</div>')
