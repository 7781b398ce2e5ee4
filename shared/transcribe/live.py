"""Live transcription without Gradio: a `LiveStream` is fed audio chunks (any size, any sample rate) and answers
each with a `LiveUpdate`: `committed` text, which is final and only ever grows, and `tentative` text, which may
still change. Every ASR model in the registry works, through `shared.transcribe.run.transcribe` (word timestamps).

The policy, in stream time (seconds since the first chunk):

1. Intake. A chunk is checked (1-D, finite; the first chunk fixes the stream's rate) and resampled to 16 kHz by
   one streaming resampler per stream, so chunk edges do not click, then appended to the working buffer.
2. Segmentation. The stream's own Silero VAD (its recurrent state belongs to this stream) sees only the new audio,
   in 512-sample windows. Silence is never transcribed: while nobody speaks the buffer keeps a short lead-in only.
3. Inside an utterance, LocalAgreement-2 (ufal whisper_streaming): after every `min_step_s` of new audio the
   working buffer is transcribed again, and the longest common prefix of the last two hypotheses (words compared
   lower-case without punctuation) is committed. The rest of the newest hypothesis is the tentative text.
4. When the VAD sees the utterance end (`min_silence_s` of silence), the utterance is transcribed one last time,
   all of it is committed, and it leaves the buffer.
5. Bound. When the buffer grows past `max_buffer_s` (a long talk without pauses) it is cut at the end of the last
   committed word, the uncommitted tail kept; should that tail alone be too long, its older words are committed
   first. No transcription sees more than `max_buffer_s` plus one chunk, so the cost per second of talk stays
   flat however long the stream runs.

At the end, `finish()` commits what is left and `transcript()` returns a `Transcript` with absolute times, so the
file mode's SRT/VTT/JSON downloads work unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from shared.audio.intake import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioClip, scale_pcm
from shared.errors import UserError
from shared.models.loader import ModelLoader, get_loader
from shared.models.registry import ASR, require_task
from shared.models.vad import VAD_MODEL_ID, StreamModel
from shared.progress import Stopwatch
from shared.transcribe.run import SAMPLE_RATE, TranscribeOptions, Transcript, Word, segments_from_words, transcribe

VAD_WINDOW = 512  # samples per Silero VAD window at 16 kHz (32 ms)
LEAD_IN_S = 0.5  # seconds of audio kept while nobody speaks, so a starting utterance keeps its first sound
REPEAT_MARGIN_S = 0.1  # a hypothesis word starting this long before the last committed word's end is a repeat
MAX_REPEAT_WORDS = 5  # longest run of committed words a new hypothesis may repeat at its start (ufal)
MIN_CLIP_S = 0.1  # shorter audio is not worth a transcription
_PUNCTUATION = re.compile(r"[^\w']")


@dataclass(frozen=True)
class LiveUpdate:
    """What one `feed`/`finish` call changed. `committed`: all committed text so far (an earlier update's
    `committed` is always a prefix of a later one's); `tentative`: the uncommitted rest of the newest hypothesis;
    `words`: the words this call committed (absolute times, s); `buffer_s`: the working buffer after the call (s);
    `audio_s`: all audio fed so far (s); `compute_s`: this call's wall-clock time (s); `latencies_s`: per committed
    word, stream time at commit + this call's compute − the word's end (s)."""
    committed: str
    tentative: str
    words: tuple[Word, ...]
    buffer_s: float
    audio_s: float
    compute_s: float
    latencies_s: tuple[float, ...]

    @property
    def text(self) -> str:
        """Committed and tentative text together, as a person would read it."""
        return f"{self.committed} {self.tentative}".strip()


def normalized(word: str) -> str:
    """A word as LocalAgreement compares it: lower-case, punctuation stripped ("Dog." == "dog")."""
    return _PUNCTUATION.sub("", word.lower()) or word.strip()


def agreed_prefix(previous: Sequence[Word], current: Sequence[Word]) -> int:
    """How many leading words two hypotheses agree on (LocalAgreement-2's longest common prefix)."""
    count = 0
    for old, new in zip(previous, current, strict=False):
        if normalized(old.text) != normalized(new.text):
            break
        count += 1
    return count


def beyond(words: Sequence[Word], context: Sequence[Word]) -> list[Word]:
    """The words of a hypothesis not yet committed: those starting after the end of the utterance's last committed
    word (`context`), less a repeat of up to MAX_REPEAT_WORDS committed words at their start (ufal's n-gram check)."""
    if not context:
        return list(words)
    last_end = context[-1].end
    fresh = [word for word in words if word.start > last_end - REPEAT_MARGIN_S]
    if not fresh or fresh[0].start - last_end >= 1.0:
        return fresh
    return fresh[_repeated(context, fresh):]


def _repeated(context: Sequence[Word], fresh: Sequence[Word]) -> int:
    """The length of the longest run of the committed tail that `fresh` starts with (0 if none)."""
    tail = [normalized(word.text) for word in context[-MAX_REPEAT_WORDS:]]
    head = [normalized(word.text) for word in fresh[:MAX_REPEAT_WORDS]]
    for size in range(min(len(tail), len(head)), 0, -1):
        if tail[-size:] == head[:size]:
            return size
    return 0


def leading_until(words: Sequence[Word], end_s: float) -> int:
    """How many leading words end at or before `end_s` seconds."""
    count = 0
    while count < len(words) and words[count].end <= end_s:
        count += 1
    return count


def timed_words(result: Transcript) -> list[Word]:
    """The transcript's words with their times (s); an engine without word timestamps (Moonshine) gives each word
    its segment's span, so agreement still works on the text and the buffer is cut at segment ends."""
    if result.words or not result.segments:
        return result.words
    return [Word(segment.start, segment.end, text) for segment in result.segments for text in segment.text.split()]


def _check_chunk(samples: Any) -> np.ndarray:
    """A chunk as float32 in [-1, 1]: 1-D, numeric, finite (integer PCM is scaled by its type's range)."""
    array = np.asarray(samples)
    if array.ndim != 1:
        raise UserError(f"A live audio chunk must be mono: a 1-D array of samples, not shape {array.shape}.")
    if not (np.issubdtype(array.dtype, np.number) and not np.iscomplexobj(array)):
        raise UserError(f"A live audio chunk must hold real numbers, not {array.dtype}.")
    pcm = scale_pcm(array)
    if not np.isfinite(pcm).all():
        raise UserError("The live audio chunk contains NaN or infinite sample values.")
    return pcm


def _check_rate(sample_rate: Any) -> int:
    """The sample rate (Hz) as an int within what the app accepts."""
    try:
        rate = int(sample_rate)
    except (TypeError, ValueError):
        rate = 0
    if rate != sample_rate or not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise UserError(f"A live chunk's sample rate must be a whole number of Hz between {MIN_SAMPLE_RATE:,} and "
                        f"{MAX_SAMPLE_RATE:,}, not {sample_rate}.")
    return rate


class _Resampler:
    """Source rate → 16 kHz across chunks with one filter state (resampling each chunk alone clicks at its edges)."""

    def __init__(self, rate: int) -> None:
        import soxr

        self.rate = rate
        self._stream = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32",
                                                                           quality="HQ")

    def __call__(self, pcm: np.ndarray, last: bool = False) -> np.ndarray:
        """The 16 kHz samples this chunk completes; `last=True` also flushes the filter's delay line."""
        if self._stream is None:
            return pcm.astype(np.float32)
        return self._stream.resample_chunk(pcm.astype(np.float32), last=last).astype(np.float32, copy=False)


class _Vad:
    """This stream's own Silero VAD state over the app's one Silero model (shared.models.vad): fed new 16 kHz audio,
    it returns speech start/end events as absolute sample positions; less than one 512-sample window waits for the
    next chunk."""

    def __init__(self, loader: ModelLoader, min_silence_s: float, threshold: float, pad_s: float) -> None:
        from silero_vad import VADIterator

        model = StreamModel(loader.entry(VAD_MODEL_ID).model)
        self._iterator = VADIterator(model, threshold=threshold, sampling_rate=SAMPLE_RATE,
                                     min_silence_duration_ms=int(min_silence_s * 1000),
                                     speech_pad_ms=int(pad_s * 1000))
        self._waiting = np.zeros(0, np.float32)

    def __call__(self, fresh: np.ndarray) -> list[tuple[str, int]]:
        """("start" | "end", absolute sample) events in the windows `fresh` completes, in order."""
        import torch

        audio = np.concatenate([self._waiting, fresh])
        whole = len(audio) // VAD_WINDOW * VAD_WINDOW
        self._waiting = audio[whole:]
        events: list[tuple[str, int]] = []
        for begin in range(0, whole, VAD_WINDOW):
            event = self._iterator(torch.from_numpy(audio[begin:begin + VAD_WINDOW]))
            events += list((event or {}).items())
        return events


class LiveStream:
    """One live transcription (a microphone session, or a file fed as if live): its own buffer, VAD, resampler and
    committed words. `max_buffer_s`: longest working buffer kept (s); `min_step_s`: new audio between two
    transcriptions inside an utterance (s); `min_silence_s`: silence that ends an utterance (s); `options`: the
    language/task/beam for `transcribe` (word timestamps are always on, its silence gate off: the VAD does that).
    Not thread-safe: one stream per session."""

    def __init__(self, model_id: str, *, loader: ModelLoader | None = None, max_buffer_s: float = 20.0,
                 min_step_s: float = 1.0, min_silence_s: float = 0.5, vad_threshold: float = 0.5,
                 speech_pad_s: float = 0.1, options: TranscribeOptions = TranscribeOptions()) -> None:
        self.spec = require_task(model_id, ASR)
        if not 0 < min_step_s < max_buffer_s:
            raise ValueError("need 0 < min_step_s < max_buffer_s (seconds)")
        self.model_id, self.max_buffer_s, self.min_step_s = model_id, max_buffer_s, min_step_s
        self._options = replace(options, timestamps="word", detect_silence=False)
        self._loader = loader or get_loader()
        self._vad = _Vad(self._loader, min_silence_s, vad_threshold, speech_pad_s)
        self._resampler: _Resampler | None = None
        self._init_state()

    def _init_state(self) -> None:
        self._audio = np.zeros(0, np.float32)  # the working buffer, 16 kHz
        self._start = 0  # absolute 16 kHz sample of self._audio[0]
        self._fed = 0  # samples fed, at the source rate
        self._speaking = False
        self._stepped_at = 0  # absolute sample where the last transcription's buffer ended
        self._committed: list[Word] = []
        self._committed_text = ""
        self._utterance_from = 0  # index in self._committed of the running utterance's first word
        self._pending: list[Word] = []  # the newest hypothesis beyond the committed words: the tentative text
        self._last: Transcript | None = None
        self._compute_s = self._load_s = 0.0
        self.peak_buffer_s = 0.0  # longest buffer transcribed so far (s)
        self.latencies_s: list[float] = []  # every committed word's latency so far (s), see LiveUpdate
        self.finished = False

    # ---- public API ---------------------------------------------------------------------------------------------
    @property
    def audio_s(self) -> float:
        """Seconds of audio fed so far."""
        return self._fed / self._resampler.rate if self._resampler else 0.0

    @property
    def word_count(self) -> int:
        """Words committed so far."""
        return len(self._committed)

    @property
    def compute_s(self) -> float:
        """Seconds of compute spent by all `feed`/`finish` calls so far."""
        return self._compute_s

    @property
    def buffer_s(self) -> float:
        """Seconds in the working buffer."""
        return len(self._audio) / SAMPLE_RATE

    def feed(self, samples: np.ndarray, sample_rate: int) -> LiveUpdate:
        """Take one chunk (1-D samples, float or integer PCM, at `sample_rate` Hz; any length) and return what it
        committed. Raises UserError for a bad chunk, a rate other than the first chunk's, or a finished stream."""
        if self.finished:
            raise UserError("This live stream has finished: start a new one.")
        with Stopwatch() as clock:
            fresh = self._intake(samples, sample_rate)
            committed = self._advance(fresh)
        return self._update(committed, clock.seconds)

    def finish(self) -> LiveUpdate:
        """End the stream: the running utterance is transcribed one last time and committed; tentative becomes ""."""
        with Stopwatch() as clock:
            committed: list[Word] = []
            if not self.finished and self._resampler is not None:
                committed = self._segment(self._resampler(np.zeros(0, np.float32), last=True))
                committed += self._end_utterance(self._end) if self._speaking else []
            self.finished = True
        return self._update(committed, clock.seconds)

    def transcript(self) -> Transcript:
        """Everything committed so far as a `Transcript` (absolute times in s, words, segments), with the engine,
        device and dtype of the last transcription and the stream's totals: audio, compute and load seconds."""
        last = self._last
        return Transcript(
            self._committed_text, segments_from_words(self._committed), self.model_id, self.spec.engine,
            last.device if last else "cpu", last.dtype if last else "float32", self.audio_s, self._compute_s,
            self._load_s, last.language if last else None, last.language_probability if last else None,
            no_speech=not self._committed_text)

    # ---- intake and segmentation --------------------------------------------------------------------------------
    def _intake(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """The chunk checked and resampled to 16 kHz; the first chunk fixes the stream's rate."""
        pcm = _check_chunk(samples)
        rate = _check_rate(sample_rate)
        if self._resampler is None:
            self._resampler = _Resampler(rate)
        elif rate != self._resampler.rate:
            raise UserError(f"This live stream started at {self._resampler.rate:,} Hz and a chunk arrived at "
                            f"{rate:,} Hz: a stream keeps one sample rate. Stop and start a new stream.")
        self._fed += len(pcm)
        return self._resampler(pcm)

    def _advance(self, fresh: np.ndarray) -> list[Word]:
        """Run the policy on a new 16 kHz chunk: VAD events, a LocalAgreement step when due, the buffer bound."""
        committed = self._segment(fresh)
        if self._speaking and (self._end - self._stepped_at >= self.min_step_s * SAMPLE_RATE
                               or self.buffer_s > self.max_buffer_s):
            committed += self._step()
        if self._speaking and self.buffer_s > self.max_buffer_s:
            committed += self._bound()
        if not self._speaking:
            self._drop_until(self._end - int(LEAD_IN_S * SAMPLE_RATE))
        return committed

    def _segment(self, fresh: np.ndarray) -> list[Word]:
        """Append the audio and act on the VAD events it completes: commit each utterance that ended."""
        self._audio = np.concatenate([self._audio, fresh])
        committed: list[Word] = []
        for kind, at in self._vad(fresh):
            committed += self._start_utterance(at) if kind == "start" else self._end_utterance(at)
        return committed

    def _start_utterance(self, at: int) -> list[Word]:
        """Speech starts at absolute sample `at`: the silence before it leaves the buffer."""
        self._speaking = True
        self._drop_until(at)
        self._stepped_at = max(at, self._start)
        self._utterance_from = len(self._committed)
        return []

    def _end_utterance(self, at: int) -> list[Word]:
        """The utterance ends at absolute sample `at`: transcribe it one last time, commit it all, drop it."""
        committed = self._commit(self._hypothesis(min(at, self._end)))
        self._drop_until(at)
        self._speaking, self._pending = False, []
        return committed

    # ---- LocalAgreement-2 and the bound -------------------------------------------------------------------------
    def _step(self) -> list[Word]:
        """Transcribe the buffer again and commit the words this hypothesis and the previous one agree on."""
        current = self._hypothesis(self._end)
        agreed = agreed_prefix(self._pending, current)
        self._pending = current[agreed:]
        self._stepped_at = self._end
        return self._commit(current[:agreed])

    def _bound(self) -> list[Word]:
        """Cut the buffer back to at most max_buffer_s at the last committed word's end; if the uncommitted tail is
        longer than that, first commit its words ending before the buffer's last max_buffer_s / 2 seconds."""
        earliest = self._end - int(self.max_buffer_s * SAMPLE_RATE)
        committed: list[Word] = []
        if self._committed_end() < earliest:
            forced = leading_until(self._pending, (self._end / SAMPLE_RATE) - self.max_buffer_s / 2)
            committed, self._pending = self._commit(self._pending[:forced]), self._pending[forced:]
        self._drop_until(max(self._committed_end(), earliest))
        return committed

    def _hypothesis(self, until: int) -> list[Word]:
        """The words (absolute times, s) of the buffer up to absolute sample `until` not yet committed."""
        samples = self._audio[: max(0, until - self._start)]
        if len(samples) < MIN_CLIP_S * SAMPLE_RATE:
            return []
        result = transcribe(AudioClip(samples, SAMPLE_RATE, SAMPLE_RATE, 1, "live", "live"), self.model_id,
                            self._options, loader=self._loader)
        self._last, self._load_s = result, max(self._load_s, result.load_s)
        self.peak_buffer_s = max(self.peak_buffer_s, len(samples) / SAMPLE_RATE)
        offset = self._start / SAMPLE_RATE
        words = [Word(offset + w.start, offset + w.end, w.text.strip(), w.probability)
                 for w in timed_words(result) if w.text.strip()]
        return beyond(words, self._committed[self._utterance_from:])

    def _commit(self, words: Sequence[Word]) -> list[Word]:
        """Append words to the committed ones, their times made non-decreasing; returns them."""
        kept = []
        for word in words:
            floor = self._committed[-1].end if self._committed else 0.0
            start = max(word.start, floor)
            kept.append(Word(start, max(word.end, start), word.text, word.probability))
            self._committed.append(kept[-1])
        self._committed_text = " ".join(filter(None, [self._committed_text, *(w.text for w in kept)]))
        return kept

    # ---- buffer bookkeeping -------------------------------------------------------------------------------------
    @property
    def _end(self) -> int:
        """Absolute 16 kHz sample just after the buffer's last one."""
        return self._start + len(self._audio)

    def _committed_end(self) -> int:
        """Absolute sample where the last committed word ends (0 before any)."""
        return round(self._committed[-1].end * SAMPLE_RATE) if self._committed else 0

    def _drop_until(self, at: int) -> None:
        """Forget the buffer's audio before absolute sample `at` (clamped to the buffer)."""
        cut = min(max(at, self._start), self._end) - self._start
        if cut:
            self._audio = self._audio[cut:].copy()
            self._start += cut

    def _update(self, committed: list[Word], compute_s: float) -> LiveUpdate:
        self._compute_s += compute_s
        audio_s = self.audio_s
        latencies = tuple(audio_s + compute_s - word.end for word in committed)
        self.latencies_s.extend(latencies)
        return LiveUpdate(self._committed_text, " ".join(w.text for w in self._pending), tuple(committed),
                          self.buffer_s, audio_s, compute_s, latencies)
