"""Audio -> audio: voice conversion (SpeechT5: the same words in another voice), speech enhancement (MetricGAN+ or
a one-source SepFormer) and separation of overlapping speakers (SepFormer, one output per source), each with its
objective scores. Inputs are checked through shared.audio.intake; every model comes from the registry through the
loader; each run returns an `AudioResult` (players' audio, timing, scores, notes) with a recording for "Inside".

The CMU ARCTIC voice presets are the text-to-speech tab's (reached through shared.tts.run); speaker similarity is
Resemblyzer's voiceprint (shared.models.voiceprint) and the speechbrain x-vector's cosine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.audio.intake import AudioClip, AudioInputError, is_silent, load_audio
from shared.audio_to_audio import capture, scores
from shared.audio_to_audio.capture import A2ARecording, ConversionTrace, EnhancementTrace, SeparationTrace
from shared.audio_to_audio.convert import MEL_HOP_S
from shared.errors import UserError
from shared.models.loader import LoadedModel, ModelLoader, get_loader
from shared.models.registry import ENHANCE, SEPARATE, VOICE_CONVERSION, UnknownModelError, require_task
from shared.models.speechbrain_models import XVECTOR_MODEL_ID, Separation
from shared.models.vad import VAD_MODEL_ID, speech_seconds
from shared.models.voiceprint import VOICEPRINT_MODEL_ID, cosine
from shared.outputs.text_metrics import normalize, wer
from shared.progress import Progress, RealTimeFactor, Stopwatch, no_progress
from shared.transcribe.run import heard_text

DEFAULT_MODELS = {VOICE_CONVERSION: "microsoft/speecht5_vc", ENHANCE: "speechbrain/metricgan-plus-voicebank",
                  SEPARATE: "speechbrain/sepformer-wsj02mix"}
JOB_NAMES = {VOICE_CONVERSION: "voice conversion", ENHANCE: "enhancement", SEPARATE: "source separation"}
# longest input per job (s): SpeechT5 decodes step by step (~30 steps per second of speech); the SepFormers'
# attention grows with the square of the length
MAX_INPUT_S = {VOICE_CONVERSION: 20.0, ENHANCE: 60.0, SEPARATE: 60.0}
MAX_TARGET_S = 60.0  # the target voice's recording (s)
MIN_INPUT_S = 0.5  # seconds: shorter clips carry too little for any of the models
MIN_SPEECH_S = 0.5  # seconds of speech (Silero VAD) a recording to convert, or a target voice, must hold
ANALYSIS_RATE = 16_000  # Hz: VAD, x-vectors and voiceprints read 16 kHz
PEAK = 0.95  # separated sources are scaled to this peak for listening (SepFormer's output level is arbitrary)
DEFAULT_PRESET = "slt"


@dataclass
class Track:
    """One playable signal: mono float32 `samples` at `sample_rate` Hz, named for its player."""

    label: str
    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass
class AudioResult(RealTimeFactor):
    """One audio-to-audio run: the input as the model heard it, its outputs, seconds of model compute (`compute_s`)
    for `audio_s` seconds of input, the model load time (`load_s`, 0 when cached), device and dtype, the objective
    scores (name -> value in dB or cosine), notes for the user, and the recording for "Inside the model"."""

    task: str
    model_id: str
    source: Track
    outputs: list[Track]
    compute_s: float
    audio_s: float
    load_s: float
    device: str
    dtype: str
    scores: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    recording: A2ARecording | None = None

    def to_json(self) -> dict[str, Any]:
        """The details shown and offered for download (no audio)."""
        return {"task": self.task, "model": self.model_id, "input_s": round(self.audio_s, 3),
                "outputs": [{"label": track.label, "seconds": round(track.duration_s, 3),
                             "sample_rate": track.sample_rate} for track in self.outputs],
                "compute_s": round(self.compute_s, 3), "real_time_factor": round(self.real_time_factor, 4),
                "load_s": round(self.load_s, 3), "device": self.device, "dtype": self.dtype,
                "scores": {name: round(float(value), 3) for name, value in self.scores.items()}, "notes": self.notes}


# ---- inputs -------------------------------------------------------------------------------------------------------
def check_model(model_id: str | None, task: str) -> str:
    """The registry id for `task` (its default when empty), or a UserError naming the problem."""
    model_id = (model_id or "").strip() or DEFAULT_MODELS[task]
    try:
        require_task(model_id, task)
    except UnknownModelError:
        raise UserError(f"Unknown model {model_id!r}: pick one from the list.") from None
    return model_id


def load_input(audio: Any, sample_rate: int, max_s: float, what: str = "The audio") -> AudioClip:
    """Decode and check one input at `sample_rate` Hz: present, readable, MIN_INPUT_S..max_s seconds, not silent.
    Raises UserError (AudioInputError) saying what is wrong."""
    try:
        clip = load_audio(audio, sample_rate, max_duration_s=max_s)
    except AudioInputError as exc:
        raise AudioInputError(f"{what}: {exc}") from None
    if clip.duration_s < MIN_INPUT_S:
        raise AudioInputError(f"{what} is only {clip.duration_s:.2f} s long; give at least {MIN_INPUT_S} s.")
    if is_silent(clip.samples):
        raise AudioInputError(f"{what} is silent (below -60 dBFS): nothing to work on.")
    return clip


def require_speech(samples_16k: np.ndarray, loader: ModelLoader, what: str) -> float:
    """Seconds of speech Silero VAD finds; a UserError when under MIN_SPEECH_S (music, noise, a tone)."""
    with loader.use(VAD_MODEL_ID) as vad:
        found = speech_seconds(vad.speech_segments(samples_16k))
    if found < MIN_SPEECH_S:
        raise UserError(f"{what} holds {found:.1f} s of speech (Silero VAD): it sounds like music, noise or "
                        f"silence. Give a recording of someone speaking.")
    return found


def model_entry(loader: ModelLoader, model_id: str, progress: Progress) -> tuple[LoadedModel, float]:
    """The loaded model's cache entry and the seconds this call spent loading it (0 when it was cached)."""
    progress(0.1, f"Loading {model_id}")
    cached = loader.is_loaded(model_id)
    entry = loader.entry(model_id)
    return entry, 0.0 if cached else entry.load_s


