"""Word timing for any transcript (whisperX's idea, for every engine and for pasted text): a CTC model's per-frame
log-probabilities over the clip, computed in overlapping 30 s windows so long audio stays in bounded memory, and
the transcript forced through them (`align.viterbi`). Aligners: the registry's character CTC models (wav2vec2 /
HuBERT, English) and torchaudio's MMS_FA (any language, romanised with uroman). In: 16 kHz mono audio and text;
out: a `WordAlignment` (words with start/end in seconds and a score each, notes, what the trellis picture needs).
No Gradio, no drawing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.audio.intake import AudioClip
from shared.errors import ModelUnavailableError, UserError
from shared.models import registry
from shared.models.loader import ModelLoader, get_loader
from shared.outputs.text_metrics import uroman_romanizer
from shared.progress import Progress, RealTimeFactor, Stopwatch, no_progress
from shared.transcribe import align
from shared.transcribe.align import AlignedWord, NoAlignment, TargetText

SAMPLE_RATE = 16_000
DEFAULT_ALIGNER = "facebook/wav2vec2-base-960h"
MULTILINGUAL_ALIGNER = "torchaudio:MMS_FA"
AUTO = "auto"  # the English CTC model for English text, MMS_FA for any other
WINDOW_S = 30.0  # audio per forward pass (s)
CONTEXT_S = 2.0  # extra audio either side of a window (s), its frames dropped: words at the seams keep context
MMS_FRAME_SAMPLES = 320  # MMS_FA's wav2vec2 convolutions: one frame per 320 samples (20 ms)
MISMATCH_SCORE = 0.3  # mean word score under this: the text probably does not match the audio (a heuristic)
TRELLIS_FRAMES = 750  # frames kept for the trellis picture (15 s at 20 ms)
TRELLIS_TOKENS = 120  # transcript characters kept for it


@dataclass(frozen=True)
class Vocabulary:
    """What an aligner can spell: token ids, the blank, the word delimiter (if any), whether text is romanised
    first, and the samples per output frame."""
    ids: dict[str, int]
    blank: int
    delimiter: str | None
    romanise: bool
    frame_samples: int


@dataclass
class TrellisView:
    """The start of the trellis for the picture: the log-probabilities of the transcript's first characters (rows)
    over the first frames (columns), the best path (row per frame, -1 on blank), and the words' frame spans."""
    log_probs: np.ndarray  # characters × frames
    labels: list[str]
    path: np.ndarray
    words: list[tuple[str, int, int]]  # (word, first frame, end frame)
    frame_s: float
    total_frames: int
    total_tokens: int
    banded: bool


@dataclass
class WordAlignment(RealTimeFactor):
    """A transcript's words with their times (s) and scores, from one aligner; `notes` say what was dropped,
    romanised or guessed; `mismatch` when the text does not seem to be what is said."""
    words: list[AlignedWord]
    model_id: str
    device: str
    dtype: str
    audio_s: float
    compute_s: float  # forward passes and the path search together (s)
    load_s: float
    score: float | None  # mean word score
    notes: list[str] = field(default_factory=list)
    trellis: TrellisView | None = field(default=None, repr=False)

    @property
    def mismatch(self) -> bool:
        return self.score is None or self.score < MISMATCH_SCORE

    def to_json(self) -> dict[str, Any]:
        return {"aligner": self.model_id, "device": self.device, "dtype": self.dtype, "audio_s": round(self.audio_s, 3),
                "compute_s": round(self.compute_s, 3), "load_s": round(self.load_s, 3),
                "score": None if self.score is None else round(self.score, 4), "mismatch": self.mismatch,
                "notes": self.notes,
                "words": [{"start": round(w.start, 3), "end": round(w.end, 3), "text": w.text,
                           "score": None if w.score is None else round(w.score, 4)} for w in self.words]}


def aligner_ids() -> list[str]:
    """The models that can align: character CTC speech recognisers and the dedicated aligners."""
    return [spec.id for spec in registry.models_for(registry.ASR) if spec.family == "ctc"] + \
        [spec.id for spec in registry.models_for(registry.ALIGN)]


def resolve_aligner(model_id: str, text: str, language: str | None = None) -> str:
    """`model_id`, or for AUTO: DEFAULT_ALIGNER (English) when the language is English (or, not known, the text is
    plain ASCII), MULTILINGUAL_ALIGNER otherwise."""
    if model_id != AUTO:
        return model_id
    english = language == "en" if language else text.isascii()
    return DEFAULT_ALIGNER if english else MULTILINGUAL_ALIGNER


