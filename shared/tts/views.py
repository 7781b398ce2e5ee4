"""Text-to-speech results → what the tab shows: the notes under the model picker (with Bark's time estimate), the
timing line and notes of a run, its spectrogram picture and wav download, a streamed piece as wav bytes, and the
comparison table. No model is loaded here and no Gradio is imported."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from shared import config
from shared.audio.dsp import stft_power
from shared.audio.plots import spectrogram_image
from shared.models.registry import get_spec
from shared.models.voiceprint import VERIFY_EER, VERIFY_THRESHOLD
from shared.outputs.results import new_result_path
from shared.progress import timing_line
from shared.tts import voices
from shared.tts.clone import ClonedSpeech
from shared.tts.run import MAX_CHARS_BARK, Comparison, Speech, SpeechPiece, engine_of, measured_rtf, serving_device
from shared.tts.text import SPEAKING_RATE_CPS

BARK_RTF_GUESS = {"suno/bark-small": {"cpu": 10.0, "cuda": 1.0}, "suno/bark": {"cpu": 30.0, "cuda": 2.0}}
COMPARE_HEADERS = ["model", "WER", "speaker similarity", "heard by ASR", "audio (s)", "synthesis (s)", "RTF",
                   "device · dtype", "voice", "notes"]


def bark_estimate(model_id: str, text: str, device: str) -> str:
    """A rough wall-clock estimate for Bark: from this server's last run, else from a guessed real-time factor."""
    audio_s = max(1.0, len((text or "").strip()) / SPEAKING_RATE_CPS)
    measured = measured_rtf(model_id, device)
    if measured is not None:
        rtf, source = measured, "measured on this server"
    else:
        guesses = BARK_RTF_GUESS.get(model_id, BARK_RTF_GUESS["suno/bark"])
        rtf, source = guesses.get(device, guesses["cpu"]), "a rough guess, nothing measured here yet"
    return (f"≈ {audio_s:.0f} s of speech → roughly {audio_s * rtf:.0f} s to generate on `{device}` "
            f"(real-time factor {rtf:.1f}, {source})")


def model_notes(model_id: str, text: str = "") -> str:
    """Markdown shown under the model picker."""
    engine = engine_of(model_id)
    if engine == "piper":
        return "Built-in Piper voice (onnxruntime, CPU): works offline, fast, English only."
    if engine == "speecht5":
        return ("SpeechT5 + HiFi-GAN vocoder, English. " + voices.speecht5_presets_status()
                + " Numbers and symbols are skipped: write them as words.")
    if engine == "bark":
        return _bark_notes(model_id, text, serving_device())
    if engine in ("csm", "dia"):
        return _codec_lm_notes(model_id)
    spec = get_spec(model_id)
    name = voices.mms_languages().get(spec.options.get("language", ""), "")
    return (f"MMS-TTS (VITS) for {name or model_id}: one voice per language, 16 kHz, licence CC-BY-NC 4.0. Type an "
            "ISO 639-3 code in the language box to switch language; non-Latin scripts are romanised with uroman "
            "where the model was trained on romanised text.")


def _codec_lm_notes(model_id: str) -> str:
    spec = get_spec(model_id)
    gated = (" Gated: accept its conditions on the hub and set HF_TOKEN." if spec.gated else "")
    return (f"{spec.title}: a codec language model (English). Here it speaks in a sampled voice of its own; the "
            f"“Voice from a recording” tab makes it continue a recording's voice. Slow on CPU (it writes tokens frame "
            f"by frame); about {spec.size_mb / 1000:.1f} GB in fp32.{gated}")


def clone_notes(model_id: str) -> str:
    """Markdown under the "Voice from a recording" model picker: how this model takes on a voice, and what it needs."""
    spec = get_spec(model_id)
    if engine_of(model_id) == "speecht5":
        how = ("SpeechT5 reads a 512-d x-vector of the recording (speechbrain/spkrec-xvect-voxceleb, the model that "
               "made its CMU ARCTIC presets): small and CPU-friendly, but only a rough likeness of the voice.")
    else:
        how = (f"{spec.title} reads the recording as codec tokens, with its transcript, and continues the token "
               "sequence with your text: the voice, and often the recording's room and tone, carry over. Slow on "
               "CPU (it writes tokens frame by frame).")
    budget = config.current().memory_budget_mb
    needs = (f" It needs about {spec.size_mb / 1000:.1f} GB in fp32: set ADS_MEMORY_BUDGET_MB above "
             f"{spec.size_mb:.0f} (now {budget:.0f})." if spec.size_mb > budget else "")
    gated = " Gated: accept its conditions on the hub and set HF_TOKEN." if spec.gated else ""
    return how + needs + gated


