"""Access to the gated pyannote pipelines. A token (the request's, else HF_TOKEN from `config.hf_token()`) is needed
only to *download* the gated files: `ensure_downloaded` checks access and fetches them into the Hugging Face disk
cache with the token; the shared loader then loads the pipeline from disk under its plain registry id
(huggingface_hub serves cached files even when the hub answers 401 to an anonymous request). So a per-request token
never reaches the loader, its cache key, a log line, an error message or an output, and the pipeline is loaded once
for everyone, as with a Space-wide HF_TOKEN. Also which diarizer to offer first (`default_diarizer`)."""

from __future__ import annotations

import logging
from typing import Any

from shared import config
from shared.errors import ModelUnavailableError
from shared.models.availability import hub_reachable, is_cached, offline_mode
from shared.models.registry import ModelSpec, get_spec

log = logging.getLogger(__name__)

OFFLINE_DIARIZER = "offline:diarizer"  # the built-in diarizer: needs neither a token nor the hub
TOKEN_URL = "https://huggingface.co/settings/tokens"
COMMUNITY_REPO = "pyannote/speaker-diarization-community-1"
# every gated repo a pipeline reads: pyannote.audio 4 loads community-1's PLDA even for 3.1
REQUIRED_REPOS: dict[str, tuple[str, ...]] = {
    COMMUNITY_REPO: (COMMUNITY_REPO,),
    "pyannote/speaker-diarization-3.1": ("pyannote/speaker-diarization-3.1", "pyannote/segmentation-3.0",
                                         "pyannote/wespeaker-voxceleb-resnet34-LM", COMMUNITY_REPO),
}
UNGATED_REPOS = ("pyannote/wespeaker-voxceleb-resnet34-LM",)  # read by 3.1 but without conditions to accept
DOWNLOAD_PATTERNS = ["*.yaml", "*.bin", "*.npz"]


def default_diarizer() -> str:
    """community-1 when it is downloaded, or the hub is reachable and HF_TOKEN set; otherwise the built-in one."""
    if is_cached(COMMUNITY_REPO) or (hub_reachable() and config.hf_token()):
        return COMMUNITY_REPO
    return OFFLINE_DIARIZER


def ensure_downloaded(model_id: str, token: str | None = None) -> None:
    """Make sure a pyannote pipeline's files are in the local cache, or raise a message saying what to do.

    `token` is the request's own token (else HF_TOKEN is used); it is only sent to the hub, never kept or shown.
    """
    spec = get_spec(model_id)
    if spec.engine != "pyannote" or is_cached(model_id):
        return
    repos = REQUIRED_REPOS.get(spec.id, (spec.id,))
    if offline_mode() or not hub_reachable():
        raise ModelUnavailableError(
            f"{spec.id} is not downloaded and the Hugging Face hub is unreachable. Connect this machine to the "
            f"internet once (with a token that has access) so the pipeline is downloaded, or choose the built-in "
            f"diarizer ({OFFLINE_DIARIZER}), which needs neither.")
    token = (token or "").strip() or config.hf_token()
    if token is None:
        raise _no_token_error(spec.id, repos)
    _check_token(repos, token)
    _download(spec, repos, token)


def gated_url(repo: str) -> str:
    """The repo's hub page, where its conditions are accepted."""
    return f"https://huggingface.co/{repo}"


def _no_token_error(model_id: str, repos: tuple[str, ...]) -> ModelUnavailableError:
    conditions = " and ".join(gated_url(repo) for repo in repos if repo not in UNGATED_REPOS)
    return ModelUnavailableError(
        f"{model_id} is gated and no Hugging Face token was given. (1) While logged in, accept the conditions at "
        f"{conditions}; (2) create a read token at {TOKEN_URL}; (3) set it as the HF_TOKEN environment variable "
        "(a Space secret) or paste it into the token field, which is used for this request only.")


def _download(spec: ModelSpec, repos: tuple[str, ...], token: str) -> None:
    from huggingface_hub import snapshot_download

    try:
        for repo in repos:
            patterns = ["plda/*"] if repo == COMMUNITY_REPO and spec.id != COMMUNITY_REPO else DOWNLOAD_PATTERNS
            snapshot_download(repo, token=token, allow_patterns=patterns)
    except Exception as exc:
        log.warning("downloading %s failed: %s", spec.id, type(exc).__name__)  # never the message: it may echo
        raise ModelUnavailableError(f"Downloading {spec.id} failed ({type(exc).__name__}); check the connection "
                                    "and try again.") from None


def _check_token(repos: tuple[str, ...], token: str) -> None:
    """Every repo answers the token's access check; raises a message naming the repos whose conditions are not
    accepted yet, or saying the token was rejected or the hub did not answer."""
    from huggingface_hub import HfApi

    api = HfApi()
    lacking = [repo for repo in repos if not _has_access(api, repo, token)]
    if lacking:
        pages = " and ".join(gated_url(repo) for repo in lacking)
        raise ModelUnavailableError(
            f"Your Hugging Face token does not have access to {', '.join(lacking)}: while logged in as the token's "
            f"owner, accept the conditions at {pages}, then try again (access is usually granted at once).")


def _has_access(api: Any, repo: str, token: str) -> bool:
    """False when the repo's conditions are not accepted; raises when the token or the hub fails."""
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    try:
        api.auth_check(repo, token=token)
    except GatedRepoError:
        return False
    except RepositoryNotFoundError:
        raise ModelUnavailableError(
            f"The Hugging Face token was rejected for {repo} (invalid, expired or without read access). Create "
            f"a read token at {TOKEN_URL} and accept the conditions at {gated_url(repo)}.") from None
    except HfHubHTTPError as exc:
        raise _hub_error(repo, getattr(getattr(exc, "response", None), "status_code", None)) from None
    except Exception as exc:
        log.warning("access check for %s failed: %s", repo, type(exc).__name__)
        raise ModelUnavailableError(f"Could not reach the Hugging Face hub to check access to {repo} "
                                    f"({type(exc).__name__}); try again later.") from None
    return True


def _hub_error(repo: str, status: int | None) -> ModelUnavailableError:
    if status in (401, 403):
        return ModelUnavailableError(f"The Hugging Face token was rejected (HTTP {status}): it is invalid or expired. "
                                     f"Create a read token at {TOKEN_URL}.")
    return ModelUnavailableError(f"The Hugging Face hub did not answer the access check for {repo} "
                                 f"(HTTP {status}); try again later.")

