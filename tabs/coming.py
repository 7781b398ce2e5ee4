"""Placeholder body for tabs whose issue has not landed yet: says so, and lists the registry's models."""

from __future__ import annotations

import gradio as gr

from shared import registry


def build(task: str, what: str) -> None:
    gr.Markdown(f"**Coming soon.** {what}\n\nModels this tab will offer (from the shared registry):")
    rows = [[spec.id, spec.engine, spec.label.split(" · ", 1)[-1], spec.license]
            for spec in registry.models_for(task)]
    gr.Dataframe(rows, headers=["model", "engine", "notes", "license"], interactive=False)
