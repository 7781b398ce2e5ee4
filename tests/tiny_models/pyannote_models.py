"""Tiny random stand-ins for the pyannote.audio speaker-diarization pipelines, laid out like the real hub repos so
`pyannote.audio.Pipeline.from_pretrained(repo_id)` loads them offline (HF_HUB_OFFLINE=1) through its real code path.

What pyannote.audio 4 reads from the hub, and so what is built here:

* `pyannote/speaker-diarization-community-1` is one repo: `config.yaml` whose `$model/segmentation`,
  `$model/embedding` and `$model/plda` values `Pipeline.from_pretrained` expands to
  `{"checkpoint": <repo id>, "subfolder": ...}`, then `segmentation/pytorch_model.bin` (PyanNet),
  `embedding/pytorch_model.bin` (WeSpeakerResNet34) and `plda/xvec_transform.npz` + `plda/plda.npz` (VBx clustering).
* `pyannote/speaker-diarization-3.1` is a `config.yaml` naming two other repos by id, `pyannote/segmentation-3.0`
  and `pyannote/wespeaker-voxceleb-resnet34-LM` (each `pytorch_model.bin` + a descriptive `config.yaml`). In
  pyannote.audio 4 its `SpeakerDiarization` also loads the default PLDA, `community-1`'s `plda/` subfolder, even
  with agglomerative clustering, so the 3.1 builder returns that subfolder of community-1 as well (only it, as a
  real 3.1 download under pyannote.audio 4 leaves only it in the cache).

Checkpoints are saved the way lightning saves them (state_dict, hyper_parameters, pytorch-lightning_version, plus the
`pyannote.audio` block of `Model.on_save_checkpoint`: versions, architecture, specifications). The segmentation keeps
the real segmentation-3.0 specifications (powerset, 3 speakers, at most 2 per frame, 10 s chunks, 589 frames per
chunk with SincNet stride 10) with a tiny LSTM; the embedding keeps the real WeSpeakerResNet34 class and its 256-d
output but uses 8 mel bins and a 100 ms frame shift, which makes it over 100x faster than the real one on CPU.
Weights are random (seeded, byte-identical across builds) and the segmentation is rescaled so its output changes
speaker every second or so (see `_vary_over_time`): turns and speakers are arbitrary, silence is not reliably
non-speech, and a file shorter than 10 s gets turns up to the end of its zero-padded 10 s chunk (pyannote.audio 4.0.7
does not crop its output to the file duration; real models call the padding non-speech).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from shared.models.registry import ModelSpec

COMMUNITY_REPO = "pyannote/speaker-diarization-community-1"
LEGACY_REPO = "pyannote/speaker-diarization-3.1"
SEGMENTATION_REPO = "pyannote/segmentation-3.0"
EMBEDDING_REPO = "pyannote/wespeaker-voxceleb-resnet34-LM"

SEED = 1234
CHUNK_DURATION = 10.0  # seconds, as segmentation-3.0
MAX_SPEAKERS_PER_CHUNK = 3
MAX_SPEAKERS_PER_FRAME = 2
EMBEDDING_DIMENSION = 256  # fixed by WeSpeakerResNet34
LDA_DIMENSION = 128  # as the real community-1 plda/

# tiny sizes (the real segmentation-3.0 has lstm 128 x 4 layers, linear 128 x 2; SincNet has no size knob)
SEGMENTATION_HPARAMS: dict[str, Any] = {
    "sincnet": {"stride": 10},
    "lstm": {"hidden_size": 16, "num_layers": 2, "bidirectional": True, "monolithic": True, "dropout": 0.0},
    "linear": {"hidden_size": 16, "num_layers": 2},
}
# the real wespeaker-voxceleb-resnet34-LM uses 80 mel bins, 25 ms frames every 10 ms
EMBEDDING_HPARAMS: dict[str, Any] = {
    "num_mel_bins": 8,
    "frame_length": 25,
    "frame_shift": 100,
    "dither": 0.0,
    "window_type": "hamming",
    "use_energy": False,
}

COMMUNITY_CONFIG = """\
dependencies:
  pyannote.audio: 4.0.0

pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: VBxClustering
    segmentation: $model/segmentation
    segmentation_batch_size: 32
    embedding: $model/embedding
    embedding_batch_size: 32
    embedding_exclude_overlap: true
    plda: $model/plda

params:
  clustering:
    threshold: 0.6
    Fa: 0.07
    Fb: 0.8
  segmentation:
    min_duration_off: 0.0
"""

LEGACY_CONFIG = f"""\
version: 3.1.0

pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: AgglomerativeClustering
    embedding: {EMBEDDING_REPO}
    embedding_batch_size: 32
    embedding_exclude_overlap: true
    segmentation: {SEGMENTATION_REPO}
    segmentation_batch_size: 32

params:
  clustering:
    method: centroid
    min_cluster_size: 12
    threshold: 0.7045654963945799
  segmentation:
    min_duration_off: 0.0