# ---- voice conversion ---------------------------------------------------------------------------------------------
def preset_choices() -> list[tuple[str, str]]:
    """(label, value) choices of the target voice: the CMU ARCTIC presets of SpeechT5 (no random voice)."""
    from shared.tts import run as tts_run  # on first use: the TTS package pulls in speech recognition

    return [choice for choice in tts_run.voices.speecht5_voice_choices() if choice[1] != tts_run.voices.RANDOM_VOICE]


def target_voice(preset: str | None, target_audio: Any, seed: int, loader: ModelLoader,
                 progress: Progress) -> tuple[np.ndarray, str, np.ndarray | None, list[str]]:
    """The target x-vector, its label, the target recording at 16 kHz (None for a preset) and notes: a second
    recording's speechbrain x-vector when one is given, else the CMU ARCTIC preset (a seeded random voice, with a
    note, when the presets cannot be fetched)."""
    if target_audio:
        clip = load_input(target_audio, ANALYSIS_RATE, MAX_TARGET_S, "The target voice recording")
        require_speech(clip.samples, loader, "The target voice recording")
        progress(0.2, "x-vector of the target voice")
        with loader.use(XVECTOR_MODEL_ID) as encoder:
            return encoder.xvector(clip.samples), "your target recording", clip.samples, []
    from shared.tts import run as tts_run

    choice = tts_run.voices.speecht5_speaker(preset or DEFAULT_PRESET, seed)
    return choice.embedding, choice.description, None, [choice.fallback_note] if choice.fallback_note else []


