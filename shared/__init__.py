"""Audio Demo Suite's own package: everything below `tabs/` (which only wires widgets).

Common code sits at the bottom: `config` (every setting), `errors` (messages for the user), `progress` (progress
callback, stopwatch, real-time factor), `inside` (the "Inside the model" building blocks), and the packages
`models` (registry and the one loader), `audio` (intake, DSP, plots, windows, datasets), `outputs` (download files,
subtitles, metrics, batch zips) and `serving` (what the Gradio app needs). Above them, one package per task —
`visualize`, `transcribe`, `classify`, `zero_shot`, `diarize`, `tts` — each with the same step names: `run` (the pure
task function), `capture` (what the run records for the inside views), `views` (result → what the tab shows) and
`inside` (recording → the pictures, entry point `render_inside`)."""
