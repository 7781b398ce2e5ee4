"""Models: `registry` (the one table of every model offered), `device` (CUDA > MPS > CPU and the dtype), `loader`
(the one cached, single-flight, memory-budgeted loader), `engines` (how each engine loads: transformers,
faster-whisper, Piper, pyannote), `modules` (a loaded model's torch modules, parameters and memory),
`availability` (cached or hub reachable: each tab's default model) and `vad` (Silero VAD, the silence gate)."""
