"""Is a hub model usable right now? (cached locally, or the hub reachable) — picks each tab's default model."""

from __future__ import annotations

import functools
import socket
import threading

from shared import config
from shared.models.registry import get_spec

_HUB_HOST = ("huggingface.co", 443)


def offline_mode() -> bool:
    return config.hub_offline()


@functools.cache
def hub_reachable(timeout_s: float = 1.5) -> bool:
    if offline_mode():
        return False
    try:
        with socket.create_connection(_HUB_HOST, timeout=timeout_s):
            return True
    except OSError:
        return False


def start_hub_probe() -> None:
    """Answer hub_reachable() in the background so building the UI does not wait for it."""
    threading.Thread(target=hub_reachable, daemon=True, name="hub-probe").start()


def is_cached(model_id: str) -> bool:
    spec = get_spec(model_id)
    if spec.offline:
        return True
    from huggingface_hub import try_to_load_from_cache

    filename = "config.yaml" if spec.engine == "pyannote" else "config.json"
    return isinstance(try_to_load_from_cache(spec.options.get("repo", spec.id), filename), str)


def default_model(preferred: str, offline_fallback: str) -> str:
    """`preferred` when it is downloaded or can be; otherwise the built-in offline model."""
    if is_cached(preferred) or hub_reachable():
        return preferred
    return offline_fallback
