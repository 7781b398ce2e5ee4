"""Visualize: any clip drawn four ways (waveform, STFT spectrogram, mel and log-mel) plus Whisper's input and a
summary of the signal. `run` is the pure computation (settings → spectrograms and summary); `views` turns it into
the pictures and the JSON download the tab shows. There is no model here, so no `capture` or `inside` module."""
