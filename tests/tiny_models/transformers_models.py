"""Tiny randomly initialised transformers models for every hub family in the registry.

Each builder makes a model with real special tokens, labels and feature geometry but tiny weights (hidden 16-64,
1-2 layers), builds its tokenizer / feature extractor / processor locally (nothing from the hub), saves it with
`save_pretrained` (safetensors) and returns {repo_id: folder}.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.registry import ModelSpec

SEED = 0

# A little text in the languages the app shows; the BPE / sentencepiece vocabularies are trained on it.
CORPUS = (
    "The quick brown fox jumps over the lazy dog. Speech recognition is easier than you think.",
    "Hello world, this is a test of the audio demo suite. One two three four five six seven eight nine ten.",
    "She sells sea shells by the sea shore. How are you today? I am fine, thank you very much!",
    "The weather is nice and the music is loud: a dog barks, a car passes, people talk and laugh.",
    "Bonjour tout le monde, ceci est un essai. Le chat dort sur le canapé. Merci beaucoup et au revoir.",
    "Hola a todos, esto es una prueba. El perro corre en el parque. Muchas gracias y hasta luego.",
    "Guten Tag, das ist ein Test. Der Hund läuft im Park. Vielen Dank und auf Wiedersehen.",
    "Numbers like 1, 2, 3, 10, 42 and 2024; symbols like - ' \" ( ) [ ] and the end.",
)


def _seed() -> None:
    import torch

    torch.manual_seed(SEED)


def _save(folder: Path, *parts: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for part in parts:
        part.save_pretrained(folder)
    return folder


# ---------------------------------------------------------------------------------------------------------------
# Whisper
# ---------------------------------------------------------------------------------------------------------------

WHISPER_V3 = ("openai/whisper-large-v3-turbo", "distil-whisper/distil-large-v3")


@functools.cache
def _byte_level_bpe(vocab_size: int = 400) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A small byte-level BPE (vocab, merges) trained on CORPUS: the shape of GPT-2's, 400 tokens instead of 50k."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    state = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    return dict(state["vocab"]), merges


def _whisper_special_tokens(v3: bool) -> list[str]:
    """Whisper's special tokens after <|endoftext|>, in the real order; <|notimestamps|> is the last one."""
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    languages = list(LANGUAGES)  # 100 codes, "yue" last: only large-v3 has it
    if not v3:
        languages.remove("yue")
    return ["<|startoftranscript|>", *(f"<|{code}|>" for code in languages), "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|nospeech|>" if v3 else "<|nocaptions|>", "<|notimestamps|>"]


@functools.cache
def _whisper_tokenizer_files(v3: bool) -> Path:
    """Save a Whisper tokenizer (small base vocab, the real special and timestamp tokens) once per process."""
    import tempfile

    from tokenizers import AddedToken
    from transformers import WhisperTokenizer

    vocab, merges = _byte_level_bpe()
    vocab = dict(vocab)
    vocab["<|endoftext|>"] = len(vocab)  # last of the base vocabulary, as in GPT-2 / Whisper
    tokenizer = WhisperTokenizer(vocab=vocab, merges=merges, model_max_length=1024, pad_token="<|endoftext|>",
                                 errors="replace")
    specials = _whisper_special_tokens(v3)
    tokenizer.add_special_tokens({"additional_special_tokens": specials}, replace_extra_special_tokens=True)
    timestamps = [AddedToken(f"<|{i * 0.02:.2f}|>", lstrip=False, rstrip=False, normalized=False, special=False)
                  for i in range(1501)]
    tokenizer.add_tokens(timestamps)
    folder = Path(tempfile.mkdtemp(prefix="tiny-whisper-tok-"))
    tokenizer.save_pretrained(folder)
    return folder


def _whisper_suppress_tokens(tokenizer: Any) -> list[int]:
    """The non-speech symbols Whisper suppresses (openai/whisper's `non_speech_tokens`), in this vocabulary."""
    symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
    symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
    miscellaneous = set("♩♪♫♬♭♮♯")
    ids = {tokenizer.encode(" -", add_special_tokens=False)[0], tokenizer.encode(" '", add_special_tokens=False)[0]}
    for symbol in symbols + list(miscellaneous):
        for text in (symbol, " " + symbol):
            tokens = tokenizer.encode(text, add_special_tokens=False)
            if len(tokens) == 1 or symbol in miscellaneous:
                ids.add(tokens[0])
    ids.discard(tokenizer.convert_tokens_to_ids("Ġ"))  # a bare space: real vocabularies merge it into " ♪"
    return sorted(ids)


