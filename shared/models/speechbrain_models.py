"""speechbrain as an engine of the loader: `load_speechbrain(spec, placement, options)` returns one of three small
wrappers, chosen by the registry spec's `options["interface"]`:

- "EncoderClassifier" (speechbrain/spkrec-xvect-voxceleb) -> `SpeakerEncoder`; its method
  `xvector(samples_16k) -> np.ndarray` gives the recording's x-vector (512 floats for that model, L2-normalised as
  SpeechT5's CMU ARCTIC presets are): `with get_loader().use(XVECTOR_MODEL_ID) as encoder: encoder.xvector(x)`.
- "SpectralMaskEnhancement" (speechbrain/metricgan-plus-voicebank) -> `MaskEnhancer.enhance(samples) -> samples`.
- "SepformerSeparation" (speechbrain/sepformer-*) -> `Sepformer`: `separate(samples) -> Separation` (one source per
  speaker and the masks the mask network estimated) and `enhance(samples)` (the first source, for the one-source
  enhancement checkpoints).
Every wrapper has `sample_rate` (Hz, what the model expects) and `model` (the speechbrain `Pretrained` module).

Safety. A speechbrain repo is a `hyperparams.yaml` (HyperPyYAML: its `!new:`/`!name:`/`!apply:` tags import and
call Python objects by dotted name) plus `.ckpt` files (torch pickles). So this engine:
1. fetches only `hyperparams.yaml`, `*.ckpt` and `*.txt` of the registry id through huggingface_hub (HF_HUB_OFFLINE
   honoured; no user string ever reaches it) — speechbrain's own fetching (and its URL downloads) is never used;
2. reads the YAML's node tree before anything is built and refuses the file unless every tag is a plain YAML type,
   `!ref`/`!copy`/`!tuple`, or `!new:`/`!name:` of an allow-listed speechbrain/torch class or function (`!apply:`
   only for `torch.manual_seed`; `!include:`, `!module:`, `!applyref:`, `!!python/...` are refused), and the object
   a dotted name resolves to must itself be defined under the allow-listed modules (no `speechbrain.x.os.system` or
   `torch.nn.x.torch.hub.load` detours);
3. points every checkpoint path at the fetched folder (other repos, URLs and absolute paths are refused);
4. loads the checkpoints with torch's `weights_only=True` unpickler (torch >= 2.6's default, and speechbrain 1.1
   passes no `weights_only=False` on this path): tensors and plain containers only, no code — a pickle carrying an
   object is refused (tests/test_audio_to_audio.py checks both refusals).
The trade-off: the allow-listed classes still run their constructors with the YAML's arguments, and the checkpoints
are pickles, not safetensors (speechbrain publishes no safetensors), so a repo's weights are trusted as far as
torch's restricted unpickler goes. Real-repo YAMLs using a component outside the allow-list are refused with a
message naming it, rather than run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import ModelUnavailableError
from shared.models.device import Placement
from shared.models.registry import ModelSpec

XVECTOR_MODEL_ID = "speechbrain/spkrec-xvect-voxceleb"
HPARAMS_FILE = "hyperparams.yaml"
REPO_FILES = (HPARAMS_FILE, "*.ckpt", "*.txt")  # all a speechbrain inference repo needs; never code or examples

# what a HyperPyYAML tag may name: dotted prefixes of speechbrain/torch building blocks, plus exact names
ALLOWED_PREFIXES = ("speechbrain.lobes.models.", "speechbrain.lobes.features.", "speechbrain.processing.features.",
                    "speechbrain.processing.signal_processing.", "speechbrain.nnet.", "speechbrain.dataio.encoder.",
                    "torch.nn.")
ALLOWED_NAMES = frozenset({"speechbrain.utils.parameter_transfer.Pretrainer", "torch.hamming_window",
                           "torch.hann_window", "torch.manual_seed"})
ALLOWED_APPLY = frozenset({"torch.manual_seed"})
PLAIN_TAGS = frozenset({"tag:yaml.org,2002:" + kind for kind in ("str", "int", "float", "bool", "null", "seq",
                                                                  "map")}) | {"!ref", "!copy", "!tuple"}
_YAML_LOCK = threading.Lock()  # HyperPyYAML flips a global PyYAML default while it loads


class UnsafeModelFilesError(ModelUnavailableError):
    """A speechbrain repo asks for something this engine does not run (a tag, a callable, a path)."""


@dataclass(frozen=True)
class Separation:
    """What a separator estimated: `sources` (n_sources, samples) at `sample_rate`, and for mask-based models
    (SepFormer) the `masks` (n_sources, basis, frames) as the mask network gave them, one frame every
    `frame_hop_s` seconds (None for models that predict the sources directly, like Demucs)."""

    sources: np.ndarray
    masks: np.ndarray | None
    sample_rate: int
    frame_hop_s: float


def inside_allowed(dotted: str) -> bool:
    """Whether a dotted module or object name lies inside one of ALLOWED_PREFIXES."""
    return any(dotted == prefix.rstrip(".") or dotted.startswith(prefix) for prefix in ALLOWED_PREFIXES)


def check_callable(tag: str, dotted: str) -> None:
    """Raise UnsafeModelFilesError unless `dotted` (named by `tag`) is allow-listed: an exact name, or a name under
    ALLOWED_PREFIXES whose object is also defined there (so `speechbrain.nnet.x.torch.hub.load` is refused)."""
    import pydoc

    if tag == "!apply:" and dotted not in ALLOWED_APPLY:
        raise UnsafeModelFilesError(f"hyperparams.yaml calls {dotted!r} at load time; this app does not run that.")
    if dotted in ALLOWED_NAMES:
        return
    found = pydoc.locate(dotted) if inside_allowed(dotted) else None
    if found is None or not inside_allowed(str(getattr(found, "__module__", "") or "")):
        raise UnsafeModelFilesError(f"hyperparams.yaml names {dotted!r}, which is not an allow-listed speechbrain or "
                                    "torch component; this app does not build it.")


def yaml_tags(text: str) -> list[str]:
    """Every node tag of a YAML document, read from its node tree (nothing constructed)."""
    import yaml

    tags: list[str] = []
    seen: set[int] = set()  # an alias is the same node object again (and may point back up the tree)
    pending = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        tags.append(node.tag)
        if isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend(part for pair in node.value for part in pair)
    return tags


def check_hyperparams(text: str) -> None:
    """Refuse (UnsafeModelFilesError) a hyperparams.yaml with any tag or callable outside the allow-lists."""
    for tag in yaml_tags(text):
        if tag in PLAIN_TAGS:
            continue
        kind = next((prefix for prefix in ("!new:", "!name:", "!apply:") if tag.startswith(prefix)), None)
        if kind is None:
            raise UnsafeModelFilesError(f"hyperparams.yaml uses the tag {tag!r}; this app does not run it.")
        check_callable(kind, tag[len(kind):])


def fetch_repo(spec: ModelSpec) -> Path:
    """The local folder of the spec's hub repo (only the files speechbrain inference needs)."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(spec.id, allow_patterns=list(REPO_FILES)))


