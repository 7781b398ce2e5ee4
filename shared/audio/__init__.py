"""Audio every task shares: `intake` (the one place that decodes and validates user audio into an AudioClip),
`dsp` (STFT, mel, dB, Whisper's log-mel in numpy), `plots` (figures as RGB arrays), `windows` (sliding windows,
batched forwards and timelines over a clip) and `datasets` (one example at a time from a streamed hub dataset)."""