def convert_voice(audio: Any, model_id: str | None = None, preset: str | None = DEFAULT_PRESET,
                  target_audio: Any = None, seed: int = 0, *, loader: ModelLoader | None = None,
                  progress: Progress = no_progress) -> AudioResult:
    """Say the words of `audio` (speech, up to 20 s) in another voice: the x-vector of `target_audio` when given,
    else the CMU ARCTIC `preset`. Scores: cosine of the output's x-vector with the target's (and the input's, as
    the baseline), Resemblyzer voiceprint similarities with the input and the target recording, and the round-trip
    WER (the built-in recogniser on the output against its transcript of the input)."""
    loader = loader or get_loader()
    model_id = check_model(model_id, VOICE_CONVERSION)
    clip = load_input(audio, ANALYSIS_RATE, MAX_INPUT_S[VOICE_CONVERSION])
    progress(0.05, "Checking for speech (Silero VAD)")
    require_speech(clip.samples, loader, "The recording to convert")
    target, target_label, target_16k, notes = target_voice(preset, target_audio, seed, loader, progress)
    entry, load_s = model_entry(loader, model_id, progress)
    progress(0.4, "Converting (SpeechT5 decodes step by step)")
    with loader.use(model_id) as converter, Stopwatch() as compute:
        converted = converter.convert(clip.samples, target)
    output = finish(converted.samples, "output")
    progress(0.85, "Scoring speaker similarity")
    values, xvectors = conversion_scores(clip.samples, output, target, target_16k, loader)
    progress(0.92, "Transcribing the input and the output (round-trip WER)")
    wer_scores, heard_notes = round_trip(clip.samples, output, loader)
    values, notes = {**values, **wer_scores}, [*notes, *heard_notes]
    trace = ConversionTrace(converted.mel, MEL_HOP_S, xvectors[0], target, xvectors[1], target_label)
    recording = A2ARecording(trace, capture.card(entry.spec.family, entry.model, model_id))
    return AudioResult(VOICE_CONVERSION, model_id, Track("input", clip.samples, ANALYSIS_RATE),
                       [Track(f"converted ({target_label})", output, ANALYSIS_RATE)], compute.seconds, clip.duration_s,
                       load_s, entry.placement.device, entry.placement.dtype, values, notes, recording)


def conversion_scores(source: np.ndarray, output: np.ndarray, target: np.ndarray, target_16k: np.ndarray | None,
                      loader: ModelLoader) -> tuple[dict[str, float], tuple[np.ndarray | None, np.ndarray | None]]:
    """Speaker-similarity scores of a conversion and the (input, output) x-vectors they used."""
    with loader.use(XVECTOR_MODEL_ID) as encoder:
        source_xvector, output_xvector = encoder.xvector(source), encoder.xvector(output)
    values = {"x-vector cosine: output vs target voice": cosine(output_xvector, target),
              "x-vector cosine: input vs target voice": cosine(source_xvector, target)}
    with loader.use(VOICEPRINT_MODEL_ID) as printer:
        printed = voiceprints(printer, {"input": source, "output": output, "target": target_16k})
    if "output" in printed and "input" in printed:
        values["voiceprint similarity: output vs input"] = cosine(printed["output"], printed["input"])
    if "output" in printed and "target" in printed:
        values["voiceprint similarity: output vs target recording"] = cosine(printed["output"], printed["target"])
        if "input" in printed:
            values["voiceprint similarity: input vs target recording"] = cosine(printed["input"], printed["target"])
    return values, (source_xvector, output_xvector)


