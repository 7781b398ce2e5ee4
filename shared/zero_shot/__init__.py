"""Zero-shot audio classification with CLAP: scores for labels the user types, over the whole clip and over
sliding windows. `run` parses the labels and the prompt template and scores a clip into a `ZeroShotResult`;
`capture` holds CLAP's two towers as the run calls them (cached label text embeddings, batched audio embeddings);
`views` turns a result into the tab's info text, table, label × window picture and downloads; `inside` draws the
cosine-similarity picture for "Inside the model". The window arithmetic, batching and the fields shared with
Classify are in `shared.audio.windows`, the timeline picture in `shared.audio.timeline`."""