def _bark_notes(model_id: str, text: str, device: str) -> str:
    slow = "**Bark is slow on CPU.** " if device == "cpu" else ""
    return (f"{slow}{bark_estimate(model_id, text, device)}. Voice presets pick speaker and language; the seed "
            f"makes a run repeatable. Bark adds its own pauses, laughs and noises. At most {MAX_CHARS_BARK} "
            "characters.")


def info_markdown(speech: Speech) -> str:
    """The result's headline (model, voice, length in seconds, sample rate in Hz, parts), timing line and notes."""
    lines = [f"**{speech.model_id}** · voice {speech.voice} · {speech.duration_s:.2f} s at {speech.sample_rate} Hz "
             f"· {speech.chunks} part{'s' if speech.chunks != 1 else ''}",
             timing_line(speech.device, speech.dtype, speech.compute_s, speech.duration_s, speech.load_s)]
    lines += [f"- {note}" for note in speech.notes]
    return "\n\n".join(lines[:2]) + ("\n\n" + "\n".join(lines[2:]) if len(lines) > 2 else "")


def spectrogram(speech: Speech) -> np.ndarray:
    """The speech's linear-frequency spectrogram (dB, 80 dB range) as an RGB image."""
    n_fft = 1024 if speech.sample_rate > 16_000 else 512
    power = stft_power(speech.samples, speech.sample_rate, n_fft, n_fft // 4)
    return spectrogram_image(power, top_db=80.0, log_frequency=False, title=f"{speech.model_id}: spectrogram")


def write_wav(speech: Speech, name: str = "speech.wav") -> str:
    """The speech as a 16-bit PCM wav in the results folder; returns its path."""
    path = new_result_path(name)
    sf.write(path, speech.samples, speech.sample_rate, subtype="PCM_16")
    return str(path)


def wav_bytes(piece: SpeechPiece) -> bytes:
    """A streamed piece (its pause, then its audio) as a 16-bit PCM wav in memory, clipped to [-1, 1]: a piece is
    not peak-normalised (only the whole is, at the end), and a 16-bit wav must not wrap around."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(piece.samples, -1.0, 1.0), piece.sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def compare_rows(results: list[Comparison]) -> list[list]:
    """One row per compared model, in COMPARE_HEADERS' order (a failed model: its error in the notes column)."""
    return [_compare_row(result) for result in results]


def _compare_row(result: Comparison) -> list:
    speech = result.speech
    if speech is None:
        return [result.model_id, None, None, "", None, None, None, "", "", result.error]
    notes = list(speech.notes)
    if not speech.english:
        notes.insert(0, "not English: the English recogniser's WER says little here")
    return [result.model_id, _round(result.wer), _round(result.similarity), result.transcript,
            round(speech.duration_s, 2), round(speech.compute_s, 2), round(speech.real_time_factor, 3),
            f"{speech.device} · {speech.dtype}", speech.voice, " · ".join(notes)]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def similarity_words(similarity: float | None) -> str:
    """The speaker similarity in words: the number and an honest reading of it against the app's one same-speaker
    threshold (a cosine above it is evidence, not proof: two different but similar voices can score higher)."""
    if similarity is None:
        return "speaker similarity: — (too little sound in the output to tell whose voice it is)"
    side = "above" if similarity >= VERIFY_THRESHOLD else "below"
    return f"speaker similarity **{similarity:.2f}** ({side} {threshold_words()}; 1 = identical voiceprints)"


def threshold_words() -> str:
    """The same-speaker threshold and what it means, for the similarity readings."""
    return (f"the same-speaker threshold {VERIFY_THRESHOLD:.2f}, whose equal error rate is {VERIFY_EER:.1%} on six "
            "real voices; two different but similar voices can score higher")


def clone_markdown(result: ClonedSpeech) -> str:
    """The cloned result's headline, its scores (speaker similarity and round-trip WER), the reference's transcript
    and where it came from, then the usual timing line and notes."""
    wer_text = (f"round-trip WER **{result.wer:.2f}** (heard: “{result.heard}”)" if result.wer is not None
                else "round-trip WER: — (not English)")
    source = "typed" if result.transcript_source == "typed" else f"heard by {result.transcript_source}"
    reference = (f"Reference: {result.reference_s:.1f} s ({result.reference_speech_s:.1f} s of speech), transcript "
                 f"({source}): “{result.reference_transcript}”. The recording was used for this request only and "
                 "is not kept.")
    return "\n\n".join([f"{similarity_words(result.similarity)} · {wer_text}", reference,
                         info_markdown(result.speech)])
