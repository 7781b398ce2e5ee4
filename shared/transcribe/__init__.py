"""Speech recognition (the Transcribe tab), without Gradio. `run` is the task: 16 kHz audio in, a `Transcript` out
(text, timed segments and words, language, timings), through faster-whisper, Whisper (transformers) or CTC;
`capture` holds what the run records for the "Inside the model" views (hooks, a watching logits processor, the
recording dataclasses); `ctc` is greedy CTC decoding step by step; `views` turns a transcript into the info line,
downloads, CTC table, comparison rows and batch row; `inside` draws the "Inside the model" pictures
(`render_inside`); `live` is the microphone stream's rolling buffer; `batch` runs many files into one zip."""
