"""What a transcription run records for the "Inside the model" views, during its one forward pass: Whisper's
encoder input and the probabilities of generate()'s own language-detection step (`WhisperCapture`), the decoder's
per-step probabilities (`TokenRecorder`, a logits processor that only watches), the first CTC emissions
(`CtcEmissions`), how many frames Moonshine's encoder made of each chunk (`EncoderFrames`), a transducer's decoding
steps (`TdtStep`), and the dataclasses that hold them (`AsrInside`, `DecodedToken`). No Gradio; the one picture
made here is faster-whisper's input window, drawn in the background while the engine decodes when the caller will
show it (`start_faster_whisper_input`)."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.audio.dsp import whisper_log_mel
from shared.audio.plots import whisper_window_image
from shared.inside import ThreadHooks, in_background, to_numpy

CTC_VIEW_FRAMES = 1000  # frames kept for the emission picture (20 s at 20 ms): about the plot width in pixels
BEAM_TOKENS_NOTE = ("Per-token probabilities are recorded for greedy decoding (beam size 1); beam search keeps "
                    "several candidate texts at once.")


@dataclass(frozen=True)
class DecodedToken:
    """One token the Whisper decoder wrote (or, where the engine reports no tokens, one word or segment)."""
    text: str
    time: float | None  # a timestamp token's own time; a text token's segment start (s)
    probability: float | None  # softmax probability of the chosen token at its step
    timestamp: bool = False


@dataclass(frozen=True)
class TdtStep:
    """One step of a Token-and-Duration Transducer's greedy decoding: the encoder frame it ran at, the piece it
    emitted ("" for the blank) and the duration it predicted (frames the decoder then skips)."""
    frame: int
    token: str
    duration: int
    blank: bool
    offset_s: float = 0.0  # start (s) of the speech chunk its frame counts from


@dataclass(frozen=True)
class EncodedChunk:
    """One piece of audio the encoder read (start and end in s) and the number of frames it made of it."""
    start: float
    end: float
    frames: int


@dataclass
class AsrInside:
    """What the run kept for the "Inside the model" views: tensors it had anyway, no second forward pass."""
    card: str = ""  # architecture card with the loaded model's parameter count
    log_mel: np.ndarray | None = None  # the first 30 s window's model input (mel bins × 10 ms frames)
    draw_input: bool = False  # the caller will show the views: draw the input window while the engine decodes
    input_image: np.ndarray | None = None  # that picture, when drawn during the run
    pending_input: Future | None = field(default=None, repr=False)  # (log_mel, picture) being computed
    languages: dict[str, float] | None = None  # language code → probability (first window), when detected
    language_note: str = ""  # why there are no language probabilities (English-only, language given)
    tokens: list[DecodedToken] = field(default_factory=list)
    tokens_unit: str = "token"  # "token", "word" or "segment": what one entry of `tokens` is
    tokens_note: str = ""  # why there are no per-token probabilities (beam search)
    emissions: np.ndarray | None = None  # CTC log-probabilities, frames × vocabulary (first CTC_VIEW_FRAMES)
    emission_labels: list[str] = field(default_factory=list)  # the vocabulary, row labels of `emissions`
    blank_id: int = 0
    tdt_steps: list[TdtStep] = field(default_factory=list)  # transducer decoding steps of every speech chunk
    tdt_frame_s: float = 0.08  # seconds per transducer encoder frame
    encoded_chunks: list[EncodedChunk] = field(default_factory=list)  # Moonshine: each chunk's encoder frames


def language_note(multilingual: bool, language: str | None) -> str:
    """Why a run has no language probabilities: an English-only model, or a language code the user gave."""
    if not multilingual:
        return "English-only model: no language was detected (it always writes English)."
    return f"Language given ({language}): no detection ran." if language else "No language probabilities."


# ---- faster-whisper (CTranslate2) ----------------------------------------------------------------------------------
def start_faster_whisper_input(kept: AsrInside, model: Any, samples: np.ndarray, audio_s: float) -> None:
    """Before decoding: compute the log-mel input of 16 kHz `samples` (and, with `kept.draw_input`, its picture) in
    the background; CTranslate2 decodes without the GIL, so this overlaps with it. `keep_faster_whisper` collects
    it. CTranslate2 computes its features internally and does not return them; computing the log-mel is signal
    processing, not a forward pass."""
    n_mels = model.feature_extractor.mel_filters.shape[0]

    def work() -> tuple[np.ndarray, np.ndarray | None]:
        log_mel = whisper_log_mel(samples, n_mels)
        return log_mel, (whisper_window_image(log_mel, audio_s) if kept.draw_input else None)

    kept.pending_input = in_background(work)


def keep_faster_whisper(kept: AsrInside, model: Any, info: Any, tokens: list[DecodedToken], unit: str,
                        language: str | None) -> None:
    """Store a faster-whisper run: its words or segments (`unit`) with their probabilities, the log-mel input (and
    picture) that `start_faster_whisper_input` computed during the run, and the language probabilities when the
    engine detected the language (`info`)."""
    (kept.log_mel, kept.input_image), kept.pending_input = kept.pending_input.result(), None
    kept.tokens, kept.tokens_unit = tokens, unit
    if info.all_language_probs:  # only when the engine detected the language (the same run's first step)
        kept.languages = {code: float(p) for code, p in info.all_language_probs}
    else:
        kept.language_note = language_note(model.model.is_multilingual, language)


# ---- Whisper through transformers -----------------------------------------------------------------------------------
class WhisperCapture:
    """Keeps, from the run itself, the first window's encoder input and the language probabilities of
    generate()'s own detection step (a decoder call over just the start token, without cache). Hooks on the shared
    model only record calls made by this thread: a concurrent request on the same model is not mixed in."""

    def __init__(self, model: Any, *, detect: bool, keep_input: bool) -> None:
        self.model = model
        self.detect = detect
        self.keep_input = keep_input
        self.languages: dict[str, float] | None = None
        self.log_mel: np.ndarray | None = None
        self._hooks = ThreadHooks()

    def __enter__(self) -> WhisperCapture:
        if self.detect:
            self._hooks.after_with_kwargs(self.model, self._language_hook)
        if self.keep_input:
            self._hooks.before(self.model.get_encoder(), self._input_hook)
        return self

    def __exit__(self, *exc: object) -> None:
        self._hooks.__exit__(*exc)

    def _input_hook(self, args: tuple, kwargs: dict) -> None:
        if self.log_mel is not None:
            return
        features = args[0] if args else kwargs.get("input_features")
        if features is not None:
            self.log_mel = to_numpy(features[0])

    def _language_hook(self, kwargs: dict, output: Any) -> None:
        decoder_ids = kwargs.get("decoder_input_ids")
        if (self.languages is not None or kwargs.get("use_cache", True)
                or decoder_ids is None or decoder_ids.shape[-1] != 1):
            return
        lang_to_id = getattr(self.model.generation_config, "lang_to_id", None) or {}
        if lang_to_id:
            self.languages = _language_probabilities(output.logits[0, -1], lang_to_id)


def _language_probabilities(logits: Any, lang_to_id: dict[str, int]) -> dict[str, float]:
    """Softmax over the language tokens only, keyed by code ("<|en|>" → "en")."""
    import torch

    codes = list(lang_to_id)
    ids = torch.tensor([lang_to_id[code] for code in codes], device=logits.device)
    probabilities = torch.softmax(logits[ids].float(), dim=-1).cpu().numpy()
    return {code.strip("<|>"): float(p) for code, p in zip(codes, probabilities, strict=True)}


class TokenRecorder:
    """A logits processor that only watches: per decoding step, the top log-probabilities of each row, after
    Whisper's own rules (timestamps, suppressed tokens) have been applied. Greedy decoding chooses each step's
    argmax, so the chosen token's probability is among them."""

    def __init__(self, top_k: int = 4) -> None:
        self.top_k = top_k
        self.calls: list[dict[str, Any]] = []  # one per generate() call: begin index, steps, last input ids

    def as_processors(self) -> Any:
        """This recorder as generate()'s `logits_processor` argument."""
        from transformers import LogitsProcessorList

        return LogitsProcessorList([self])

    def set_begin_index(self, begin_index: int) -> None:  # Whisper calls this before each generate() call
        self.calls.append({"begin": begin_index, "steps": [], "input_ids": None})

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if not self.calls:
            self.set_begin_index(input_ids.shape[-1])
        top = torch.log_softmax(scores.float(), dim=-1).topk(self.top_k, dim=-1)
        call = self.calls[-1]
        call["steps"].append((top.indices.cpu().numpy(), top.values.cpu().numpy()))
        call["input_ids"] = input_ids
        return scores

    def first_window_tokens(self, tokenizer: Any, generation_config: Any) -> list[DecodedToken]:
        """The first window's tokens (row 0 of the first call) with their probabilities and segment times (s)."""
        if not self.calls or not self.calls[0]["steps"]:
            return []
        call = self.calls[0]
        steps = call["steps"]
        prefix = [] if call["input_ids"] is None else call["input_ids"][0, call["begin"]:].tolist()
        chosen = [*prefix, int(steps[-1][0][0, 0])]
        timestamp_begin, eos_ids = _timestamp_begin(generation_config), _eos_ids(generation_config)
        tokens: list[DecodedToken] = []
        segment_start: float | None = None
        for step, token_id in enumerate(chosen):
            if token_id in eos_ids:
                break
            probability = _chosen_probability(steps[step], token_id)
            if timestamp_begin is not None and token_id >= timestamp_begin:
                segment_start = round((token_id - timestamp_begin) * 0.02, 2)
                tokens.append(DecodedToken(f"[{segment_start:.2f}s]", segment_start, probability, True))
            else:
                tokens.append(DecodedToken(tokenizer.decode([token_id]), segment_start, probability))
        return tokens


