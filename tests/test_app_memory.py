"""app.py puts torch's large CPU tensors on transparent huge pages (THP_MEM_ALLOC_ENABLE, read at torch's first
allocation), where the kernel offers them on request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

THP_MODE = Path("/sys/kernel/mm/transparent_hugepage/enabled")
# a 128 MiB tensor, touched, then the process's huge-page-backed anonymous memory in MiB
HUGE_PAGES_AFTER_A_TENSOR = """
import re, sys
if sys.argv[1] == "app":
    import app
import torch
tensor = torch.ones(32 << 20)
rollup = open("/proc/self/smaps_rollup").read()
print(int(re.search(r"AnonHugePages:\\s+(\\d+) kB", rollup).group(1)) // 1024)
"""


def huge_page_mib(mode: str) -> int:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", HUGE_PAGES_AFTER_A_TENSOR, mode], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(not THP_MODE.exists() or "[madvise]" not in THP_MODE.read_text(),
                    reason="the kernel gives huge pages on request only in its 'madvise' mode")
def test_the_app_asks_for_huge_pages_for_large_tensors() -> None:
    assert huge_page_mib("plain") < 16  # torch alone does not ask
    assert huge_page_mib("app") >= 64