WHISPER_TEXT = " Hello from a tiny test model."


def _steer_whisper_decoder(model: Any, tokenizer: Any, first_text_index: int) -> None:
    """Make the random decoder say WHISPER_TEXT and stop, whatever the audio.

    A random Whisper babbles byte garbage until max_length (448 steps: tens of seconds per call on CPU). Here the
    decoder's learned position embeddings point, with a norm far above everything else in the residual stream, at
    the embedding of the token each position should predict (tied output head): position 0 -> <|en|> (language
    detection), then the text, then a closing timestamp (or <|endoftext|> when timestamps are off), then
    <|endoftext|>. The prompt is 4 tokens long for multilingual models (sot, language, task, notimestamps) and 2
    for English-only ones, so the text starts at index 3 or 1; timestamp mode forces its first timestamp there.
    The encoder, attention and cross-attention weights stay random, so word timestamps are random but valid.
    """
    import torch

    ids = tokenizer.convert_tokens_to_ids
    text = tokenizer.encode(WHISPER_TEXT, add_special_tokens=False)
    eot, closing = ids("<|endoftext|>"), ids("<|2.00|>")
    tokens = sorted({ids("<|en|>"), eot, closing, *text})
    d_model = model.config.d_model
    generator = torch.Generator().manual_seed(SEED)
    basis, _ = torch.linalg.qr(torch.randn(d_model, d_model, generator=generator))
    direction = {token: basis[:, i] for i, token in enumerate(tokens)}  # orthonormal: no two targets compete
    with torch.no_grad():
        embeddings = model.get_input_embeddings().weight
        for token, vector in direction.items():
            embeddings[token] = 4.0 * vector  # logits ~20 beat the 1501 timestamps' summed probability
        targets = [direction[ids("<|en|>")]] * first_text_index + [direction[t] for t in text]
        targets.append(direction[closing] + 0.7 * direction[eot])  # timestamp if allowed, else end of text
        positions = model.model.decoder.embed_positions.weight
        for index in range(positions.shape[0]):
            positions[index] = 50.0 * (targets[index] if index < len(targets) else direction[eot])


def build_whisper(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """WhisperForConditionalGeneration (d_model 32) with the real tokenizer layout and generation config."""
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    v3 = spec.id in WHISPER_V3
    multilingual = not spec.id.endswith(".en")
    tokenizer = WhisperTokenizer.from_pretrained(_whisper_tokenizer_files(v3))
    ids = tokenizer.convert_tokens_to_ids
    eot, sot = ids("<|endoftext|>"), ids("<|startoftranscript|>")
    mel_bins = 128 if v3 else 80
    feature_extractor = WhisperFeatureExtractor(feature_size=mel_bins)
    processor = WhisperProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)

    _seed()
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=mel_bins, d_model=32, encoder_layers=1, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_source_positions=1500, max_target_positions=448, pad_token_id=eot, bos_token_id=eot, eos_token_id=eot,
        decoder_start_token_id=sot,
    )
    model = WhisperForConditionalGeneration(config).eval()

    generation = GenerationConfig(
        alignment_heads=[[0, 1], [1, 0], [1, 1]],
        begin_suppress_tokens=[ids("Ġ"), eot],
        bos_token_id=eot,
        decoder_start_token_id=sot,
        eos_token_id=eot,
        pad_token_id=eot,
        is_multilingual=multilingual,
        max_initial_timestamp_index=50,
        max_length=448,
        no_timestamps_token_id=ids("<|notimestamps|>"),
        prev_sot_token_id=ids("<|startofprev|>"),
        return_timestamps=False,
        suppress_tokens=_whisper_suppress_tokens(tokenizer),
    )
    if multilingual:
        generation.lang_to_id = {token: ids(token) for token in _whisper_special_tokens(v3)[1:-6]}
        generation.task_to_id = {"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")}
    model.generation_config = generation
    _steer_whisper_decoder(model, tokenizer, first_text_index=3 if multilingual else 1)
    folder = _save(work / "model", model, processor, feature_extractor)
    return {spec.id: folder}


BUILDERS: dict[str, Callable[[ModelSpec, Path], dict[str, Path]]] = {
    "whisper": build_whisper,
}
