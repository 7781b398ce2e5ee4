"""Text to speech: Piper, SpeechT5, Bark and MMS/VITS, one model at a time or several compared through an ASR round
trip. `text` cleans, checks and splits the text into chunks; `run` is the task (`synthesize`, `compare`,
`round_trip`, engine dispatch, the `Speech` and `Comparison` results); `voices` holds the SpeechT5 speakers, Bark
presets and MMS languages; `capture` records what each engine computed during the one run (traces, the
architecture card); `views` turns results into what the tab shows (notes, info line, spectrogram, wav, comparison
rows); `inside` draws the recorded traces (`render_inside`)."""
