"""The public API of the launched app (endpoint names, parameters, outputs) is pinned in `api_snapshot.json`:
any change to it shows up here as a diff. After a deliberate API change, rewrite the snapshot with
`ADS_WRITE_API_SNAPSHOT=1 .venv/bin/python -m pytest tests/test_app_api_snapshot.py` and review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gradio_client import Client

SNAPSHOT = Path(__file__).with_name("api_snapshot.json")


def _api(app_url: str) -> str:
    api = Client(app_url, verbose=False).view_api(print_info=False, return_format="dict")
    return json.dumps(api, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_api_is_byte_for_byte_the_snapshot(app_url: str) -> None:
    current = _api(app_url)
    if os.environ.get("ADS_WRITE_API_SNAPSHOT") == "1":
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text(), "the API changed: compare with tests/api_snapshot.json"
