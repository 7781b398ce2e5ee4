"""Tiny random audio-to-audio models: speechbrain repos in their own hub layout (hyperparams.yaml + .ckpt files +
label_encoder.txt, the files a real speechbrain repo holds), SpeechT5 voice conversion, and HTDemucs in its
author's hub layout (a bag yaml + safetensors with the class and init arguments as metadata).

family -> builder, like transformers_models.BUILDERS. The speechbrain YAMLs follow the real repos' structure (the
same component classes, `modules`, a `pretrainer` with `<repo id>/file` paths where the real ones have them) with
small sizes; each checkpoint is written by speechbrain's own save hook, so loading goes through speechbrain's
Pretrainer exactly as for a real download. The x-vector keeps 512 outputs (SpeechT5's speaker embedding size)."""

from __future__ import annotations

from pathlib import Path

from shared.models.registry import ModelSpec
from tests.tiny_models import Builder

SEED = 0

XVECTOR_YAML = """\
# tiny random stand-in for speechbrain/spkrec-xvect-voxceleb
n_mels: 24
pretrained_path: {repo}
compute_features: !new:speechbrain.lobes.features.Fbank
    n_mels: !ref <n_mels>
mean_var_norm: !new:speechbrain.processing.features.InputNormalization
    norm_type: sentence
    std_norm: False
embedding_model: !new:speechbrain.lobes.models.Xvector.Xvector
    in_channels: !ref <n_mels>
    activation: !name:torch.nn.LeakyReLU
    tdnn_blocks: 5
    tdnn_channels: [16, 16, 16, 16, 48]
    tdnn_kernel_sizes: [5, 3, 3, 1, 1]
    tdnn_dilations: [1, 2, 3, 1, 1]
    lin_neurons: 512
classifier: !new:speechbrain.lobes.models.Xvector.Classifier
    input_shape: [null, null, 512]
    activation: !name:torch.nn.LeakyReLU
    lin_blocks: 1
    lin_neurons: 16
    out_neurons: 4
mean_var_norm_emb: !new:speechbrain.processing.features.InputNormalization
    norm_type: global
    std_norm: False
modules:
    compute_features: !ref <compute_features>
    mean_var_norm: !ref <mean_var_norm>
    embedding_model: !ref <embedding_model>
    mean_var_norm_emb: !ref <mean_var_norm_emb>
    classifier: !ref <classifier>
label_encoder: !new:speechbrain.dataio.encoder.CategoricalEncoder
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        embedding_model: !ref <embedding_model>
        mean_var_norm_emb: !ref <mean_var_norm_emb>
        classifier: !ref <classifier>
        label_encoder: !ref <label_encoder>
    paths:
        embedding_model: !ref <pretrained_path>/embedding_model.ckpt
        mean_var_norm_emb: !ref <pretrained_path>/mean_var_norm_emb.ckpt
        classifier: !ref <pretrained_path>/classifier.ckpt
        label_encoder: !ref <pretrained_path>/label_encoder.txt
"""

METRICGAN_YAML = """\
# tiny random stand-in for speechbrain/metricgan-plus-voicebank
sample_rate: 16000
win_length: 32
hop_length: 16
n_fft: 512
window_fn: !name:torch.hamming_window
compute_stft: !new:speechbrain.processing.features.STFT
    sample_rate: !ref <sample_rate>
    win_length: !ref <win_length>
    hop_length: !ref <hop_length>
    n_fft: !ref <n_fft>
    window_fn: !ref <window_fn>
compute_istft: !new:speechbrain.processing.features.ISTFT
    sample_rate: !ref <sample_rate>
    win_length: !ref <win_length>
    hop_length: !ref <hop_length>
    window_fn: !ref <window_fn>
spectral_magnitude: !name:speechbrain.processing.features.spectral_magnitude
    power: 0.5
resynth: !name:speechbrain.processing.signal_processing.resynthesize
    stft: !ref <compute_stft>
    istft: !ref <compute_istft>
    normalize_wavs: False
enhance_model: !new:speechbrain.lobes.models.MetricGAN.EnhancementGenerator
    input_size: !ref <n_fft> // 2 + 1
    hidden_size: 200
    num_layers: 1
    dropout: 0
modules:
    enhance_model: !ref <enhance_model>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        enhance_model: !ref <enhance_model>
    paths:
        enhance_model: {repo}/enhance_model.ckpt
"""