"""

_README = """\
---
license: {license}
tags:
- pyannote
- tiny-random
---

Tiny random stand-in for `{repo}` (tests only).
"""


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch for the block without touching the caller's global RNG state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _no_telemetry() -> None:
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")  # no telemetry, even from a build


def _segmentation_model() -> Any:
    _no_telemetry()
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.segmentation import PyanNet

    with _seeded(SEED):
        model = PyanNet(**SEGMENTATION_HPARAMS, sample_rate=16000, num_channels=1)
        model.specifications = Specifications(
            problem=Problem.MONO_LABEL_CLASSIFICATION,
            resolution=Resolution.FRAME,
            duration=CHUNK_DURATION,
            min_duration=None,
            warm_up=(0.0, 0.0),
            classes=[f"speaker#{i + 1}" for i in range(MAX_SPEAKERS_PER_CHUNK)],
            powerset_max_classes=MAX_SPEAKERS_PER_FRAME,
            permutation_invariant=True,
        )
        model.setup()  # builds the task-dependent classifier (7 powerset classes) from the specifications
        model.eval()
        _vary_over_time(model)
    return model


def _vary_over_time(model: Any) -> None:
    """Rescale a random PyanNet so its output changes class every second or so instead of staying on one class.

    As initialised, the tiny LSTM's features barely move over time: every frame of every file gets the same powerset
    class (e.g. "speakers 2 and 3 overlap" for the whole file), so the embeddings of the two local speakers are equal
    and clustering degenerates (NaN centroids). Stronger recurrent weights, weaker input weights and a large forget-gate
    bias make slowly drifting features; the classifier is then normalised on a fixed reference signal so each class
    wins part of the time, single speakers more often than overlaps.
    """
    import torch
    import torch.nn.functional as F

    hidden = model.hparams.lstm["hidden_size"]
    with torch.no_grad():
        for name, parameter in model.lstm.named_parameters():
            if name.startswith("weight_hh"):
                parameter.mul_(3.0)
            elif name.startswith("weight_ih"):
                parameter.mul_(0.5)
            elif name.startswith("bias_ih"):
                parameter[hidden : 2 * hidden] += 5.0  # forget gate (PyTorch order: input, forget, cell, output)
        for linear in model.linear:
            linear.weight.mul_(3.0)

        generator = torch.Generator().manual_seed(SEED)
        num_samples = int(CHUNK_DURATION * 16000)
        t = torch.arange(num_samples) / 16000
        gate = (torch.sin(2 * torch.pi * 0.3 * t) > -0.3).float()  # noise bursts with pauses, varying loudness
        envelope = gate * (0.5 + 0.5 * torch.sin(2 * torch.pi * 1.7 * t) ** 2)
        reference = 0.1 * envelope * torch.randn(4, 1, num_samples, generator=generator)

        features, _ = model.lstm(model.sincnet(reference).transpose(1, 2))
        for linear in model.linear:
            features = F.leaky_relu(linear(features))
        logits = features.reshape(-1, features.shape[-1]) @ model.classifier.weight.T
        mean, std = logits.mean(0), logits.std(0) + 1e-6
        # prior in units of logit std: non-speech 0, single speakers +0.5, overlapping pairs -1
        num_pairs = model.dimension - 1 - MAX_SPEAKERS_PER_CHUNK
        prior = torch.tensor([0.0] + [0.5] * MAX_SPEAKERS_PER_CHUNK + [-1.0] * num_pairs)
        model.classifier.weight.div_(std[:, None])
        model.classifier.bias.copy_(prior - mean / std)


def _embedding_model() -> Any:
    _no_telemetry()
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34

    with _seeded(SEED + 1):
        model = WeSpeakerResNet34(sample_rate=16000, num_channels=1, **EMBEDDING_HPARAMS)
    # what pyannote's wespeaker/convert.py gives the real checkpoint ("duration = 5.0  # whatever")
    model.specifications = Specifications(problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0)
    return model.eval()


def _save_checkpoint(model: Any, path: Path, pyannote_version: str) -> Path:
    """Write `model` as lightning's `Trainer.save_checkpoint` would, under pyannote's file name."""
    import lightning
    import torch

    checkpoint: dict[str, Any] = {
        "epoch": 0,
        "global_step": 0,
        "pytorch-lightning_version": lightning.__version__,
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
    }
    model.on_save_checkpoint(checkpoint)  # adds checkpoint["pyannote.audio"]: versions, architecture, specifications
    checkpoint["pyannote.audio"]["versions"]["pyannote.audio"] = pyannote_version  # as the real repo's was saved
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)
    return path


def _write_plda(folder: Path) -> None:
    """Random but well-conditioned VBx/PLDA files with the real shapes (256-d x-vectors, 128-d LDA)."""
    rng = np.random.default_rng(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    lda = np.linalg.qr(rng.standard_normal((EMBEDDING_DIMENSION, EMBEDDING_DIMENSION)))[0][:, :LDA_DIMENSION]
    np.savez(
        folder / "xvec_transform.npz",
        mean1=0.01 * rng.standard_normal(EMBEDDING_DIMENSION),
        mean2=0.01 * rng.standard_normal(LDA_DIMENSION),
        lda=lda,
    )
    np.savez(
        folder / "plda.npz",
        mu=0.01 * rng.standard_normal(LDA_DIMENSION),
        tr=np.linalg.qr(rng.standard_normal((LDA_DIMENSION, LDA_DIMENSION)))[0],
        psi=np.sort(rng.uniform(0.5, 5.0, LDA_DIMENSION))[::-1].copy(),
    )


def _segmentation_config() -> str:
    lstm, linear = SEGMENTATION_HPARAMS["lstm"], SEGMENTATION_HPARAMS["linear"]
    return f"""\
