"""Audio -> audio: voice conversion (SpeechT5), speech enhancement (MetricGAN+, SepFormer) and separation of
overlapping speakers (SepFormer), with their objective scores (speaker similarity, SI-SDR, SNR estimates)."""