def _timestamp_begin(generation_config: Any) -> int | None:
    """The id of the first timestamp token (<|0.00|>), right after <|notimestamps|>."""
    no_timestamps = getattr(generation_config, "no_timestamps_token_id", None)
    return None if no_timestamps is None else no_timestamps + 1


def _eos_ids(generation_config: Any) -> set[int]:
    eos = generation_config.eos_token_id
    return set(eos) if isinstance(eos, list) else {eos}


def _chosen_probability(step: tuple[np.ndarray, np.ndarray], token_id: int) -> float | None:
    """The chosen token's probability at one step (row 0 of the recorded top-k), None if it was not in the top-k."""
    ids, logprobs = step[0][0], step[1][0]
    match = np.flatnonzero(ids == token_id)
    return float(np.exp(logprobs[match[0]])) if len(match) else None


def keep_whisper(kept: AsrInside, capture: WhisperCapture, recorder: TokenRecorder | None, pipe: Any,
                 note: str) -> None:
    """Store a transformers Whisper run: the captured input and language probabilities, the recorded tokens
    (greedy decoding only), and `note` (why there are no language probabilities) when no detection ran."""
    kept.log_mel = capture.log_mel
    kept.languages = capture.languages if capture.detect else None
    kept.language_note = "" if capture.detect else note
    if recorder is not None:
        kept.tokens = recorder.first_window_tokens(pipe.tokenizer, pipe.model.generation_config)
    else:
        kept.tokens_note = BEAM_TOKENS_NOTE


