"""Speaker diarization: who spoke when (pyannote.audio pipelines or the built-in offline diarizer), scored against a
reference, merged with speech recognition into who said what, and shown "inside the model". `run` diarizes a clip
(engine dispatch, the `Diarization` result, request checks, one speaker's audio); `access` gets gated pyannote
pipelines downloaded with a token that is never kept or shown; `rttm` holds `Turn` and its JSON and RTTM forms;
`scoring` the DER evaluation; `who_said_what` the word-to-speaker attribution and tagged text/SRT; `offline` is the
built-in diarizer engine; `capture` records a run's intermediate arrays; `views` turns results into the tab's
figure, tables, text and files; `inside` draws the recording (`render_inside`); `batch` diarizes many files into a
zip."""