def local_checkpoint(path: Any, repo_id: str, folder: Path) -> Path:
    """A Pretrainer path ("<repo id>/file" or a bare file name) as a file inside the fetched folder."""
    text = str(path)
    name = text[len(repo_id) + 1:] if text.startswith(f"{repo_id}/") else text
    if "://" in name or "/" in name or "\\" in name or name.startswith("."):
        raise UnsafeModelFilesError(f"hyperparams.yaml loads {text!r}, outside the repo {repo_id}.")
    return folder / name


def load_pretrained(cls: type, spec: ModelSpec, folder: Path, device: str) -> Any:
    """Build `cls` (a speechbrain Pretrained interface) from the checked YAML in `folder`, weights from `folder`."""
    from hyperpyyaml import load_hyperpyyaml, resolve_references
    from speechbrain.utils.fetching import FetchConfig, LocalStrategy

    text = (folder / HPARAMS_FILE).read_text(encoding="utf-8")
    check_hyperparams(text)  # before resolving: resolving would already read `!include:` files
    with _YAML_LOCK:
        resolved = resolve_references(text).getvalue()  # `!ref`s filled in: the text PyYAML will construct
        check_hyperparams(resolved)
        hparams = load_hyperpyyaml(resolved)
    pretrainer = hparams["pretrainer"]
    pretrainer.set_collect_in(None)
    pretrainer.paths = {name: str(local_checkpoint(path, spec.id, folder)) for name, path in pretrainer.paths.items()}
    pretrainer.collect_files(default_source=str(folder), local_strategy=LocalStrategy.NO_LINK,
                             fetch_config=FetchConfig(allow_network=False))
    pretrainer.load_collected()
    return cls(modules=hparams["modules"], hparams=hparams, run_opts={"device": device})


