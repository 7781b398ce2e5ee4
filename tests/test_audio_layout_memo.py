"""Remembered constrained layout (shared/audio/layout_memo.py): a drawing that reuses a kept placement is
pixel-identical to one laid out by matplotlib, a different layout is never reused, and what the key cannot describe
is laid out every time."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from shared.audio import layout_memo, plots


def _fresh(draw: Callable[[], np.ndarray]) -> np.ndarray:
    layout_memo.forget()
    return draw()


def _counted(draw: Callable[[], np.ndarray]) -> tuple[np.ndarray, dict[str, int]]:
    before = dict(layout_memo.counts)
    picture = draw()
    return picture, {name: layout_memo.counts[name] - before[name] for name in before}


def test_same_key_other_data_draws_what_matplotlib_draws() -> None:
    """The kept placement is applied to a picture with other data (same ranges): the result is the one a fresh
    constrained layout gives."""
    rng = np.random.default_rng(0)
    log_mel = rng.normal(size=(80, 3000)).astype(np.float32)
    shuffled = log_mel[:, rng.permutation(3000)]  # same values, so the same colour range and colorbar ticks
    _fresh(lambda: plots.whisper_input_image(log_mel, 21.0))
    reused, counts = _counted(lambda: plots.whisper_input_image(shuffled, 21.0))
    assert counts == {"hits": 1, "misses": 0, "unkeyed": 0}
    assert np.array_equal(reused, _fresh(lambda: plots.whisper_input_image(shuffled, 21.0)))


@pytest.mark.parametrize("seconds", [10.0, 99.0])
def test_other_ticks_are_laid_out_again(seconds: float) -> None:
    """A clip of another length has other tick labels: its own layout, never the kept one of the first clip."""
    rng = np.random.default_rng(1)
    _fresh(lambda: plots.waveform_image(rng.normal(size=3200).astype(np.float32) * 0.1, 800))  # 4 s
    samples = rng.normal(size=int(seconds * 800)).astype(np.float32) * 0.1
    drawn, counts = _counted(lambda: plots.waveform_image(samples, 800))
    assert counts["misses"] == 1 and counts["hits"] == 0
    assert np.array_equal(drawn, _fresh(lambda: plots.waveform_image(samples, 800)))


@pytest.mark.parametrize("part", ["axis label", "tick label"])
def test_longer_text_is_not_clipped_by_a_kept_placement(part: str) -> None:
    """Same limits, a longer y label or y tick label: a wider left margin, as matplotlib gives it."""
    def draw(text: str) -> tuple[np.ndarray, float]:
        fig = plots.new_figure((6, 3))
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1])
        ax.set(xlim=(0, 1), ylim=(0, 1))
        if part == "axis label":
            ax.set_ylabel(text)
        else:
            ax.set_yticks([0, 1], ["0", text])
        fig.canvas.draw()
        left = ax.get_position().x0
        return plots.to_rgb(fig), left

    layout_memo.forget()
    _, short_left = draw("y")
    (longer, long_left), counts = _counted(lambda: draw("a much longer text,\nover two lines"))
    assert counts["hits"] == 0 and counts["misses"] >= 1 and long_left > short_left + 0.02
    assert np.array_equal(longer, _fresh(lambda: draw("a much longer text,\nover two lines"))[0])


def test_figure_level_text_is_always_laid_out() -> None:
    def draw() -> np.ndarray:
        fig = plots.new_figure((6, 3))
        fig.add_subplot().plot([0, 1])
        fig.suptitle("before and after")
        return plots.to_rgb(fig)

    layout_memo.forget()
    _, counts = _counted(draw)
    _, again = _counted(draw)
    assert counts["unkeyed"] == 1 and again["unkeyed"] == 1 and again["hits"] == 0


def test_app_pictures_reuse_their_layout_and_stay_identical() -> None:
    """Visualize's five pictures of one clip: the second drawing reuses every placement, pixel for pixel the same."""
    from shared.audio.intake import load_audio
    from shared.visualize.views import visualize_clip
    from tests.speech_data import sample_wav

    clip = load_audio(sample_wav(), 16_000)

    def pictures() -> list[np.ndarray]:
        view = visualize_clip(clip)
        return [view.waveform, view.spectrogram, view.mel, view.log_mel_db, view.whisper_input]

    first = _fresh(pictures)
    again, counts = _counted(pictures)
    assert counts["hits"] >= 5 and counts["misses"] == 0
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_kept_placements_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout_memo, "MAX_LAYOUTS", 3)
    layout_memo.forget()
    for length in range(5):
        plots.waveform_image(np.zeros(800 * (length + 2), np.float32), 800)
    assert layout_memo.forget() == 3
