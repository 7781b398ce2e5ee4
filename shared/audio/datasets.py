"""Dataset streaming as an input source: pull ONE example of a Hugging Face hub dataset with
`datasets.load_dataset(..., streaming=True)` (no full download), write its audio as a wav file and return it with
its reference text or label.

Only hub dataset ids reach `load_dataset`: free entry is parsed from `owner/name[/config]:split` and validated
strictly (no URLs, paths, `..`, packaged builders such as `audiofolder`, nor anything that exists as a local path).
Tests stream from local folders only through the `load` parameter, never through user strings.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import UserError
from shared.outputs.results import new_result_path

# hub ids: owner/name, letters, digits, '-', '_', '.'; no leading/trailing '-' or '.', no '--' or '..'
_HUB_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
_NAME_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?"
_SOURCE = re.compile(rf"^(?P<owner>{_HUB_PART})/(?P<name>{_HUB_PART})(?:/(?P<config>{_NAME_PART}))?"
                     rf":(?P<split>{_NAME_PART})$")
MAX_INDEX = 10_000  # skipping through a stream reads every example before the one asked for
CACHE_SIZE = 8
TEXT_COLUMNS = ("text", "transcription", "sentence", "normalized_text", "transcript", "raw_transcription")
LABEL_COLUMNS = ("label", "category", "intent_class", "class", "labels", "emotion", "genre")
SPEC_HELP = "owner/name[/config]:split, e.g. hf-internal-testing/librispeech_asr_dummy/clean:validation"

LoadFn = Callable[..., Any]


@dataclass(frozen=True)
class DatasetSource:
    name: str  # hub id owner/name
    config: str | None
    split: str

    @property
    def spec(self) -> str:
        return f"{self.name}{'/' + self.config if self.config else ''}:{self.split}"


@dataclass(frozen=True)
class CuratedDataset:
    source: DatasetSource
    description: str


CURATED: tuple[CuratedDataset, ...] = (
    CuratedDataset(DatasetSource("hf-internal-testing/librispeech_asr_dummy", "clean", "validation"),
                   "LibriSpeech dummy: 73 read English sentences (text)"),
    CuratedDataset(DatasetSource("PolyAI/minds14", "en-US", "train"),
                   "MInDS-14: e-banking phone requests (transcription, intent_class)"),
    CuratedDataset(DatasetSource("google/fleurs", "en_us", "test"), "FLEURS: read Wikipedia sentences (transcription)"),
    CuratedDataset(DatasetSource("ashraq/esc50", None, "train"), "ESC-50: 2,000 environmental sounds (category)"),
)


def curated_choices() -> list[tuple[str, str]]:
    return [(f"{item.source.spec} — {item.description}", item.source.spec) for item in CURATED]


def parse_source(text: str | None) -> DatasetSource:
    """`owner/name[/config]:split` → DatasetSource; anything else (URL, path, `..`, builder name) is refused."""
    spec = (text or "").strip()
    # a curated dropdown label carries its description after the spec
    spec = spec.split(" — ", 1)[0].strip()
    match = _SOURCE.match(spec)
    if not match or ".." in spec:
        raise UserError(f"'{spec[:80]}' is not a hub dataset: write {SPEC_HELP}.")
    name = f"{match['owner']}/{match['name']}"
    if Path(name).exists() or Path(match["owner"]).exists():
        # load_dataset would read a local folder with this name instead of the hub dataset
        raise UserError(f"'{name}' names a local folder here; only hub datasets can be streamed.")
    return DatasetSource(name, match["config"], match["split"])


@dataclass(frozen=True)
class Example:
    source: DatasetSource
    index: int
    audio_path: str
    sample_rate: int
    duration_s: float
    text: str | None
    label: str | None

    def reference(self, prefer: str = "text") -> str:
        first, second = (self.label, self.text) if prefer == "label" else (self.text, self.label)
        return first or second or ""

    def markdown(self) -> str:
        parts = [f"`{self.source.spec}` example **#{self.index}** · {self.duration_s:.2f} s at {self.sample_rate} Hz"]
        if self.label:
            parts.append(f"label: **{self.label}**")
        if self.text:
            parts.append(f"text: {self.text}")
        return " · ".join(parts)


def _default_load(name: str, config: str | None, *, split: str, streaming: bool) -> Any:
    import datasets

    return datasets.load_dataset(name, config, split=split, streaming=streaming)


class _Stream:
    """One opened streaming dataset and an iterator positioned at `next_index`; `lock` serialises its use."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.iterator: Iterator[Mapping[str, Any]] | None = None
        self.next_index = 0
        self.lock = threading.Lock()

    def take(self, index: int) -> Mapping[str, Any] | None:
        if self.iterator is None or index < self.next_index:
            self.iterator = iter(self.dataset.skip(index) if index else self.dataset)
            self.next_index = index
        example = None
        while self.next_index <= index:
            example = next(self.iterator, None)
            if example is None:
                self.iterator = None
                return None
            self.next_index += 1
        return example


