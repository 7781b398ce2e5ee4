"""The live stream object (shared/transcribe/live.py) on Piper speech through the built-in faster-whisper engine, and
on synthetic chunk sequences: committed text only grows, tentative text converges, silence commits, chunks of 10 ms
and of 10 s work, rate changes and bad chunks are refused, the working buffer stays bounded."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from shared.audio.intake import AudioClip, resample
from shared.errors import UserError
from shared.outputs.text_metrics import wer
from shared.transcribe.live import LEAD_IN_S, LiveStream, LiveUpdate, agreed_prefix, beyond, normalized
from shared.transcribe.run import TranscribeOptions, Transcript, Word, transcribe
from tests.speech_data import PIPER_ROUND_TRIP_WER, PIPER_SENTENCES, synthesize

MODEL = "offline:whisper-tiny.en"
RATE = 22_050  # Piper's rate: every stream below but one resamples
Streamed = tuple[list[LiveUpdate], LiveUpdate, LiveStream]  # every update, the finishing one, the stream


@pytest.fixture(scope="module")
def sentences() -> list[np.ndarray]:
    """The four test sentences spoken by the Piper voice (22.05 kHz)."""
    spoken = [synthesize(text) for text in PIPER_SENTENCES]
    assert all(rate == RATE for _, rate in spoken)
    return [samples for samples, _ in spoken]


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), np.float32)


def feed_all(stream: LiveStream, audio: np.ndarray, chunk_s: float, rate: int = RATE) -> list[LiveUpdate]:
    step = max(1, int(chunk_s * rate))
    return [stream.feed(audio[begin:begin + step], rate) for begin in range(0, len(audio), step)]


@pytest.fixture(scope="module")
def talk(sentences: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Two sentences, 2 s of silence, two sentences, 1 s of silence; and where the first silence ends (samples)."""
    first = np.concatenate([sentences[0], sentences[1], silence(2.0)])
    return np.concatenate([first, sentences[2], sentences[3], silence(1.0)]), len(first)


@pytest.fixture(scope="module")
def streamed(talk: tuple[np.ndarray, int]) -> Streamed:
    """The talk fed in 0.5 s chunks: every update, the finishing one, and the stream."""
    stream = LiveStream(MODEL)
    updates = feed_all(stream, talk[0], 0.5)
    return updates, stream.finish(), stream


def test_committed_text_only_grows(streamed: Streamed) -> None:
    updates, final, _ = streamed
    texts = [update.committed for update in [*updates, final]]
    assert all(later.startswith(earlier) for earlier, later in pairwise(texts))
    assert len(set(texts)) > 4  # it grew in steps, not all at the end
    words = [word.text for update in [*updates, final] for word in update.words]
    assert " ".join(words) == final.committed


def test_silence_commits_the_utterance_before_finish(talk: tuple[np.ndarray, int], streamed: Streamed) -> None:
    updates, _, _ = streamed
    after_pause = next(update for update in updates if update.audio_s >= talk[1] / RATE)
    assert wer(" ".join(PIPER_SENTENCES[:2]), after_pause.committed) <= PIPER_ROUND_TRIP_WER
    assert after_pause.tentative == "" and after_pause.buffer_s <= LEAD_IN_S + 0.05  # the utterance left the buffer


def test_tentative_converges_to_the_offline_transcript(talk: tuple[np.ndarray, int], streamed: Streamed) -> None:
    updates, final, _ = streamed
    assert any(update.tentative for update in updates)
    assert final.tentative == "" and final.text == final.committed
    samples = resample(talk[0], RATE, 16_000)
    offline = transcribe(AudioClip(samples, 16_000, 16_000, 1, "wav", "talk"), MODEL, TranscribeOptions()).text
    assert wer(offline, final.committed) <= 0.1
    assert wer(" ".join(PIPER_SENTENCES), final.committed) <= PIPER_ROUND_TRIP_WER


def test_update_timings_and_the_final_transcript(streamed: Streamed) -> None:
    updates, final, stream = streamed
    assert updates[-1].audio_s == pytest.approx(final.audio_s) and final.audio_s > 14
    latencies = [latency for update in updates for latency in update.latencies_s]
    assert latencies and min(latencies) >= -0.05 and np.median(latencies) < 10
    result = stream.transcript()
    assert isinstance(result, Transcript) and result.text == final.committed and result.engine == "faster-whisper"
    words = result.words
    assert [word.text for word in words] == final.committed.split()
    assert all(a.end <= b.start + 1e-6 for a, b in pairwise(words))  # absolute, in order
    assert words[-1].end <= result.audio_s and words[-1].start > 8  # the second utterance at its stream time
    assert result.audio_s == pytest.approx(final.audio_s) and result.compute_s > 0
    assert result.to_json()["segments"][0]["words"]


def test_ten_millisecond_chunks_at_16_khz(sentences: list[np.ndarray]) -> None:
    audio = np.concatenate([resample(sentences[0], RATE, 16_000), silence(1.0, 16_000)])
    stream = LiveStream(MODEL)
    updates = feed_all(stream, audio, 0.01, 16_000)
    # committed by the pause
    assert len(updates) >= 300 and wer(PIPER_SENTENCES[0], updates[-1].committed) <= PIPER_ROUND_TRIP_WER
    assert stream.finish().committed == updates[-1].committed


