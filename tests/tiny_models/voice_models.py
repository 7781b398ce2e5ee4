"""Tiny random voice-cloning TTS models: CSM (with a tiny Mimi codec inside) and Dia (with a tiny DAC codec in its
own repo, `descript/dac_44khz`, as the real processor points to it).

The codecs keep the real geometry the processors hard-code: Mimi's strides 8·6·5·4 (+2) at 24 kHz, so the CSM
processor's count of audio tokens (12.5 per second) matches what the codec makes; DAC's 2·4·8·8 = 512 samples per
frame at 44.1 kHz with 9 codebooks of 1024 codes, as Dia's audio token ids (1024 eos, 1025 pad, 1026 bos) and
delay pattern assume. Widths and depths are minimal. CSM's codebook vocabulary equals the codec's codebook size
here (the real model has 3 extra ids it never emits; a random model would).

family -> builder, like transformers_models.BUILDERS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.models.registry import ModelSpec
from tests.tiny_models import Builder

SEED = 0
CSM_CODEBOOKS = 8  # the real model reads 32
CSM_CODES = 64  # per codebook (real: 2048)
CSM_SPECIAL = ("<|begin_of_text|>", "<|end_of_text|>", "<|AUDIO|>", "<|audio_eos|>")
DAC_REPO = "descript/dac_44khz"


def _seed() -> None:
    import torch

    torch.manual_seed(SEED)


def _save(folder: Path, *parts: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for part in parts:
        part.save_pretrained(folder)
    return folder


def _csm_tokenizer() -> Any:
    """A byte-level BPE with Llama 3's special tokens for CSM (bos, eos, the audio placeholder and its end)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from tests.tiny_models.transformers_models import CORPUS

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    backend.train_from_iterator(CORPUS, trainer=trainer)
    bos, eos, audio, audio_eos = CSM_SPECIAL
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token=bos, eos_token=eos, pad_token=eos,
                                   extra_special_tokens={"audio_token": audio, "audio_eos_token": audio_eos})


def _mimi_config() -> dict[str, Any]:
    return {"model_type": "mimi", "hidden_size": 32, "num_filters": 4, "num_residual_layers": 1,
            "upsampling_ratios": [8, 6, 5, 4], "codebook_size": CSM_CODES, "codebook_dim": 16,
            "vector_quantization_hidden_dimension": 16, "num_quantizers": CSM_CODEBOOKS, "num_semantic_quantizers": 1,
            "upsample_groups": 32, "num_hidden_layers": 1, "intermediate_size": 64, "num_attention_heads": 2,
            "num_key_value_heads": 2, "sliding_window": 32, "use_cache": False}


def _spread_mimi_codebooks(codec: Any) -> None:
    """Random centroids for Mimi's codebooks: a new MimiModel's are all zero, so every frame would encode to code 0
    (which CSM also reads as end of audio)."""
    import torch

    with torch.no_grad():
        for module in codec.modules():
            if type(module).__name__ == "MimiEuclideanCodebook":
                module.embed_sum.normal_()
                module._embed = None


def build_csm(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """CsmForConditionalGeneration (backbone and depth decoder 1 layer of width 32, 8 codebooks of 64 codes, tiny
    Mimi inside) + CsmProcessor (EncodecFeatureExtractor at 24 kHz, the tokenizer above)."""
    from transformers import (
        CsmConfig,
        CsmForConditionalGeneration,
        CsmProcessor,
        EncodecFeatureExtractor,
        GenerationConfig,
    )

    _seed()
    tokenizer = _csm_tokenizer()
    bos, _, audio, audio_eos = tokenizer.convert_tokens_to_ids(list(CSM_SPECIAL))
    small = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
             "num_key_value_heads": 1}
    config = CsmConfig(
        num_codebooks=CSM_CODEBOOKS, vocab_size=CSM_CODES, text_vocab_size=len(tokenizer), max_position_embeddings=2048,
        bos_token_id=bos, pad_token_id=audio, audio_token_id=audio, audio_eos_token_id=audio_eos,
        codebook_pad_token_id=CSM_CODES - 1, codebook_eos_token_id=0, codec_config=_mimi_config(),
        depth_decoder_config={"num_codebooks": CSM_CODEBOOKS, "backbone_hidden_size": 32, "vocab_size": CSM_CODES,
                              "max_position_embeddings": CSM_CODEBOOKS + 1, **small},
        **small)
    model = CsmForConditionalGeneration(config).eval()
    _spread_mimi_codebooks(model.codec_model)
    model.generation_config = GenerationConfig(max_length=2048, do_sample=True, top_k=50, temperature=0.9)
    model.depth_decoder.generation_config = GenerationConfig(do_sample=True, top_k=50, temperature=0.9)
    processor = CsmProcessor(EncodecFeatureExtractor(feature_size=1, sampling_rate=24_000), tokenizer)
    return {spec.id: _save(work / "csm", model, processor)}