# ---- Moonshine: the encoder reads each chunk at its own length -----------------------------------------------------
class EncoderFrames:
    """Records, for each chunk (start, end in s, in the order they are decoded), the number of frames the encoder
    made of it: the sequence length of the encoder's output in this thread's calls (generate() runs the encoder
    once per chunk; later decoding steps reuse its output). Records nothing when `kept` is None."""

    def __init__(self, encoder: Any, kept: AsrInside | None, chunks: list[tuple[float, float]]) -> None:
        self.encoder = encoder
        self.kept = kept
        self.chunks = chunks
        self._hooks = ThreadHooks()

    def __enter__(self) -> EncoderFrames:
        if self.kept is not None:
            self._hooks.after(self.encoder, self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        self._hooks.__exit__(*exc)

    def _record(self, output: Any) -> None:
        done = len(self.kept.encoded_chunks)
        if done < len(self.chunks):
            start, end = self.chunks[done]
            self.kept.encoded_chunks.append(EncodedChunk(start, end, int(output.last_hidden_state.shape[1])))


# ---- CTC (wav2vec2 / HuBERT / Parakeet CTC) -------------------------------------------------------------------------
class CtcEmissions:
    """The log-probabilities of the first CTC_VIEW_FRAMES frames, taken chunk by chunk from the logits the CTC
    forward passes return anyway; records nothing when `kept` is None."""

    def __init__(self, kept: AsrInside | None) -> None:
        self.kept = kept
        self.chunks: list[np.ndarray] = []
        self.frames = 0

    def add(self, frame_logits: Any) -> None:
        """One chunk's logits (frames × vocabulary, a torch tensor)."""
        still_wanted = CTC_VIEW_FRAMES - self.frames
        if self.kept is None or still_wanted <= 0:
            return
        import torch

        self.chunks.append(torch.log_softmax(frame_logits[:still_wanted].float(), dim=-1).cpu().numpy())
        self.frames += len(self.chunks[-1])

    def store(self, tokenizer: Any) -> None:
        """Write the emissions, their row labels (the vocabulary) and the blank's id into `kept`."""
        if self.kept is None or not self.chunks:
            return
        self.kept.emissions = np.concatenate(self.chunks)
        self.kept.emission_labels = tokenizer.convert_ids_to_tokens(list(range(self.kept.emissions.shape[1])))
        self.kept.blank_id = tokenizer.pad_token_id