def round_trip(source: np.ndarray, output: np.ndarray, loader: ModelLoader) -> tuple[dict[str, float], list[str]]:
    """Did the words survive the new voice? The built-in recogniser's transcript of the output scored (WER) against
    its transcript of the input, and a note with both; no score when it hears no words in the input."""
    from shared.tts import run as tts_run

    heard_input, heard_output = (heard_text(samples, ANALYSIS_RATE, tts_run.ASR_MODEL, loader=loader).strip()
                                 for samples in (source, output))
    if not normalize(heard_input):
        return {}, [f"{tts_run.ASR_MODEL} heard no words in the input: no round-trip WER."]
    return ({"round-trip WER: output vs input (built-in recogniser)": wer(heard_input, heard_output)},
            [f"{tts_run.ASR_MODEL} heard the input as “{heard_input}” and the output as “{heard_output}”."])


def voiceprints(printer: Any, recordings: dict[str, np.ndarray | None]) -> dict[str, np.ndarray]:
    """Resemblyzer voiceprints of the given 16 kHz recordings; one with too little sound is left out."""
    printed = {}
    for name, samples in recordings.items():
        if samples is None:
            continue
        try:
            printed[name] = printer.embed(samples)
        except UserError:
            continue
    return printed


def finish(samples: np.ndarray, what: str) -> np.ndarray:
    """Model output checked (finite, not empty) and scaled down to PEAK only when it would clip."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if samples.size == 0 or not np.isfinite(samples).all():
        raise UserError(f"The model produced no valid audio for the {what} (empty, NaN or infinite samples).")
    peak = float(np.max(np.abs(samples)))
    return samples * np.float32(PEAK / peak) if peak > 1.0 else samples


# ---- enhancement --------------------------------------------------------------------------------------------------
def enhance(audio: Any, model_id: str | None = None, reference: Any = None, *, loader: ModelLoader | None = None,
            progress: Progress = no_progress) -> AudioResult:
    """Remove noise from speech (up to 60 s). Scores: with a clean `reference` recording of the same speech, SI-SDR
    before and after and its improvement (dB); without one, a reference-free SNR estimate before and after."""
    loader = loader or get_loader()
    model_id = check_model(model_id, ENHANCE)
    rate = int(require_task(model_id, ENHANCE).options.get("sample_rate", ANALYSIS_RATE))
    clip = load_input(audio, rate, MAX_INPUT_S[ENHANCE])
    clean = load_input(reference, rate, MAX_INPUT_S[ENHANCE], "The clean reference") if reference else None
    entry, load_s = model_entry(loader, model_id, progress)
    progress(0.4, "Enhancing")
    with loader.use(model_id) as enhancer, Stopwatch() as compute:
        separation = enhancer.separate(clip.samples) if hasattr(enhancer, "separate") else None
        enhanced = separation.sources[0] if separation is not None else enhancer.enhance(clip.samples)
    output = finish(enhanced, "enhanced speech")
    values, notes = enhancement_scores(clip.samples, output, clean, rate)
    masks, hop = (separation.masks, separation.frame_hop_s) if separation is not None else (None, 0.0)
    recording = A2ARecording(EnhancementTrace(clip.samples, output, rate, masks, hop),
                             capture.card(entry.spec.family, entry.model, model_id))
    return AudioResult(ENHANCE, model_id, Track("noisy input", clip.samples, rate), [Track("enhanced", output, rate)],
                       compute.seconds, clip.duration_s, load_s, entry.placement.device, entry.placement.dtype,
                       values, notes, recording)


def enhancement_scores(noisy: np.ndarray, enhanced: np.ndarray, clean: AudioClip | None,
                       rate: int) -> tuple[dict[str, float], list[str]]:
    """SI-SDR before/after/improvement against `clean`, or SNR estimates before/after without it (dB)."""
    if clean is None:
        before, after = scores.snr_estimate(noisy, rate), scores.snr_estimate(enhanced, rate)
        return ({"SNR estimate before (dB)": before, "SNR estimate after (dB)": after,
                 "SNR estimate change (dB)": after - before},
                ["No clean reference given: the SNR is estimated from the quietest frames (rough; it assumes steady "
                 "noise and pauses in the speech). Give the clean recording for SI-SDR."])
    notes = []
    if abs(len(clean.samples) - len(noisy)) > 0.05 * len(noisy):
        notes.append(f"The clean reference is {clean.duration_s:.2f} s and the input {len(noisy) / rate:.2f} s: "
                     "they are compared over the shorter one; SI-SDR needs the same recording, sample-aligned.")
    before, after = scores.si_sdr(noisy, clean.samples), scores.si_sdr(enhanced, clean.samples)
    return {"SI-SDR before (dB)": before, "SI-SDR after (dB)": after, "SI-SDR improvement (dB)": after - before}, notes


# ---- separation ---------------------------------------------------------------------------------------------------
def separate(audio: Any, model_id: str | None = None, *, loader: ModelLoader | None = None,
             progress: Progress = no_progress) -> AudioResult:
    """Split a mixture (up to 60 s) into one track per source at the model's rate: two overlapping speakers with
    the SepFormers (8 kHz: the input is resampled to it), or music into drums, bass, other and vocals with Demucs
    (44.1 kHz)."""
    loader = loader or get_loader()
    model_id = check_model(model_id, SEPARATE)
    rate = int(require_task(model_id, SEPARATE).options.get("sample_rate", 8_000))
    clip = load_input(audio, rate, MAX_INPUT_S[SEPARATE])
    entry, load_s = model_entry(loader, model_id, progress)
    progress(0.4, "Separating")
    with loader.use(model_id) as separator, Stopwatch() as compute:
        tracks, trace = separate_samples(separator, clip.samples)
    notes = [f"Sources are scaled to a peak of {PEAK} for listening (the model's output level is arbitrary)."]
    if clip.source_sample_rate > rate:
        notes.append(f"The model works at {rate / 1000:g} kHz: the input was resampled from "
                     f"{clip.source_sample_rate / 1000:g} kHz, so the outputs have no content above "
                     f"{rate / 2000:g} kHz.")
    recording = A2ARecording(trace, capture.card(entry.spec.family, entry.model, model_id))
    return AudioResult(SEPARATE, model_id, Track("mixture", clip.samples, rate), tracks, compute.seconds,
                       clip.duration_s, load_s, entry.placement.device, entry.placement.dtype,
                       source_levels(tracks, trace), notes, recording)


def separate_samples(separator: Any, mixture: np.ndarray) -> tuple[list[Track], SeparationTrace]:
    """Run anything with `separate(samples) -> Separation` (a SepFormer, or an oracle in the benchmark) and turn its
    sources into playable tracks (each scaled to PEAK) and the trace "Inside" draws."""
    separation: Separation = separator.separate(mixture)
    names = list(getattr(separator, "stems", None) or [f"source {index + 1}"
                                                      for index in range(len(separation.sources))])
    tracks = [Track(name, normalized(source), separation.sample_rate)
              for name, source in zip(names, separation.sources, strict=True)]
    trace = SeparationTrace(separation.masks, separation.frame_hop_s, separation.sources, mixture,
                            separation.sample_rate, tuple(names))
    return tracks, trace


def normalized(samples: np.ndarray) -> np.ndarray:
    """Finite float32 samples scaled to a peak of PEAK (silence stays silence)."""
    samples = np.nan_to_num(np.asarray(samples, dtype=np.float32))
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return samples * np.float32(PEAK / peak) if peak > 1e-6 else samples


def source_levels(tracks: list[Track], trace: SeparationTrace) -> dict[str, float]:
    """Each source's share of the summed source energy, in dB (before the listening gain): a near-silent source
    says the model heard fewer speakers than it has outputs."""
    energies = [float(np.sum(np.square(source, dtype=np.float64))) for source in trace.sources]
    total = sum(energies) or 1.0
    return {f"{track.label}: energy share (dB)": float(10 * np.log10(max(energy / total, 1e-10)))
            for track, energy in zip(tracks, energies, strict=True)}