def build_dia(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """DiaForConditionalGeneration (encoder and decoder 1 layer of width 32, 9 channels of 1028 ids) + DiaProcessor,
    and the tiny DAC it loads from `descript/dac_44khz` (processor_config.json names that repo, as the real one)."""
    from transformers import (
        DacConfig,
        DacFeatureExtractor,
        DacModel,
        DiaConfig,
        DiaFeatureExtractor,
        DiaForConditionalGeneration,
        DiaProcessor,
        DiaTokenizer,
        GenerationConfig,
    )

    _seed()
    dac = DacModel(DacConfig(encoder_hidden_size=8, downsampling_ratios=[2, 4, 8, 8], decoder_hidden_size=32,
                             n_codebooks=9, codebook_size=1024, codebook_dim=4, sampling_rate=44_100,
                             hop_length=512)).eval()
    dac_folder = _save(work / "dac", dac, DacFeatureExtractor(sampling_rate=44_100, hop_length=512))
    attention = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "head_dim": 16}
    config = DiaConfig(
        encoder_config={**attention, "num_key_value_heads": 2, "vocab_size": 256, "max_position_embeddings": 1024},
        decoder_config={**attention, "num_key_value_heads": 1, "cross_num_attention_heads": 2, "cross_head_dim": 16,
                        "cross_num_key_value_heads": 2, "cross_hidden_size": 32, "vocab_size": 1028,
                        "num_channels": 9, "max_position_embeddings": 3072})
    model = DiaForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(do_sample=True, temperature=1.2, top_p=0.95, top_k=45,
                                               guidance_scale=3.0, max_length=3072, pad_token_id=1025,
                                               eos_token_id=1024, bos_token_id=1026, decoder_start_token_id=1026)
    processor = DiaProcessor(DiaFeatureExtractor(sampling_rate=44_100, hop_length=512), DiaTokenizer(), dac)
    folder = _save(work / "dia", model, processor)
    processor_file = folder / "processor_config.json"
    saved = json.loads(processor_file.read_text())
    saved["audio_tokenizer"]["audio_tokenizer_name_or_path"] = spec.options.get("codec", DAC_REPO)
    processor_file.write_text(json.dumps(saved, indent=2))
    return {spec.id: folder, spec.options.get("codec", DAC_REPO): dac_folder}


def smoke_run(spec: ModelSpec, model: Any) -> None:
    """One short generation (0.3 s of audio at most) of a loaded CodecLm in its own voice (tests/test_tiny_models)."""
    from unittest import mock

    import numpy as np

    from shared.tts import codec_lm

    with mock.patch.object(codec_lm, "MAX_PART_S", 0.3):
        trace = codec_lm.new_trace(model, "")
        audio = codec_lm.speak(model, "Hello there.", None, "", trace)
    assert audio.ndim == 1 and audio.size > 0 and np.isfinite(audio).all() and model.sample_rate > 0
    codebooks = model.vocoder.config.num_quantizers if spec.family == "csm" else model.vocoder.config.n_codebooks
    assert trace.parts[0].generated.shape[0] == codebooks


BUILDERS: dict[str, Builder] = {"csm": build_csm, "dia": build_dia}
