"""File-access probes and secret handling against the launched app."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, FAKE_HF_TOKEN

SECRET_FILES = ["/etc/passwd", "/etc/shadow", "/root/.cache/huggingface/token", str(Path.home() / ".bash_history")]
PROBES = [
    "/etc/passwd", "//etc/passwd", "../../../../etc/passwd", "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2fetc%2fpasswd", "~/.bashrc", "~root/.bashrc", "/ETC/PASSWD", "/etc/./passwd", "app.py", "./app.py",
    "shared/config.py", ".env", "/proc/self/environ", "/root/.cache/huggingface/token", "README.md",
    "/tmp/does-not-exist-ads", "%252e%252e%252fetc%252fpasswd",
]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("route", ["gradio_api/file=", "file=", "gradio_api/file/", "file/"])
@pytest.mark.parametrize("probe", PROBES)
def test_file_routes_refuse_paths_the_app_did_not_make(app_url: str, route: str, probe: str) -> None:
    status, body = fetch(app_url + route + probe)
    assert status in (400, 403, 404, 405), (route, probe, status)
    assert b"root:" not in body and b"HF_TOKEN" not in body and b"import" not in body


def test_existing_and_missing_files_refused_alike(app_url: str) -> None:
    existing = fetch(app_url + "gradio_api/file=/etc/passwd")
    missing = fetch(app_url + "gradio_api/file=/etc/passwd-not-here")
    assert existing[0] == missing[0]


def test_api_call_cannot_point_at_a_server_path(app_url: str) -> None:
    payload = {"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}, 2048, 512, "hann", 128,
                        0, 0, 80, "log"]}
    request = urllib.request.Request(app_url + "gradio_api/call/visualize", data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            event_id = json.loads(response.read())["event_id"]
    except urllib.error.HTTPError as error:
        assert error.code in (400, 403, 422)
        return
    _status, body = fetch(app_url + f"gradio_api/call/visualize/{event_id}")
    assert b"event: error" in body and b"root:" not in body


def test_fake_token_never_leaks(app_url: str) -> None:
    """Runs after the API tests in this session; the server log and the config must not contain the token."""
    status, config = fetch(app_url + "config")
    assert status == 200 and FAKE_HF_TOKEN.encode() not in config
    log = (ARTIFACTS / "app-server.log").read_text(errors="replace")
    assert FAKE_HF_TOKEN not in log
