"""Peak memory while a model is evaluated: on CUDA the allocator's peak (torch.cuda.max_memory_allocated, reset
first), elsewhere this process's resident set size sampled every SAMPLE_S seconds by a background thread (so a peak
shorter than that can be missed; the figure is a lower bound)."""

from __future__ import annotations

import threading
from types import TracebackType

SAMPLE_S = 0.05  # seconds between two RSS samples


class PeakMemory:
    """`with PeakMemory(device) as peak: ...` → `peak.mb` (MiB) and `peak.kind` ("cuda allocated" or "RSS")."""

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith("cuda")
        self.kind = "cuda allocated" if self.cuda else "RSS"
        self.mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()
        else:
            self._sample()
            self._thread = threading.Thread(target=self._watch, daemon=True, name="peak-memory")
            self._thread.start()
        return self

    def _sample(self) -> None:
        import psutil

        self.mb = max(self.mb, psutil.Process().memory_info().rss / 2**20)

    def _watch(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.cuda:
            import torch

            self.mb = torch.cuda.max_memory_allocated() / 2**20
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