SEPFORMER_YAML = """\
# tiny random stand-in for {repo}
sample_rate: {sample_rate}
num_spks: {speakers}
Encoder: !new:speechbrain.lobes.models.dual_path.Encoder
    kernel_size: 16
    out_channels: 16
SBtfintra: !new:speechbrain.lobes.models.dual_path.SBTransformerBlock
    num_layers: 1
    d_model: 16
    nhead: 2
    d_ffn: 32
    dropout: 0
    use_positional_encoding: true
    norm_before: true
SBtfinter: !new:speechbrain.lobes.models.dual_path.SBTransformerBlock
    num_layers: 1
    d_model: 16
    nhead: 2
    d_ffn: 32
    dropout: 0
    use_positional_encoding: true
    norm_before: true
MaskNet: !new:speechbrain.lobes.models.dual_path.Dual_Path_Model
    num_spks: !ref <num_spks>
    in_channels: 16
    out_channels: 16
    num_layers: 1
    K: 250
    intra_model: !ref <SBtfintra>
    inter_model: !ref <SBtfinter>
    norm: ln
    linear_layer_after_inter_intra: False
    skip_around_intra: True
Decoder: !new:speechbrain.lobes.models.dual_path.Decoder
    in_channels: 16
    out_channels: 1
    kernel_size: 16
    stride: 8
    bias: False
modules:
    encoder: !ref <Encoder>
    decoder: !ref <Decoder>
    masknet: !ref <MaskNet>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        encoder: !ref <Encoder>
        masknet: !ref <MaskNet>
        decoder: !ref <Decoder>
"""


