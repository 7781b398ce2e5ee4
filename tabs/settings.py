"""Models & device panel: placement, memory budget, loaded models, unload all."""

from __future__ import annotations

import gradio as gr

from shared.config import SETTINGS
from shared.models.loader import get_loader

HEADERS = ["model", "task", "engine", "device", "dtype", "memory (MB)", "load (s)", "in use"]


def status() -> tuple[str, list[list]]:
    loader = get_loader()
    placement = loader.placement
    text = (f"**Device** `{placement.device}` · **dtype** `{placement.dtype}` · "
            f"**memory budget** {loader.budget_mb:,.0f} MB (ADS_MEMORY_BUDGET_MB) · "
            f"**in cache** {loader.used_mb():,.0f} MB · **max audio** {SETTINGS.max_duration_s / 60:.0f} min · "
            f"**max upload** {SETTINGS.max_file_mb:.0f} MB")
    rows = [[m["id"], m["task"], m["engine"], m["device"], m["dtype"], m["memory_mb"], m["load_s"], m["in_use"]]
            for m in loader.status()]
    return text, rows


def unload_all() -> tuple[str, list[list]]:
    count = get_loader().unload_all()
    gr.Info(f"Unloaded {count} model(s).")
    return status()


def build() -> gr.Tab:
    with gr.Tab("Models & device") as tab:
        summary = gr.Markdown("Open this tab to see the device and the loaded models.")
        table = gr.Dataframe(headers=HEADERS, interactive=False, label="Loaded models (most recently used first)")
        with gr.Row():
            refresh = gr.Button("Refresh")
            unload = gr.Button("Unload all", variant="stop")
    for trigger in (tab.select, refresh.click):
        trigger(status, None, [summary, table], api_visibility="private")
    unload.click(unload_all, None, [summary, table], api_visibility="private")
    return tab