def align_words(clip: AudioClip, text: str, model_id: str = AUTO, *, language: str | None = None,
                loader: ModelLoader | None = None, progress: Progress = no_progress) -> WordAlignment:
    """Time every word of `text` in a 16 kHz mono clip with the CTC aligner `model_id` (AUTO: by `language`, see
    `resolve_aligner`): start/end (s) and a score per word. Raises UserError for empty text, an unknown aligner,
    text the audio is too short for, or text with no character the aligner knows; a text that does not match the
    audio comes back with `mismatch` set and a note."""
    if not text or not text.strip():
        raise UserError("There is no text to align: paste the transcript (or transcribe first).")
    model_id = resolve_aligner(model_id, text, language)
    if model_id not in aligner_ids():
        raise UserError(f"{model_id} cannot align words: pick one of {', '.join(aligner_ids())}.")
    if clip.sample_rate != SAMPLE_RATE:
        raise ValueError("align_words() expects 16 kHz audio: load it with load_audio(path, 16_000)")
    loader = loader or get_loader()
    progress(0.05, f"Loading {model_id}")
    with Stopwatch() as load:
        entry = _load(loader, model_id)
    with loader.use(model_id) as model, Stopwatch() as compute:
        vocabulary = vocabulary_of(entry.spec, model)
        target = _target(text, vocabulary)
        log_probs = emissions(entry.spec, model, clip.samples, vocabulary.frame_samples, progress)
        progress(0.9, "Searching the best path through the trellis")
        words, path, banded = _search(log_probs, target, vocabulary, clip.duration_s)
    frame_s = vocabulary.frame_samples / SAMPLE_RATE
    scored = [w.score for w in words if w.score is not None]
    placement = entry.placement
    return WordAlignment(words, model_id, placement.device, placement.dtype, clip.duration_s, compute.seconds,
                         load.seconds, float(np.mean(scored)) if scored else None, _notes(target, words, vocabulary),
                         trellis_view(log_probs, target, path, words, vocabulary, frame_s, banded))


# ---- the model's side: vocabulary and emissions ---------------------------------------------------------------------
def _load(loader: ModelLoader, model_id: str) -> Any:
    """The aligner's cache entry; when it cannot be loaded, the loader's reason without its advice to pick a
    built-in model (none of those can align), and what to do instead."""
    try:
        return loader.entry(model_id)
    except ModelUnavailableError as exc:
        reason = str(exc).split(". ")[0].rstrip(".")
        raise ModelUnavailableError(f"{reason}. Word alignment needs a CTC model and none is built in: connect once "
                                    f"to download {model_id} (it is cached afterwards).") from exc


def vocabulary_of(spec: registry.ModelSpec, model: Any) -> Vocabulary:
    """The loaded aligner's alphabet: MMS_FA's romanised one, or a CTC pipeline tokenizer's characters."""
    if spec.engine == "torchaudio":
        import torchaudio

        bundle = getattr(torchaudio.pipelines, spec.options["bundle"])
        return Vocabulary(bundle.get_dict(star=None), 0, None, True, MMS_FRAME_SAMPLES)
    tokenizer = model.tokenizer
    return Vocabulary(tokenizer.get_vocab(), tokenizer.pad_token_id, tokenizer.word_delimiter_token, False,
                      int(np.prod(model.model.config.conv_stride)))


def emissions(spec: registry.ModelSpec, model: Any, samples: np.ndarray, frame_samples: int,
              progress: Progress = no_progress) -> np.ndarray:
    """Log-probabilities (frames × vocabulary, float32) over the whole clip, one forward pass per WINDOW_S window
    with CONTEXT_S of audio either side whose frames are dropped."""
    forward = _torchaudio_forward(model) if spec.engine == "torchaudio" else _pipeline_forward(model)
    return windowed(forward, samples, frame_samples, progress)