def write_speechbrain_repo(yaml_text: str, folder: Path, prepare: dict | None = None) -> Path:
    """Build the YAML's objects (seeded), run `prepare[name](obj)` where given, and save every Pretrainer loadable
    with speechbrain's own save hook as <name>.ckpt (or the file its path names); returns the folder."""
    import torch
    from hyperpyyaml import load_hyperpyyaml
    from speechbrain.utils.checkpoints import DEFAULT_SAVE_HOOKS, get_default_hook

    torch.manual_seed(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hyperparams.yaml").write_text(yaml_text)
    hparams = load_hyperpyyaml(yaml_text)
    pretrainer = hparams["pretrainer"]
    for name, loadable in pretrainer.loadables.items():
        (prepare or {}).get(name, lambda obj: None)(loadable)
        file_name = str(pretrainer.paths.get(name, f"{name}.ckpt")).rsplit("/", 1)[-1]
        get_default_hook(loadable, DEFAULT_SAVE_HOOKS)(loadable, folder / file_name)
    return folder


def fill_global_stats(normalizer: object) -> None:
    """An InputNormalization in global mode with zero mean (what a trained one holds after its statistics pass)."""
    import torch

    normalizer.glob_mean = torch.zeros(512)
    normalizer.glob_std = torch.ones(512)
    normalizer.count = 1


def fill_labels(encoder: object) -> None:
    """A CategoricalEncoder with four speaker ids, like the real one's 7205 VoxCeleb speakers."""
    encoder.update_from_iterable([f"id1000{index}" for index in range(4)])


def build_xvector(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """speechbrain EncoderClassifier: Fbank(24) -> Xvector TDNN (16-48 wide, 512 out) -> 4-speaker classifier."""
    yaml_text = XVECTOR_YAML.format(repo=spec.id)
    prepare = {"mean_var_norm_emb": fill_global_stats, "label_encoder": fill_labels}
    return {spec.id: write_speechbrain_repo(yaml_text, work / "repo", prepare)}


def build_metricgan(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """speechbrain SpectralMaskEnhancement: STFT(512) -> 1-layer BLSTM (width 200: the
    generator's linear layers are fixed at 400 inputs) -> mask -> ISTFT."""
    return {spec.id: write_speechbrain_repo(METRICGAN_YAML.format(repo=spec.id), work / "repo")}


def build_sepformer(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """speechbrain SepformerSeparation: conv encoder (16 bases) -> 1-layer dual-path transformer masks -> decoder;
    as many sources as the real checkpoint (2 for the separation models, 1 for the enhancement one)."""
    speakers = 1 if spec.task == "speech-enhancement" else 2
    yaml_text = SEPFORMER_YAML.format(repo=spec.id, sample_rate=spec.options["sample_rate"], speakers=speakers)
    return {spec.id: write_speechbrain_repo(yaml_text, work / "repo")}


def build_speecht5_vc(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """SpeechT5ForSpeechToSpeech (hidden 32, the real 7-layer conv speech encoder prenet at width 32, 512-d
    speaker embeddings, 80 mel bins, reduction factor 2) + SpeechT5Processor. The stop head never fires, so
    generation runs to the caller's maxlenratio. The HiFi-GAN vocoder repo is the text-to-speech SpeechT5's (built
    by transformers_models.build_speecht5 for the same registry), not built twice."""
    import torch
    from transformers import (
        SpeechT5Config,
        SpeechT5FeatureExtractor,
        SpeechT5ForSpeechToSpeech,
        SpeechT5Processor,
        SpeechT5Tokenizer,
    )

    from tests.tiny_models import transformers_models as tiny

    tokenizer_dir = work / "spm"
    tokenizer_dir.mkdir(parents=True, exist_ok=True)
    (tokenizer_dir / "spm_char.model").write_bytes(tiny._char_sentencepiece())
    tokenizer = SpeechT5Tokenizer(str(tokenizer_dir / "spm_char.model"), model_max_length=600)
    processor = SpeechT5Processor(feature_extractor=SpeechT5FeatureExtractor(), tokenizer=tokenizer)
    torch.manual_seed(SEED)
    config = SpeechT5Config(
        vocab_size=len(tokenizer), hidden_size=32, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=64, conv_dim=(32,) * 7,
        speech_decoder_prenet_units=32, speech_decoder_postnet_units=32, speech_decoder_postnet_layers=2,
        speaker_embedding_dim=512, num_mel_bins=80, reduction_factor=2, max_speech_positions=1876)
    model = SpeechT5ForSpeechToSpeech(config).eval()
    with torch.no_grad():
        model.speech_decoder_postnet.prob_out.bias.fill_(-10.0)
    folder = work / "model"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return {spec.id: folder}


DEMUCS_SIGNATURE = "0000tiny"  # the real bag names its models by a hash prefix, e.g. 955717e8


def build_demucs(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """HTDemucs in the author's hub layout (`<bag>.yaml` + `<signature>.safetensors` with the class and its init
    arguments as JSON metadata): the real STFT size, depth and four stems, 4 channels wide, 2 s segments, one
    transformer layer (85 k parameters)."""
    import json

    import torch
    import yaml
    from demucs.htdemucs import HTDemucs
    from safetensors.torch import save_file

    torch.manual_seed(SEED)
    kwargs = {"sources": ["drums", "bass", "other", "vocals"], "channels": 4, "depth": 4, "t_layers": 1,
              "t_heads": 2, "t_hidden_scale": 1.0, "dconv_comp": 4, "segment": 2}
    model = HTDemucs(**kwargs)
    folder = work / "repo"
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {"klass": "demucs.htdemucs.HTDemucs", "args": "[]", "kwargs": json.dumps(kwargs)}
    save_file({key: value.contiguous() for key, value in model.state_dict().items()},
              folder / f"{DEMUCS_SIGNATURE}.safetensors", metadata=metadata)
    (folder / f"{spec.options['bag']}.yaml").write_text(yaml.safe_dump({"models": [DEMUCS_SIGNATURE]}))
    return {spec.id: folder}


BUILDERS: dict[str, Builder] = {"sb-xvector": build_xvector, "sb-metricgan": build_metricgan,
                                "sb-sepformer": build_sepformer, "speecht5-vc": build_speecht5_vc,
                                "demucs": build_demucs}


def smoke_run(spec: ModelSpec, model: object) -> None:
    """One minimal inference with a loaded audio-to-audio or speechbrain model (tests/test_tiny_models.py)."""
    import numpy as np

    noise = (np.random.default_rng(0).standard_normal(16_000) * 0.1).astype(np.float32)
    if spec.family == "speecht5-vc":
        converted = model.convert(noise, np.full(512, 512 ** -0.5, np.float32))
        assert converted.samples.size > 0 and converted.mel.shape[1] == 80
    elif spec.family == "sb-xvector":
        vector = model.xvector(noise)
        assert vector.shape == (512,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4
    elif spec.task == "speech-enhancement":
        assert model.enhance(noise).shape == noise.shape
    elif spec.family == "demucs":
        separation = model.separate(noise)
        assert separation.sources.shape == (4, 16_000) and model.stems == ["drums", "bass", "other", "vocals"]
    else:
        separation = model.separate(noise[:8000])
        assert separation.sources.shape == (2, 8000) and separation.masks.shape[0] == 2
