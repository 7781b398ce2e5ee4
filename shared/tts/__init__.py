"""Text to speech: Piper, SpeechT5, Bark, MMS/VITS and the codec language models CSM and Dia, one model at a time,
in a voice from a recording, or several compared through an ASR round trip. `text` cleans, checks and splits the
text into chunks; `run` is the task (`synthesize`, `compare`, `round_trip`, engine dispatch, the `Speech` and
`Comparison` results); `codec_lm` loads and runs CSM and Dia (the loader's "codec-lm" engine); `reference` checks a
voice recording (length, silence, speech by VAD), fills in its transcript and scores voices (speaker similarity,
x-vector); `clone` speaks in a recorded voice and scores it; `voices` holds the SpeechT5 speakers, Bark presets and
MMS languages; `capture` records what each engine computed during the one run (traces, token grids, the
architecture card); `views` turns results into what the tab shows (notes, info line, scores, spectrogram, wav,
comparison rows); `inside` draws the recorded traces (`render_inside`)."""