def windowed(forward: Callable[[np.ndarray], np.ndarray], samples: np.ndarray, frame_samples: int,
             progress: Progress = no_progress, window_s: float = WINDOW_S,
             context_s: float = CONTEXT_S) -> np.ndarray:
    """`forward(audio) → frames × vocabulary` run window by window over `samples`; the frames of each window's
    context are cut off so the pieces join into one matrix of about len(samples) / frame_samples frames."""
    window = int(window_s * SAMPLE_RATE) // frame_samples * frame_samples
    context = int(context_s * SAMPLE_RATE) // frame_samples * frame_samples
    starts = list(range(0, len(samples), window))
    pieces = []
    for index, begin in enumerate(starts):
        left = min(context, begin)
        output = forward(samples[begin - left: begin + window + context])
        keep = int(np.ceil(min(window, len(samples) - begin) / frame_samples))
        pieces.append(output[left // frame_samples: left // frame_samples + keep])
        progress(0.1 + 0.8 * (index + 1) / len(starts), f"CTC forward pass, window {index + 1} of {len(starts)}")
    if not pieces or sum(len(piece) for piece in pieces) == 0:
        raise UserError("The audio is too short to align anything.")
    return np.concatenate(pieces).astype(np.float32)


def _pipeline_forward(pipe: Any) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    def forward(audio: np.ndarray) -> np.ndarray:
        inputs = pipe.feature_extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        with torch.inference_mode():
            logits = pipe.model(inputs.input_values.to(pipe.model.device, pipe.model.dtype)).logits[0]
        return torch.log_softmax(logits.float(), -1).cpu().numpy()

    return forward


def _torchaudio_forward(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    device = next(model.parameters(), torch.empty(0)).device

    def forward(audio: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            log_probs, _ = model(torch.from_numpy(np.ascontiguousarray(audio, np.float32))[None].to(device))
        return log_probs[0].float().cpu().numpy()

    return forward


def romanise(word: str) -> str:
    """A word in Latin letters (uroman: any script), lower case, as MMS_FA's alphabet spells; ASCII words as they
    are (uroman would not change them, and its tables take seconds to read)."""
    return (word if word.isascii() else uroman_romanizer().romanize_string(word)).lower()


# ---- the text's side -------------------------------------------------------------------------------------------------
def _target(text: str, vocabulary: Vocabulary) -> TargetText:
    target = align.prepare_text(text, vocabulary.ids, vocabulary.delimiter,
                                romanise if vocabulary.romanise else None)
    if not target.tokens:
        raise UserError("None of the text's characters is in the aligner's alphabet"
                        + (" (even romanised)" if vocabulary.romanise else "")
                        + f": nothing to align. Try {MULTILINGUAL_ALIGNER} for other scripts.")
    return target


def _search(log_probs: np.ndarray, target: TargetText, vocabulary: Vocabulary,
            audio_s: float) -> tuple[list[AlignedWord], np.ndarray, bool]:
    frame_s = vocabulary.frame_samples / SAMPLE_RATE
    needed = align.min_frames(target.tokens)
    if needed > len(log_probs):
        raise UserError(f"The text is too long for the audio: its {len(target.tokens)} characters need at least "
                        f"{needed * frame_s:.1f} s at one {frame_s * 1000:.0f} ms frame each, and the audio is "
                        f"{audio_s:.1f} s. Is it the right transcript?")
    half_width = align.default_half_width(len(log_probs), 2 * len(target.tokens) + 1, frame_s)
    try:
        path, _ = align.viterbi(log_probs, target.tokens, vocabulary.blank, half_width)
    except NoAlignment as exc:
        raise UserError(f"The text could not be aligned to the audio ({exc}) Is it the right transcript?") from exc
    spans = align.token_spans(path, log_probs, target.tokens)
    return align.word_spans(target, spans, frame_s), path, half_width is not None


def _notes(target: TargetText, words: list[AlignedWord], vocabulary: Vocabulary) -> list[str]:
    notes = []
    if vocabulary.romanise and not all(word.isascii() for word in target.words):
        notes.append("The text was romanised with uroman (the aligner spells Latin letters only).")
    if target.dropped:
        notes.append(f"Characters the aligner has no letter for were skipped: {' '.join(target.dropped)}")
    unaligned = [w.text for w in words if w.score is None]
    if unaligned:
        notes.append(f"{len(unaligned)} word(s) had no letter to align (e.g. digits: write them out) and were "
                     f"placed between their neighbours: {', '.join(unaligned[:10])}")
    scored = [w.score for w in words if w.score is not None]
    if not scored or float(np.mean(scored)) < MISMATCH_SCORE:
        notes.append("The alignment score is low: the text may not be what is said in this audio (or the aligner "
                     "does not know the language), so the times may be wrong.")
    return notes


def trellis_view(log_probs: np.ndarray, target: TargetText, path: np.ndarray, words: list[AlignedWord],
                 vocabulary: Vocabulary, frame_s: float, banded: bool) -> TrellisView:
    """The first TRELLIS_FRAMES frames and TRELLIS_TOKENS characters of the alignment, for the picture."""
    frames = min(len(log_probs), TRELLIS_FRAMES)
    count = min(len(target.tokens), TRELLIS_TOKENS)
    tokens = np.asarray(target.tokens[:count])
    rows = np.where(path[:frames] % 2 == 1, (path[:frames] - 1) // 2, -1)
    rows[rows >= count] = -1
    names = {index: label for label, index in vocabulary.ids.items()}
    spans = [(w.text, round(w.start / frame_s), round(w.end / frame_s)) for w in words
             if w.score is not None and w.start / frame_s < frames]
    return TrellisView(log_probs[:frames, tokens].T.copy(), [names.get(int(t), "?") for t in tokens], rows, spans,
                       frame_s, len(log_probs), len(target.tokens), banded)