task:
  _target_: pyannote.audio.tasks.SpeakerDiarization
  duration: {CHUNK_DURATION}
  max_speakers_per_chunk: {MAX_SPEAKERS_PER_CHUNK}
  max_speakers_per_frame: {MAX_SPEAKERS_PER_FRAME}
model:
  _target_: pyannote.audio.models.segmentation.PyanNet
  sample_rate: 16000
  num_channels: 1
  sincnet:
    stride: {SEGMENTATION_HPARAMS["sincnet"]["stride"]}
  lstm:
    hidden_size: {lstm["hidden_size"]}
    num_layers: {lstm["num_layers"]}
    bidirectional: {str(lstm["bidirectional"]).lower()}
    monolithic: {str(lstm["monolithic"]).lower()}
    dropout: {lstm["dropout"]}
  linear:
    hidden_size: {linear["hidden_size"]}
    num_layers: {linear["num_layers"]}
"""


def _embedding_config() -> str:
    h = EMBEDDING_HPARAMS
    return f"""\
model:
  _target_: pyannote.audio.models.embedding.WeSpeakerResNet34
  sample_rate: 16000
  num_channels: 1
  num_mel_bins: {h["num_mel_bins"]}
  frame_length: {h["frame_length"]}
  frame_shift: {h["frame_shift"]}
  dither: {h["dither"]}
  window_type: {h["window_type"]}
  use_energy: {str(h["use_energy"]).lower()}
"""


def build_community(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """`pyannote/speaker-diarization-community-1`: one repo with segmentation/, embedding/ and plda/ subfolders."""
    folder = Path(work) / spec.id.replace("/", "--")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(COMMUNITY_CONFIG)
    (folder / "README.md").write_text(_README.format(license=spec.license, repo=spec.id))
    _save_checkpoint(_segmentation_model(), folder / "segmentation" / "pytorch_model.bin", "4.0.0")
    _save_checkpoint(_embedding_model(), folder / "embedding" / "pytorch_model.bin", "4.0.0")
    _write_plda(folder / "plda")
    return {spec.id: folder}


def build_legacy(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """`pyannote/speaker-diarization-3.1`: its config.yaml plus the two model repos it names, and community-1's
    plda/ that pyannote.audio 4 loads for every SpeakerDiarization pipeline."""
    work = Path(work)
    pipeline = work / spec.id.replace("/", "--")
    pipeline.mkdir(parents=True, exist_ok=True)
    (pipeline / "config.yaml").write_text(LEGACY_CONFIG)
    (pipeline / "README.md").write_text(_README.format(license=spec.license, repo=spec.id))

    segmentation = work / SEGMENTATION_REPO.replace("/", "--")
    _save_checkpoint(_segmentation_model(), segmentation / "pytorch_model.bin", "3.0.0")
    (segmentation / "config.yaml").write_text(_segmentation_config())
    (segmentation / "README.md").write_text(_README.format(license="mit", repo=SEGMENTATION_REPO))

    embedding = work / EMBEDDING_REPO.replace("/", "--")
    _save_checkpoint(_embedding_model(), embedding / "pytorch_model.bin", "3.1.0")
    (embedding / "config.yaml").write_text(_embedding_config())
    (embedding / "README.md").write_text(_README.format(license="cc-by-4.0", repo=EMBEDDING_REPO))

    plda_only = work / (COMMUNITY_REPO.replace("/", "--") + "--plda-only")
    _write_plda(plda_only / "plda")

    return {spec.id: pipeline, SEGMENTATION_REPO: segmentation, EMBEDDING_REPO: embedding, COMMUNITY_REPO: plda_only}


def build_pyannote(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """Builder for the registry family "pyannote" (community-1 or 3.1, by repo id)."""
    if spec.id == COMMUNITY_REPO:
        return build_community(spec, work)
    if spec.id == LEGACY_REPO:
        return build_legacy(spec, work)
    raise KeyError(f"no tiny pyannote pipeline for {spec.id!r}")


BUILDERS: dict[str, Callable[[ModelSpec, Path], dict[str, Path]]] = {"pyannote": build_pyannote}
