"""The playable timeline as a Gradio component: a gr.HTML whose value is shared/audio/play_timeline.py's markup, with
a small script (no library) for what a person does with it: hover a bar → its speaker, times and words show under
the lanes; click a bar or anywhere on a lane → the player jumps there and plays; +/−/fit → zoom (the lanes scroll
sideways); while playing, a playhead follows. The same component serves every tab that has spans in time."""

from __future__ import annotations

from typing import Any

import gradio as gr

from shared.audio.play_timeline import TimelineItem, play_timeline_html

SEGMENT_COLOR = "#1f77b4"
ZOOM_STEP = 2.0  # each + doubles the width
MAX_ZOOM = 64.0

TIMELINE_CSS = """
.tl-root { font-size: 12px; }
.tl-bar { display: flex; gap: 6px; align-items: center; margin-bottom: 4px; }
.tl-title { flex: 1; color: var(--body-text-color-subdued); }
.tl-zoom { min-width: 28px; padding: 0 6px; border: 1px solid var(--border-color-primary); border-radius: 4px;
  background: var(--background-fill-secondary); cursor: pointer; }
.tl-body { display: flex; }
.tl-labels { flex: 0 0 auto; max-width: 160px; padding-right: 6px; }
.tl-label { display: flex; align-items: center; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tl-scroll { flex: 1; overflow-x: auto; }
.tl-svg { display: block; }
.tl-lanes { fill: var(--background-fill-secondary); cursor: pointer; }
.tl-item { cursor: pointer; opacity: 0.85; }
.tl-item:hover { opacity: 1; stroke: var(--body-text-color); stroke-width: 1; }
.tl-grid { stroke: var(--border-color-primary); stroke-width: 1; }
.tl-tick { fill: var(--body-text-color-subdued); font-size: 10px; }
.tl-playhead { stroke: #d62728; stroke-width: 2; pointer-events: none; }
.tl-tip { min-height: 1.4em; margin: 4px 0; color: var(--body-text-color); }
.tl-audio { width: 100%; }
.tl-empty { color: var(--body-text-color-subdued); padding: 8px 0; }
"""

TIMELINE_JS = f"""
const part = (selector) => element.querySelector(selector);
const seek = (seconds) => {{
  const audio = part('.tl-audio');
  if (!audio) return;
  audio.currentTime = Math.max(0, seconds);
  const playing = audio.play();
  if (playing && playing.catch) playing.catch(() => {{}});
}};
const zoom = (how) => {{
  const inner = part('.tl-inner');
  if (!inner) return;
  const now = parseFloat(inner.dataset.zoom || '1');
  const next = how === 'in' ? Math.min(now * {ZOOM_STEP}, {MAX_ZOOM})
    : how === 'out' ? Math.max(now / {ZOOM_STEP}, 1) : 1;
  inner.dataset.zoom = String(next);
  inner.style.width = (100 * next) + '%';
}};
element.addEventListener('click', (event) => {{
  const button = event.target.closest('[data-zoom]');
  if (button) {{ zoom(button.dataset.zoom); return; }}
  const item = event.target.closest('[data-start]');
  if (item) {{ seek(parseFloat(item.dataset.start)); return; }}
  const svg = event.target.closest('.tl-svg');
  if (svg) {{
    const box = svg.getBoundingClientRect();
    seek((event.clientX - box.left) / box.width * parseFloat(svg.dataset.duration));
  }}
}});
element.addEventListener('mouseover', (event) => {{
  const item = event.target.closest('[data-tip]');
  const tip = part('.tl-tip');
  if (item && tip) tip.textContent = item.dataset.tip;
}});
element.addEventListener('timeupdate', (event) => {{
  const audio = event.target, head = part('.tl-playhead'), svg = part('.tl-svg');
  if (!head || !svg || !audio.classList || !audio.classList.contains('tl-audio')) return;
  const x = (100 * audio.currentTime / parseFloat(svg.dataset.duration)).toFixed(3) + '%';
  head.setAttribute('x1', x);
  head.setAttribute('x2', x);
}}, true);
"""


def timeline_component(label: str = "Timeline — hover, click to play, zoom", elem_id: str | None = None) -> gr.HTML:
    """An empty playable timeline; events put `play_timeline_html(...)` into it."""
    return gr.HTML(value="", label=label, show_label=False, css_template=TIMELINE_CSS, js_on_load=TIMELINE_JS,
                   elem_id=elem_id, elem_classes=["playable-timeline"], container=True, padding=True)


def segments_timeline(audio: str | None, transcript: dict[str, Any] | None) -> str:
    """The playable timeline of a transcript's segments (the /transcribe JSON: "segments" with start, end, text in
    seconds, and "audio_s"): one lane, the text on hover."""
    segments = (transcript or {}).get("segments") or []
    if not audio or not segments:
        return ""
    items = [TimelineItem("segments", float(segment["start"]), float(segment["end"]), str(segment["text"]).strip(),
                          SEGMENT_COLOR) for segment in segments]
    duration = max(float((transcript or {}).get("audio_s") or 0.0), max(item.end for item in items))
    return play_timeline_html(items, duration, audio, "Transcript segments")