_streams: OrderedDict[tuple[DatasetSource, LoadFn], _Stream] = OrderedDict()
_streams_lock = threading.Lock()


def _is_offline_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    offline_names = {"ConnectionError", "ConnectTimeout", "ReadTimeout", "Timeout", "OfflineModeIsEnabled",
                     "LocalEntryNotFoundError", "ConnectError", "TimeoutException"}
    return bool(names & offline_names) or "couldn't reach" in str(exc).lower() or "offline" in str(exc).lower()


def _load_error(source: DatasetSource, exc: Exception) -> UserError:
    message = str(exc)
    lowered = message.lower()
    if "bad split" in lowered or ("split" in lowered and "not found" in lowered):
        return UserError(f"Split '{source.split}' is not in {source.name}: {message[:200]}")
    if "config" in lowered and ("missing" in lowered or "not found" in lowered or "available" in lowered):
        return UserError(f"Config '{source.config or '(none)'}' does not fit {source.name}: {message[:300]}")
    if type(exc).__name__ == "DatasetNotFoundError":
        return UserError(f"{source.name} is not on the hub, or it is gated/private (streaming needs access).")
    if _is_offline_error(exc):
        return UserError(f"Dataset {source.name} is not downloaded and the hub is unreachable (offline), so it "
                         "cannot be streamed.")
    if "scripts are no longer supported" in lowered:
        return UserError(f"{source.name} is a script-based dataset, which this version of `datasets` cannot load.")
    return UserError(f"Could not stream {source.spec}: {type(exc).__name__}: {message[:200]}")


def _stream_for(source: DatasetSource, load: LoadFn) -> _Stream:
    key = (source, load)
    with _streams_lock:
        stream = _streams.get(key)
        if stream is not None:
            _streams.move_to_end(key)
            return stream
    try:
        dataset = load(source.name, source.config, split=source.split, streaming=True)
    except UserError:
        raise
    except Exception as exc:
        raise _load_error(source, exc) from None
    with _streams_lock:
        stream = _streams.setdefault(key, _Stream(dataset))  # another thread may have opened it meanwhile
        _streams.move_to_end(key)
        while len(_streams) > CACHE_SIZE:
            _streams.popitem(last=False)
    return stream


def clear_cache() -> None:
    with _streams_lock:
        _streams.clear()


def _is_audio_value(value: Any) -> bool:
    return hasattr(value, "get_all_samples") or (isinstance(value, Mapping) and "array" in value)


def _audio_column(features: Any, example: Mapping[str, Any]) -> str | None:
    if features:
        for column, feature in features.items():
            if type(feature).__name__ == "Audio":
                return column
    return next((column for column, value in example.items() if _is_audio_value(value)), None)