def as_batch(samples: np.ndarray, device: str) -> Any:
    """(1, n) float32 tensor of mono samples on `device`."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)).reshape(1, -1).to(device)


@dataclass
class SpeakerEncoder:
    """A speechbrain EncoderClassifier (x-vector TDNN) as `xvector(samples_16k)`."""

    model: Any
    sample_rate: int

    def xvector(self, samples_16k: np.ndarray) -> np.ndarray:
        """The x-vector of one recording (mono float samples at `sample_rate`, 16 kHz): a unit-length float32
        vector (512 values for spkrec-xvect-voxceleb), normalised as SpeechT5's speaker presets are."""
        import torch

        with torch.inference_mode():
            embedding = self.model.encode_batch(as_batch(samples_16k, self.model.device))
        vector = embedding.reshape(-1).float().cpu().numpy()
        return (vector / max(float(np.linalg.norm(vector)), 1e-8)).astype(np.float32)


@dataclass
class MaskEnhancer:
    """A speechbrain SpectralMaskEnhancement (MetricGAN+) as `enhance(samples)`."""

    model: Any
    sample_rate: int

    def enhance(self, samples: np.ndarray) -> np.ndarray:
        """The enhanced signal (same length, same rate) of mono float samples at `sample_rate`."""
        import torch

        with torch.inference_mode():
            batch = as_batch(samples, self.model.device)
            enhanced = self.model.enhance_batch(batch, lengths=torch.ones(1, device=batch.device))
        return fit_length(enhanced.reshape(-1).float().cpu().numpy(), len(samples))


def fit_length(samples: np.ndarray, length: int) -> np.ndarray:
    """`samples` cut or zero-padded to `length`."""
    return samples[:length] if len(samples) >= length else np.pad(samples, (0, length - len(samples)))


@dataclass
class Sepformer:
    """A speechbrain SepformerSeparation: encoder -> mask network -> decoder, with the masks kept."""

    model: Any
    sample_rate: int

    def separate(self, samples: np.ndarray) -> Separation:
        """Sources and masks of mono float samples at `sample_rate` (speechbrain's separate_batch, step by step)."""
        import torch

        mods, speakers = self.model.mods, int(self.model.hparams.num_spks)
        with torch.inference_mode():
            mix = as_batch(samples, self.model.device)
            mixture_basis = mods.encoder(mix)
            masks = mods.masknet(mixture_basis)  # (speakers, 1, basis, frames)
            sources = [mods.decoder(mixture_basis * masks[index]).reshape(-1) for index in range(speakers)]
        rows = [fit_length(source.float().cpu().numpy(), len(samples)) for source in sources]
        hop = len(samples) / max(masks.shape[-1], 1) / self.sample_rate
        return Separation(np.stack(rows), masks[:, 0].float().cpu().numpy(), self.sample_rate, hop)

    def enhance(self, samples: np.ndarray) -> np.ndarray:
        """The first estimated source: the speech, for the one-source enhancement SepFormers."""
        return self.separate(samples).sources[0]


def interface_classes() -> dict[str, tuple[type, type]]:
    """options["interface"] -> (speechbrain inference class, the wrapper this engine returns)."""
    from speechbrain.inference.enhancement import SpectralMaskEnhancement
    from speechbrain.inference.separation import SepformerSeparation
    from speechbrain.inference.speaker import EncoderClassifier

    return {"EncoderClassifier": (EncoderClassifier, SpeakerEncoder),
            "SpectralMaskEnhancement": (SpectralMaskEnhancement, MaskEnhancer),
            "SepformerSeparation": (SepformerSeparation, Sepformer)}


def load_speechbrain(spec: ModelSpec, placement: Placement, options: dict) -> Any:
    """A speechbrain model of the registry (fp32; CUDA or CPU) wrapped by its interface (see the module docstring)."""
    try:
        classes = interface_classes()
    except ImportError as exc:
        raise ModelUnavailableError(f"{spec.id} needs the pip package speechbrain; install the requirements.") from exc
    interface, wrapper = classes[spec.options["interface"]]
    device = placement.device if placement.device in ("cpu", "cuda") else "cpu"
    model = load_pretrained(interface, spec, fetch_repo(spec), device)
    return wrapper(model.eval(), int(spec.options.get("sample_rate", 16_000)))
