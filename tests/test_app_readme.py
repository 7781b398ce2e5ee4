"""The README's gradio_client examples run against a launched app (with the tiny offline models)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT


def readme_api_block() -> str:
    text = (ROOT / "README.md").read_text()
    api_section = text[text.index("## API"):]
    return re.search(r"```python\n(.*?)```", api_section, re.S).group(1)


def test_readme_api_examples_run(app_url: str, monkeypatch) -> None:
    code = readme_api_block().replace('"http://127.0.0.1:7860/"', repr(app_url))
    assert "api_name=" in code and app_url in code
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["summary"]["duration_s"] > 5
    assert "lazy dog" in namespace["text"].lower()
    assert isinstance(namespace["turns"], list) and namespace["turns"]
    assert Path(namespace["wav_path"]).stat().st_size > 1000
    assert namespace["labels"]["label"] and namespace["scores"]["confidences"]
    assert "lazy dog" in namespace["live_view"].lower() and len(namespace["live_views"]) > 5
    assert Path(namespace["streamed_wav"]).stat().st_size > 1000
    assert Path(namespace["cloned_wav"]).is_file() and Path(namespace["converted"]).is_file()
    assert Path(namespace["enhanced"]).is_file() and Path(namespace["second_source"]).is_file()
    assert namespace["leaderboard"]["data"][0][0] == "offline:piper-en_US-joe-medium"
    assert namespace["words"] and namespace["verification"]


def test_every_main_endpoint_is_documented() -> None:
    documented = set(re.findall(r'api_name="/(\w+)"', readme_api_block()))
    expected = {"visualize", "transcribe", "compare_transcripts", "classify", "compare_classifiers", "zero_shot",
                "diarize", "who_said_what", "tts", "compare_tts", "transcribe_stream", "tts_stream", "align_words",
                "tts_clone", "enrol_speaker", "verify_speakers", "convert_voice", "enhance", "separate", "evaluate"}
    assert expected <= documented