def test_one_ten_second_chunk(sentences: list[np.ndarray]) -> None:
    audio = np.concatenate([silence(1.0), sentences[1]])
    audio = np.concatenate([audio, silence(10.0 - len(audio) / RATE)])
    stream = LiveStream(MODEL)
    update = stream.feed(audio, RATE)
    assert wer(PIPER_SENTENCES[1], update.committed) <= PIPER_ROUND_TRIP_WER and update.buffer_s <= LEAD_IN_S + 0.05
    assert update.words[0].start >= 0.8  # after the leading second of silence
    assert stream.finish().committed == update.committed


def test_the_buffer_stays_bounded_without_pauses(sentences: list[np.ndarray]) -> None:
    audio = np.concatenate(sentences[1:])  # Piper leaves no pause long enough to end an utterance: one long talk
    stream = LiveStream(MODEL, max_buffer_s=3.0, min_silence_s=60.0)
    updates = feed_all(stream, audio, 0.5)
    assert max(update.buffer_s for update in updates) <= 3.0
    assert stream.peak_buffer_s <= 3.0 + 0.5  # never transcribed more than the bound plus one chunk
    final = stream.finish()
    assert wer(" ".join(PIPER_SENTENCES[1:]), final.committed) <= 0.25


def test_silence_alone_is_never_transcribed() -> None:
    stream = LiveStream(MODEL)
    updates = feed_all(stream, silence(5.0), 0.5)
    assert stream.finish().committed == "" and stream.peak_buffer_s == 0.0  # no transcription ran
    assert max(update.buffer_s for update in updates) <= LEAD_IN_S + 0.5
    assert stream.transcript().no_speech


def test_a_sample_rate_change_is_refused() -> None:
    stream = LiveStream(MODEL)
    stream.feed(silence(0.1, 48_000), 48_000)
    with pytest.raises(UserError, match=r"started at 48,000 Hz.*16,000 Hz"):
        stream.feed(silence(0.1, 16_000), 16_000)


@pytest.mark.parametrize(("chunk", "rate", "message"), [
    (np.array([0.0, np.nan, 0.1], np.float32), RATE, "NaN or infinite"),
    (np.array([0.0, np.inf], np.float32), RATE, "NaN or infinite"),
    (np.zeros((100, 2), np.float32), RATE, "1-D"),
    (np.array(["a", "b"]), RATE, "real numbers"),
    (np.zeros(100, np.float32), 100, "sample rate"),
    (np.zeros(100, np.float32), "fast", "sample rate"),
])
def test_bad_chunks_are_refused(chunk: np.ndarray, rate: int, message: str) -> None:
    with pytest.raises(UserError, match=message):
        LiveStream(MODEL).feed(chunk, rate)


def test_integer_pcm_empty_chunks_and_a_finished_stream() -> None:
    stream = LiveStream(MODEL)
    assert stream.feed(np.zeros(0, np.int16), 16_000).committed == ""
    assert stream.feed(np.zeros(1600, np.int16), 16_000).audio_s == pytest.approx(0.1)
    stream.finish()
    assert stream.finish().words == ()  # finishing twice is harmless
    with pytest.raises(UserError, match="finished"):
        stream.feed(np.zeros(160, np.int16), 16_000)
    with pytest.raises(UserError, match="not a speech-recognition model"):
        LiveStream("offline:silero-vad")


def word(text: str, start: float) -> Word:
    return Word(start, start + 0.3, text)


def test_local_agreement_on_synthetic_hypotheses() -> None:
    previous = [word("The", 0.0), word("quick", 0.3), word("brow", 0.6)]
    current = [word("the", 0.0), word("Quick,", 0.3), word("brown", 0.6), word("fox", 0.9)]
    assert normalized("Quick,") == "quick" and normalized("...") == "..."
    assert agreed_prefix(previous, current) == 2 and agreed_prefix([], current) == 0
    committed = current[:2]
    # words starting before the last committed one's end are dropped, and so is a re-heard committed word
    assert beyond(current, committed) == current[2:]
    assert beyond([word("quick", 0.55), word("brown", 0.85)], committed) == [word("brown", 0.85)]
    assert beyond([word("brown", 5.0)], committed) == [word("brown", 5.0)]
    assert beyond(current, []) == current


def test_an_engine_without_word_timestamps_commits_at_segment_spans(talk: tuple[np.ndarray, int],
                                                                    tiny_hf_home) -> None:
    """Moonshine Streaming (tiny random model: its decoder always says one sentence) gives segments, no words: the
    stream still commits, each word carrying its segment's span, and only grows."""
    stream = LiveStream("UsefulSensors/moonshine-streaming-tiny")
    updates = [*feed_all(stream, talk[0], 0.5), stream.finish()]
    assert all(later.committed.startswith(earlier.committed) for earlier, later in pairwise(updates))
    assert "hello from a tiny" in updates[-1].committed.lower() and updates[-1].tentative == ""
    segments = stream.transcript().segments
    assert segments and all(0 <= s.start < s.end <= stream.audio_s + 0.5 for s in segments)
