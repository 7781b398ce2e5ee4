"""python -m tests.tiny_models --out DIR: build every registry hub model as a tiny random model into DIR."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tests.tiny_models import build_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="HF_HOME to write (the cache goes to OUT/hub)")
    args = parser.parse_args()
    start = time.perf_counter()
    written = build_all(args.out, verbose=True)
    print(f"wrote {len(written)} repos into {args.out}/hub in {time.perf_counter() - start:.1f}s")
    print(f"try the app offline:  HF_HOME={args.out} HF_HUB_OFFLINE=1 python app.py")


if __name__ == "__main__":
    main()
