"""What the app hands back: `results` (the app-owned folder of download files), `subtitles` (SRT/WebVTT),
`text_metrics` (WER, CER, word diffs) and `batch` (many files → one zip with a summary.csv)."""