def decode_audio(value: Any) -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate from a datasets audio value: torchcodec AudioDecoder or the old dict."""
    if hasattr(value, "get_all_samples"):
        samples = value.get_all_samples()
        data = samples.data.numpy() if hasattr(samples.data, "numpy") else np.asarray(samples.data)
        rate = int(samples.sample_rate)
    elif isinstance(value, Mapping) and "array" in value:
        data, rate = np.asarray(value["array"]), int(value["sampling_rate"])
    else:
        raise UserError("This dataset's audio column could not be decoded.")
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:  # (channels, samples) from torchcodec
        data = data.mean(axis=0)
    return data.reshape(-1), rate


def _column_text(features: Any, example: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for column in names:
        if column not in example or example[column] is None:
            continue
        value = example[column]
        feature = features.get(column) if features else None
        if isinstance(value, int | np.integer) and hasattr(feature, "int2str"):
            value = feature.int2str(int(value))
        text = str(value).strip()
        if text:
            return text
    return None


def _safe_filename(source: DatasetSource, index: int) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{source.name.split('/')[-1]}_{source.split}_{index}")
    return f"{stem}.wav"


def next_example(source: DatasetSource | str, index: int = 0, load: LoadFn | None = None) -> Example:
    """Example `index` of the split, streamed (no full download); its audio written as a 16-bit wav file.

    `load` replaces `datasets.load_dataset` (same call: name, config, split=, streaming=); tests use it to stream
    from local folders. Opened streams are cached per source, so asking for index+1 reads one more example.
    """
    import soundfile

    source = parse_source(source) if isinstance(source, str) else source
    index = int(index or 0)
    if not 0 <= index <= MAX_INDEX:
        raise UserError(f"Example index must be between 0 and {MAX_INDEX}.")
    stream = _stream_for(source, load or _default_load)
    with stream.lock:
        try:
            example = stream.take(index)
        except UserError:
            raise
        except Exception as exc:
            stream.iterator = None
            raise _load_error(source, exc) from None
        if example is None:
            raise UserError(f"End of the split: {source.spec} has only {stream.next_index} examples "
                            f"(asked for #{index}). Start again from the first.")
        features = getattr(stream.dataset, "features", None)
        column = _audio_column(features, example)
        if column is None:
            raise UserError(f"{source.spec} has no audio column (columns: {', '.join(example)[:200]}).")
        samples, rate = decode_audio(example[column])
    if samples.size == 0:
        raise UserError(f"Example #{index} of {source.spec} has no audio samples.")
    path = new_result_path(_safe_filename(source, index))
    soundfile.write(path, np.clip(samples, -1.0, 1.0), rate, subtype="PCM_16")
    return Example(source, index, str(path), rate, samples.size / rate,
                   _column_text(features, example, TEXT_COLUMNS), _column_text(features, example, LABEL_COLUMNS))


def wer_line(reference: str | None, hypothesis: str | None) -> str:
    """'WER vs dataset reference: x%' or '' when there is no reference."""
    from shared.outputs.text_metrics import wer

    if not (reference or "").strip():
        return ""
    hypothesis = "" if (hypothesis or "").strip() == "(no speech detected)" else hypothesis or ""
    return f"WER vs dataset reference: {100 * wer(reference or '', hypothesis):.1f}%"


def top_label(value: Any) -> str | None:
    """The top label of a gr.Label value: {'label': ..., 'confidences': [...]} or a plain label → score mapping."""
    if isinstance(value, Mapping):
        if "label" in value and "confidences" in value:
            return str(value["label"]) if value["label"] is not None else None
        scores = {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}
        return max(scores, key=scores.__getitem__) if scores else None
    return None


def label_check_line(reference: str | None, predicted: Any) -> str:
    """Whether the top label equals the dataset label (case-insensitive); '' when there is no reference label."""
    reference = (reference or "").strip()
    label = top_label(predicted)
    if not reference or label is None:
        return ""
    verdict = "matches ✓" if label.strip().casefold() == reference.casefold() else "does not match ✗"
    return f"Top label **{label}** {verdict} the dataset label **{reference}**."


def append_line(info: str | None, line: str) -> str:
    return f"{info or ''}\n\n{line}".strip() if line else (info or "")


def info_with_wer(info: str | None, reference: str | None, hypothesis: str | None) -> str:
    return append_line(info, wer_line(reference, hypothesis))


def info_with_label_check(info: str | None, reference: str | None, predicted: Any) -> str:
    return append_line(info, label_check_line(reference, predicted))
