"""Audio classification (AST, wav2vec2-style classifiers): label scores for the whole clip and for sliding windows
over it, from one batched forward pass. `run` classifies a clip (and compares up to three classifiers) into a
`ClassifyResult`; `capture` keeps the input the model got for its most confident window during that pass; `views`
turns a result into the tab's info text, tables, timeline picture, downloads and batch row; `inside` draws the
"Inside the model" pictures; `batch` classifies many files into one zip. The window arithmetic, batching and the
fields both windowed tasks share are in `shared.audio.windows`, the timeline picture in `shared.audio.timeline`."""
