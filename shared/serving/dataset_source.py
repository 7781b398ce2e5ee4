"""The "Stream an example from a dataset" block the audio tabs put under their audio input (pure logic in
shared/audio/datasets.py)."""

from __future__ import annotations

import gradio as gr

from shared.audio import datasets as streaming
from shared.serving.widgets import user_errors


@user_errors
def _next_example(spec: str, index: float | None, prefer: str) -> tuple[str, str, str, int]:
    example = streaming.next_example(spec, int(index or 0))
    return example.audio_path, example.reference(prefer), example.markdown(), example.index + 1


def dataset_source(audio: gr.Audio, prefer: str = "text") -> gr.Textbox:
    """Accordion with a dataset dropdown and "Next example": fills `audio` and returns the reference Textbox
    (the example's text, or its label when `prefer="label"`; the other one when it has only that)."""
    curated = streaming.curated_choices()
    with gr.Accordion("Stream an example from a dataset", open=False):
        spec = gr.Dropdown(curated, value=curated[0][1], allow_custom_value=True,
                           label=f"Dataset ({streaming.SPEC_HELP})")
        next_button = gr.Button("Next example", size="sm")
        about = gr.Markdown()
        reference = gr.Textbox(label="Dataset reference (label)" if prefer == "label" else "Dataset reference (text)",
                               interactive=False, lines=2)
    next_index = gr.State(0)
    preference = gr.State(prefer)
    next_button.click(_next_example, [spec, next_index, preference], [audio, reference, about, next_index],
                      api_visibility="private", concurrency_limit=4)
    spec.change(lambda: (0, "", ""), None, [next_index, reference, about], api_visibility="private")
    # your own audio has no dataset reference
    audio.upload(lambda: ("", ""), None, [reference, about], api_visibility="private")
    audio.stop_recording(lambda: ("", ""), None, [reference, about], api_visibility="private")
    return reference
