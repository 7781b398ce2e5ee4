"""Per-request work that does not depend on the request is done once, not per call: the result folder's sweep."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from shared.outputs import results


def test_result_folder_is_swept_at_most_once_a_minute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ADS_RESULTS_DIR", str(tmp_path))
    sweeps: list[float] = []
    monkeypatch.setattr(results, "prune", lambda: sweeps.append(time.monotonic()) or 0)
    for index in range(5):
        results.write_json(f"r{index}.json", {"index": index})
    assert len(sweeps) <= 1  # one sweep at most (none if another test swept less than a minute ago)
    before, now = len(sweeps), time.monotonic()
    assert results.prune_when_due(now + results.PRUNE_EVERY_S + 1)
    assert not results.prune_when_due(now + results.PRUNE_EVERY_S + 30)
    assert results.prune_when_due(now + 2 * results.PRUNE_EVERY_S + 2)
    assert len(sweeps) == before + 2


def test_sweep_still_deletes_old_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ADS_RESULTS_DIR", str(tmp_path))
    old, fresh = results.new_result_path("old.json"), results.new_result_path("fresh.json")
    old.write_text("{}")
    fresh.write_text("{}")
    os.utime(old, (time.time() - results.KEEP_S - 5,) * 2)
    assert results.prune() == 1
    assert not old.exists() and fresh.exists()



def test_pooled_figures_draw_the_same_pictures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pictures drawn on reused (pooled) figures are pixel-identical to those drawn on new ones, and the second
    drawing makes no new figure."""
    from shared.audio import plots
    from shared.audio.intake import load_audio
    from shared.visualize.views import visualize_clip
    from tests.conftest import record_figures
    from tests.speech_data import sample_wav

    clip = load_audio(sample_wav(), 16_000)

    def pictures() -> list[np.ndarray]:
        view = visualize_clip(clip)
        return [view.waveform, view.spectrogram, view.mel, view.log_mel_db, view.whisper_input]

    plots.empty_pool()
    first_figures = record_figures(monkeypatch, plots)
    fresh = pictures()
    first_ids = {id(fig) for fig in first_figures}
    first_figures.clear()
    again = pictures()
    assert len(first_figures) == 5 and all(id(fig) in first_ids for fig in first_figures)
    assert all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(fresh, again, strict=True))
    assert all(not fig.axes for fig in first_figures)  # cleared when rasterised
