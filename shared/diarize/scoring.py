"""Scoring turns against a reference: the diarization error rate (DER) and its three parts (missed speech, false
alarm, speaker confusion, in seconds) via pyannote.metrics, with the hypothesis → reference speaker mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared import config
from shared.diarize.rttm import Turn

config.keep_pyannote_quiet()  # before pyannote.metrics is imported

COLLAR_S = 0.25


@dataclass
class Evaluation:
    der: float  # (missed + false alarm + confusion) / reference speech, 0..1 (can exceed 1)
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    reference_s: float  # seconds of reference speech scored
    mapping: dict[str, str]  # hypothesis label → reference label
    collar_s: float

    def to_json(self) -> dict[str, Any]:
        total = self.reference_s or 1.0
        return {"diarization_error_rate": round(self.der, 4), "collar_s": self.collar_s,
                "missed_speech_s": round(self.missed_s, 3), "missed_speech_rate": round(self.missed_s / total, 4),
                "false_alarm_s": round(self.false_alarm_s, 3), "false_alarm_rate": round(self.false_alarm_s / total, 4),
                "confusion_s": round(self.confusion_s, 3), "confusion_rate": round(self.confusion_s / total, 4),
                "reference_speech_s": round(self.reference_s, 3), "speaker_mapping": self.mapping}


def evaluate(reference: list[Turn], hypothesis: list[Turn], duration_s: float | None = None,
             collar_s: float = COLLAR_S) -> Evaluation:
    """DER = (missed + false alarm + confusion) / reference speech, with `collar_s` (pyannote.metrics' collar: that
    total width in seconds, centred on each reference boundary, is not scored). The scored span runs from 0 to
    `duration_s` (seconds) or the last turn's end, whichever is later."""
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = _annotation(reference), _annotation(hypothesis)
    end = max([duration_s or 0.0] + [t.end for t in reference] + [t.end for t in hypothesis])
    uem = Timeline([Segment(0.0, max(end, 1e-3))])
    metric = DiarizationErrorRate(collar=collar_s, skip_overlap=False)
    parts = metric(ref, hyp, uem=uem, detailed=True)
    mapping = {str(h): str(r) for h, r in metric.optimal_mapping(ref, hyp, uem=uem).items()} if hypothesis else {}
    return Evaluation(float(parts["diarization error rate"]), float(parts["missed detection"]),
                      float(parts["false alarm"]), float(parts["confusion"]), float(parts["total"]), mapping, collar_s)


def _annotation(turns: list[Turn]) -> Any:
    from pyannote.core import Annotation, Segment

    annotation = Annotation()
    for index, turn in enumerate(turns):
        annotation[Segment(turn.start, turn.end), index] = turn.speaker
    return annotation
