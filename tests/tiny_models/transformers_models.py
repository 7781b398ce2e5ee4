"""Tiny randomly initialised transformers models for every hub family in the registry.

Each builder makes a model with the real special tokens, labels, sampling rates and feature geometry but tiny
weights (hidden 16-128, 1-2 layers), builds its tokenizer / feature extractor / processor locally (nothing from
the hub), saves it with `save_pretrained` (safetensors) and returns {repo_id: folder}.

Where a random model would be useless or slow in tests, a few weights are set by hand (documented per builder):
Whisper and Moonshine Streaming say a fixed sentence and stop, CTC heads blank about half the frames, SpeechT5 never
stops early, Bark's semantic stage stops after 0.8 s, VITS tokens last ~2.7 frames, and vocoder output gains are
calibrated (RMS ~0.1).
Everything is seeded: two builds give byte-identical files.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from shared.models.registry import ModelSpec

SEED = 0

# A little text in the languages the app shows; the BPE / WordPiece / sentencepiece vocabularies are trained on it.
CORPUS = (
    "The quick brown fox jumps over the lazy dog. Speech recognition is easier than you think.",
    "Hello world, this is a test of the audio demo suite. One two three four five six seven eight nine ten.",
    "Hello from a tiny test model. She sells sea shells by the sea shore. How are you today? I am fine, thanks!",
    "The weather is nice and the music is loud: a dog barks, a car passes, people talk and laugh.",
    "This is a sound of speech, music, a dog, a cat, birds, rain, wind, a siren, an engine, applause, silence.",
    "Bonjour tout le monde, ceci est un essai. Le chat dort sur le canapé. Merci beaucoup et au revoir.",
    "Hola a todos, esto es una prueba. El perro corre en el parque. Muchas gracias y hasta luego.",
    "Guten Tag, das ist ein Test. Der Hund läuft im Park. Vielen Dank und auf Wiedersehen.",
    "Numbers like 1, 2, 3, 10, 42 and 2024; symbols like - ' \" ( ) [ ] ! ? and the end.",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:!?'\"-()[]",
)

Builder = Callable[[ModelSpec, Path], dict[str, Path]]


def _seed() -> None:
    import torch

    torch.manual_seed(SEED)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No progress bars ("Writing model shards") and no library warnings while building (restored afterwards)."""
    from transformers.utils import logging

    enabled, verbosity = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if enabled:
            logging.enable_progress_bar()


def _save(folder: Path, *parts: Any) -> Path:
    """`save_pretrained` every part (model, processor, feature extractor, ...) into one folder."""
    folder.mkdir(parents=True, exist_ok=True)
    with _quiet():
        for part in parts:
            part.save_pretrained(folder)
    return folder


def _labels(names: list[str]) -> dict[str, Any]:
    return {"id2label": dict(enumerate(names)), "label2id": {name: i for i, name in enumerate(names)}}


def _steer(embedding: Any, rows: dict[int, Any], scale: float = 4.0) -> None:
    """Point the given output rows along unit vectors (orthonormal), `scale` long, so they dominate the logits."""
    import torch

    with torch.no_grad():
        for row, vector in rows.items():
            embedding[row] = scale * vector


def _basis(size: int) -> Any:
    """A deterministic random orthonormal basis (columns) of R^size."""
    import torch

    generator = torch.Generator().manual_seed(SEED)
    basis, _ = torch.linalg.qr(torch.randn(size, size, generator=generator))
    return basis


def _calibrate_gain(conv: Any, run: Callable[[], Any], target_std: float = 0.15) -> None:
    """Re-scale a vocoder's last (1-channel) conv so its output on a sample input has mean 0 and `target_std`.

    Random HiFi-GAN / EnCodec stacks come out near silent (1e-8), as clipped square noise or as a DC offset; tests
    that check for non-silent, non-clipping audio want none of these.
    """
    import torch

    captured: list[tuple[float, float]] = []
    handle = conv.register_forward_hook(
        lambda _module, _inputs, output: captured.append((float(output.mean()), float(output.std()))))
    try:
        with torch.no_grad(), _quiet():
            run()
    finally:
        handle.remove()
    mean, std = captured[-1]
    gain = target_std / max(std, 1e-12)
    with torch.no_grad():
        if torch.nn.utils.parametrize.is_parametrized(conv, "weight"):  # weight_norm: weight = g * v / |v|
            conv.parametrizations.weight.original0.mul_(gain)
        else:
            conv.weight.mul_(gain)
        if conv.bias is not None:
            conv.bias.sub_(mean).mul_(gain)


@functools.cache
def _byte_level_bpe(vocab_size: int = 400) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A small byte-level BPE (vocab, merges) trained on CORPUS: GPT-2's shape, 400 tokens instead of 50k."""
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


# ---------------------------------------------------------------------------------------------------------------
# Whisper
# ---------------------------------------------------------------------------------------------------------------

WHISPER_V3 = ("openai/whisper-large-v3-turbo", "distil-whisper/distil-large-v3",
              "distil-whisper/distil-large-v3.5")  # 128 mel bins, 100 languages
WHISPER_TEXT = " Hello from a tiny test model."


def _whisper_special_tokens(v3: bool) -> list[str]:
    """Whisper's special tokens after <|endoftext|>, in the real order; <|notimestamps|> is the last one."""
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    languages = list(LANGUAGES)  # 100 codes, "yue" last: only large-v3 has it
    if not v3:
        languages.remove("yue")
    return ["<|startoftranscript|>", *(f"<|{code}|>" for code in languages), "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|nospeech|>" if v3 else "<|nocaptions|>", "<|notimestamps|>"]


@functools.cache
def _whisper_tokenizer(v3: bool) -> Any:
    """A Whisper tokenizer (built once per process): small base vocab, then the real special and timestamp tokens.

    Layout as in the real ones: <|endoftext|> closes the base vocabulary, <|startoftranscript|> follows, then the
    languages, tasks, ... and <|notimestamps|> as the last *special* token; the 1501 timestamp tokens <|0.00|> ..
    <|30.00|> come after it as ordinary added tokens (transformers takes timestamp_begin = last special id + 1).
    English-only checkpoints share this tokenizer (the .en tokenizers also hold the language tokens).
    """
    from tokenizers import AddedToken
    from transformers import WhisperTokenizer

    vocab, merges = _byte_level_bpe()
    vocab = {**vocab, "<|endoftext|>": len(vocab)}
    tokenizer = WhisperTokenizer(vocab=vocab, merges=list(merges), model_max_length=1024, pad_token="<|endoftext|>",
                                 errors="replace")
    tokenizer.add_special_tokens({"additional_special_tokens": _whisper_special_tokens(v3)},
                                 replace_extra_special_tokens=True)
    tokenizer.add_tokens([AddedToken(f"<|{i * 0.02:.2f}|>", lstrip=False, rstrip=False, normalized=False,
                                     special=False) for i in range(1501)])
    tokenizer.set_prefix_tokens()  # __init__ built the "<sot> <notimestamps> $A <eot>" template before they existed
    return tokenizer


def _whisper_suppress_tokens(tokenizer: Any) -> list[int]:
    """The non-speech symbols Whisper suppresses (openai/whisper's `non_speech_tokens`), in this vocabulary."""
    symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
    symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
    miscellaneous = set("♩♪♫♬♭♮♯")
    ids = {tokenizer.encode(" -", add_special_tokens=False)[0], tokenizer.encode(" '", add_special_tokens=False)[0]}
    for symbol in symbols + sorted(miscellaneous):
        for text in (symbol, " " + symbol):
            tokens = tokenizer.encode(text, add_special_tokens=False)
            if len(tokens) == 1 or symbol in miscellaneous:
                ids.add(tokens[0])
    ids.discard(tokenizer.convert_tokens_to_ids("Ġ"))  # a bare space: real vocabularies merge it into " ♪"
    return sorted(ids)


def _steer_whisper_decoder(model: Any, tokenizer: Any, first_text_index: int) -> None:
    """Make the random decoder say WHISPER_TEXT and stop, whatever the audio.

    A random Whisper babbles byte garbage up to max_length (448 steps: seconds to minutes per call on CPU). Here
    the decoder's learned position embeddings point, with a norm far above everything else in the residual
    stream, at the (tied) output embedding of the token each position should predict: position 0 -> <|en|>
    (language detection), then the text, then a closing timestamp (<|endoftext|> when timestamps are off), then
    <|endoftext|>. The prompt is 4 tokens for multilingual models (sot, language, task, notimestamps) and 2 for
    English-only ones, so the text starts at index 3 or 1; timestamp mode forces its first timestamp there.
    Encoder, attention and cross-attention weights stay random, so word timestamps are random but valid.
    """
    ids = tokenizer.convert_tokens_to_ids
    text = tokenizer.encode(WHISPER_TEXT, add_special_tokens=False)
    english, eot, closing = ids("<|en|>"), ids("<|endoftext|>"), ids("<|2.00|>")
    basis = _basis(model.config.d_model)
    direction = {token: basis[:, i] for i, token in enumerate(sorted({english, eot, closing, *text}))}
    # output logits ~ 4 * sqrt(d_model) = 23: beats the summed probability of the 1501 timestamp tokens
    _steer(model.get_input_embeddings().weight, direction, scale=4.0)
    targets = [direction[english]] * first_text_index + [direction[token] for token in text]
    targets.append(direction[closing] + 0.7 * direction[eot])  # the timestamp where allowed, else the end
    positions = model.model.decoder.embed_positions.weight
    _steer(positions, {i: targets[i] if i < len(targets) else direction[eot] for i in range(positions.shape[0])},
           scale=50.0)


def build_whisper(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """WhisperForConditionalGeneration (d_model 32) with the real tokenizer layout and generation config."""
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    v3 = spec.id in WHISPER_V3
    multilingual = not spec.id.endswith(".en")
    tokenizer = _whisper_tokenizer(v3)  # shared, never modified
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
    _steer_whisper_decoder(model, tokenizer, first_text_index=3 if multilingual else 1)

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
    if multilingual:  # English-only checkpoints have neither: no language / task tokens in their prompt
        generation.lang_to_id = {token: ids(token) for token in _whisper_special_tokens(v3)[1:-6]}
        generation.task_to_id = {"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")}
    model.generation_config = generation
    return {spec.id: _save(work / "model", model, processor, feature_extractor)}


# ---------------------------------------------------------------------------------------------------------------
# Moonshine Streaming
# ---------------------------------------------------------------------------------------------------------------

MOONSHINE_TEXT = "Hello from a tiny test model."
MOONSHINE_SPECIALS = ("<unk>", "<s>", "</s>")  # ids 0, 1, 2 as in the real tokenizer: pad/unk, start, end


@functools.cache
def _moonshine_tokenizer() -> Any:
    """A PreTrainedTokenizerFast like the real one (sentencepiece-style "▁" BPE, <unk>=0 <s>=1 </s>=2), trained on
    CORPUS: ~300 tokens instead of 32,768."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    backend.train_from_iterator(CORPUS, trainer=trainers.BpeTrainer(
        vocab_size=300, special_tokens=list(MOONSHINE_SPECIALS), show_progress=False))
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", bos_token="<s>", eos_token="</s>",
                                   pad_token="<unk>")


def _steer_moonshine_decoder(model: Any, tokenizer: Any) -> None:
    """Make the random decoder say MOONSHINE_TEXT and stop, whatever the audio (a random one babbles until
    max_new_tokens).

    The decoder has rotary positions (nothing per position to steer, unlike Whisper), so the chain is written into
    the tokens: each token's input embedding points, far above the random layers' output, along the unit vector of
    the token that follows it (<s> -> first word ... -> last word -> </s>), and the output projection row of that
    token points the same way. Every token of the text must differ, or the chain would loop.
    """
    text = tokenizer.encode(MOONSHINE_TEXT, add_special_tokens=False)
    chain = [model.config.decoder_start_token_id, *text, tokenizer.eos_token_id]
    if len(set(chain)) != len(chain):
        raise ValueError(f"repeated token in {MOONSHINE_TEXT!r}: the steering chain would loop")
    basis = _basis(model.config.hidden_size)
    direction = {token: basis[:, i] for i, token in enumerate(chain[1:])}
    following = {token: direction[after] for token, after in itertools.pairwise(chain)}
    _steer(model.get_input_embeddings().weight, following, scale=50.0)
    _steer(model.get_output_embeddings().weight, direction, scale=4.0)


def build_moonshine_streaming(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """MoonshineStreamingForConditionalGeneration (encoder and decoder hidden 32, 2 layers each) with the real
    waveform geometry (16 kHz, 5 ms = 80-sample frames, two stride-2 convolutions: 50 encoder frames per second,
    4096 position embeddings = 81.9 s at most per forward) and a MoonshineStreamingProcessor
    (Wav2Vec2FeatureExtractor without normalisation, as the real checkpoints ship it, + a small BPE tokenizer)."""
    from transformers import (
        GenerationConfig,
        MoonshineStreamingConfig,
        MoonshineStreamingEncoderConfig,
        MoonshineStreamingForConditionalGeneration,
        MoonshineStreamingProcessor,
        Wav2Vec2FeatureExtractor,
    )

    tokenizer = _moonshine_tokenizer()
    feature_extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, padding_value=0.0,
                                                 do_normalize=False, return_attention_mask=True)
    processor = MoonshineStreamingProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    _seed()
    encoder = MoonshineStreamingEncoderConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                              num_attention_heads=2, num_key_value_heads=2,
                                              sliding_windows=((16, 4), (16, 0)))
    config = MoonshineStreamingConfig(
        encoder_config=encoder, vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        decoder_start_token_id=1,
    )
    model = MoonshineStreamingForConditionalGeneration(config).eval()
    _steer_moonshine_decoder(model, tokenizer)
    model.generation_config = GenerationConfig(bos_token_id=1, decoder_start_token_id=1, eos_token_id=2,
                                               pad_token_id=0)
    # processor_config.json only (the feature extractor nested in it, no preprocessor_config.json): the real layout
    return {spec.id: _save(work / "model", model, processor)}


# ---------------------------------------------------------------------------------------------------------------
# wav2vec2 / HuBERT: CTC speech recognition and sequence classification
# ---------------------------------------------------------------------------------------------------------------

# facebook/wav2vec2-base-960h's vocab.json (HuBERT large ls960-ft has the same): <pad> is the CTC blank
LIBRISPEECH_VOCAB = ("<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ")


def _wav2vec2_config(spec: ModelSpec, **extra: Any) -> Any:
    """A 1-layer wav2vec2 / HuBERT config (hidden 32) with the real 7-layer conv geometry: 20 ms frames."""
    from transformers import HubertConfig, Wav2Vec2Config

    hubert = "hubert" in spec.id
    large = "large" in spec.id  # large checkpoints: layer-norm conv stack with bias, pre-LN transformer
    return (HubertConfig if hubert else Wav2Vec2Config)(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, conv_dim=(32,) * 7,
        num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16, feat_extract_norm="layer" if large else "group",
        do_stable_layer_norm=large, conv_bias=large, **extra,
    )


def _wav2vec2_feature_extractor(spec: ModelSpec) -> Any:
    from transformers import Wav2Vec2FeatureExtractor

    # wav2vec2-base-960h (group norm) is the one checkpoint here that is fed without an attention mask
    return Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                    return_attention_mask=spec.id != "facebook/wav2vec2-base-960h")


def build_ctc(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """Wav2Vec2ForCTC / HubertForCTC with the real LibriSpeech character vocabulary and Wav2Vec2Processor.

    The CTC head is random (weights x10 so frames disagree) with biases that make it look like a CTC model: about
    half the frames blank, "|" word breaks, never <s> </s> <unk>. Transcripts are random capitals and spaces
    (silence gives an empty one).
    """
    import torch
    from transformers import HubertForCTC, Wav2Vec2CTCTokenizer, Wav2Vec2ForCTC, Wav2Vec2Processor

    work.mkdir(parents=True, exist_ok=True)
    vocab_file = work / "vocab.json"
    vocab_file.write_text(json.dumps({token: i for i, token in enumerate(LIBRISPEECH_VOCAB)}))
    tokenizer = Wav2Vec2CTCTokenizer(str(vocab_file), unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
                                     eos_token="</s>", word_delimiter_token="|", do_lower_case=False)
    feature_extractor = _wav2vec2_feature_extractor(spec)
    processor = Wav2Vec2Processor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    _seed()
    config = _wav2vec2_config(spec, vocab_size=len(LIBRISPEECH_VOCAB), pad_token_id=0, bos_token_id=1,
                              eos_token_id=2, ctc_loss_reduction="sum")
    model = (HubertForCTC if "hubert" in spec.id else Wav2Vec2ForCTC)(config)
    with torch.no_grad():
        model.lm_head.weight.mul_(10.0)
        model.lm_head.bias.zero_()
        model.lm_head.bias[0] = 3.5  # blank
        model.lm_head.bias[1:4] = -10.0  # <s> </s> <unk>
        model.lm_head.bias[4] = 1.5  # | word delimiter
    return {spec.id: _save(work / "model", model, processor, feature_extractor)}


SUPERB_LABELS = {
    "superb/wav2vec2-base-superb-ks": ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
                                       "_silence_", "_unknown_"],
    "superb/hubert-large-superb-er": ["neu", "hap", "ang", "sad"],
}


def build_wav2vec2_cls(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """Wav2Vec2ForSequenceClassification / HubertForSequenceClassification with the real SUPERB labels."""
    from transformers import HubertForSequenceClassification, Wav2Vec2ForSequenceClassification

    _seed()
    config = _wav2vec2_config(spec, use_weighted_layer_sum=True, classifier_proj_size=256,
                              **_labels(SUPERB_LABELS[spec.id]))
    model = (HubertForSequenceClassification if "hubert" in spec.id else Wav2Vec2ForSequenceClassification)(config)
    return {spec.id: _save(work / "model", model, _wav2vec2_feature_extractor(spec))}


# ---------------------------------------------------------------------------------------------------------------
# AST
# ---------------------------------------------------------------------------------------------------------------

# The first AudioSet ontology classes in class_labels_indices.csv order; the rest get generated names.
AUDIOSET_FIRST = (
    "Speech", "Male speech, man speaking", "Female speech, woman speaking", "Child speech, kid speaking",
    "Conversation", "Narration, monologue", "Babbling", "Speech synthesizer", "Shout", "Bellow", "Whoop", "Yell",
    "Battle cry", "Children shouting", "Screaming", "Whispering", "Laughter", "Baby laughter", "Giggle", "Snicker",
    "Belly laugh", "Chuckle, chortle", "Crying, sobbing", "Baby cry, infant cry", "Whimper", "Wail, moan", "Sigh",
    "Singing", "Choir", "Yodeling", "Chant", "Mantra", "Male singing", "Female singing", "Child singing",
    "Synthetic singing", "Rapping", "Humming", "Groan", "Grunt", "Whistling", "Breathing", "Wheeze", "Snoring",
    "Gasp", "Pant", "Snort", "Cough", "Throat clearing", "Sneeze", "Sniff", "Run", "Shuffle", "Walk, footsteps",
    "Chewing, mastication", "Biting", "Gargling", "Stomach rumble", "Burping, eructation", "Hiccup", "Fart", "Hands",
    "Finger snapping", "Clapping", "Heart sounds, heartbeat", "Heart murmur", "Cheering", "Applause", "Chatter",
    "Crowd", "Hubbub, speech noise, speech babble", "Children playing", "Animal", "Domestic animals, pets", "Dog",
    "Bark", "Yip", "Howl", "Bow-wow", "Growling", "Whimper (dog)", "Cat", "Purr", "Meow", "Hiss", "Caterwaul",
    "Livestock, farm animals, working animals", "Horse", "Clip-clop", "Neigh, whinny", "Cattle, bovinae", "Moo",
    "Cowbell", "Pig", "Oink", "Goat", "Bleat", "Sheep", "Fowl", "Chicken, rooster", "Cluck",
    "Crowing, cock-a-doodle-doo", "Turkey", "Gobble", "Duck", "Quack", "Goose", "Honk", "Wild animals",
    "Roaring cats (lions, tigers)", "Roar", "Bird", "Bird vocalization, bird call, bird song", "Chirp, tweet",
    "Squawk", "Pigeon, dove", "Coo", "Crow", "Caw", "Owl", "Hoot", "Bird flight, flapping wings",
    "Canidae, dogs, wolves", "Rodents, rats, mice", "Mouse", "Patter", "Insect", "Cricket", "Mosquito",
    "Fly, housefly", "Buzz", "Bee, wasp, etc.", "Frog", "Croak", "Snake", "Rattle", "Whale vocalization", "Music",
)
SPEECH_COMMANDS = (
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward", "four", "go", "happy",
    "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one", "right", "seven", "sheila", "six", "stop",
    "three", "tree", "two", "up", "visual", "wow", "yes", "zero",
)


def build_ast(spec: ModelSpec, work: Path, real_size: bool = False) -> dict[str, Path]:
    """ASTForAudioClassification (hidden 32, 1 layer; with `real_size`, `ASTConfig()`'s 768 × 12 layers, 87 M
    parameters, for benchmarks) with the real patch / mel geometry and labels.

    AudioSet: 527 classes, 1024 frames, sigmoid (multi-label). Speech Commands v2: 35 words, 128 frames, softmax.
    """
    import torch
    from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

    audioset = "audioset" in spec.id
    if audioset:
        labels = [*AUDIOSET_FIRST, *(f"AudioSet class {i}" for i in range(len(AUDIOSET_FIRST), 527))]
        feature_extractor = ASTFeatureExtractor(num_mel_bins=128, max_length=1024, mean=-4.2677393, std=4.5689974)
    else:
        labels = list(SPEECH_COMMANDS)
        feature_extractor = ASTFeatureExtractor(num_mel_bins=128, max_length=128, mean=-6.845978, std=5.5654526)
    _seed()
    size = {} if real_size else {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                                 "intermediate_size": 64}
    config = ASTConfig(
        **size, patch_size=16, frequency_stride=10, time_stride=10, num_mel_bins=128,
        max_length=feature_extractor.max_length,
        problem_type="multi_label_classification" if audioset else "single_label_classification", **_labels(labels),
    )
    model = ASTForAudioClassification(config)
    if audioset:  # let the classes with real names win, so demos show "Speech" / "Music" rather than "class 317"
        with torch.no_grad():
            model.classifier.dense.bias[: len(AUDIOSET_FIRST)] += 1.0
    return {spec.id: _save(work / "model", model, feature_extractor)}


# ---------------------------------------------------------------------------------------------------------------
# CLAP
# ---------------------------------------------------------------------------------------------------------------


@functools.cache
def _roberta_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """RoBERTa's layout (<s> <pad> </s> <unk> ... <mask>) around the small byte-level BPE."""
    base, merges = _byte_level_bpe()
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, _ in sorted(base.items(), key=lambda item: item[1]):
        vocab.setdefault(token, len(vocab))
    vocab["<mask>"] = len(vocab)
    return vocab, merges


def build_clap(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """ClapModel (tiny RoBERTa text tower + tiny HTSAT audio tower) with ClapProcessor, 48 kHz, 64 mel bins.

    The HTSAT geometry is real (256x256 spectrogram image, 4x4 patches, window 8, 4 stages) with 16-128 channels.
    The fused checkpoint enables fusion and its feature extractor truncates with "fusion" (4 mel views of long
    audio); the unfused ones use "rand_trunc".
    """
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor, RobertaTokenizer

    fused = spec.id.endswith("-fused")
    vocab, merges = _roberta_vocab()
    tokenizer = RobertaTokenizer(vocab=dict(vocab), merges=list(merges), model_max_length=512)
    feature_extractor = ClapFeatureExtractor(feature_size=64, sampling_rate=48_000, hop_length=480, max_length_s=10,
                                             fft_window_size=1024, frequency_min=50, frequency_max=14_000,
                                             truncation="fusion" if fused else "rand_trunc", padding="repeatpad")
    processor = ClapProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    _seed()
    config = ClapConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "intermediate_size": 64, "max_position_embeddings": 514, "projection_dim": 32},
        audio_config={"patch_embeds_hidden_size": 16, "hidden_size": 128, "depths": [1, 1, 1, 1],
                      "num_attention_heads": [2, 2, 4, 4], "num_hidden_layers": 4, "projection_dim": 32,
                      "num_mel_bins": 64, "spec_size": 256, "window_size": 8, "enable_fusion": fused},
        projection_dim=32,
    )
    model = ClapModel(config)
    return {spec.id: _save(work / "model", model, processor, feature_extractor)}


# ---------------------------------------------------------------------------------------------------------------
# SpeechT5
# ---------------------------------------------------------------------------------------------------------------


@functools.cache
def _char_sentencepiece() -> bytes:
    """A character-level sentencepiece model like SpeechT5's spm_char.model (<s>=0 <pad>=1 </s>=2 <unk>=3)."""
    import io

    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS), model_writer=model, model_type="char", vocab_size=100,
        hard_vocab_limit=False, character_coverage=1.0, normalization_rule_name="identity",
        bos_id=0, pad_id=1, eos_id=2, unk_id=3, minloglevel=2,
    )
    return model.getvalue()


def build_speecht5(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """SpeechT5ForTextToSpeech (hidden 32) + SpeechT5Processor, and the SpeechT5HifiGan vocoder repo.

    speaker_embedding_dim stays 512 (x-vectors), 80 mel bins, reduction factor 2, 16 kHz; the vocoder keeps the
    real 4x4x4x4 upsampling (256 samples per mel frame). The stop head is biased to never fire, so generation runs
    to maxlenratio (default 20): 10 steps = 20 frames = 0.32 s of audio per input token, deterministic, with no
    extra kwargs. `threshold` / `maxlenratio` / `minlenratio` still work as usual. The vocoder's output gain is
    calibrated on this model's own spectrogram (RMS ~0.07 instead of ~1e-8).
    """
    import torch
    from transformers import (
        SpeechT5Config,
        SpeechT5FeatureExtractor,
        SpeechT5ForTextToSpeech,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        SpeechT5Processor,
        SpeechT5Tokenizer,
    )

    tokenizer_dir = work / "spm"
    tokenizer_dir.mkdir(parents=True, exist_ok=True)
    (tokenizer_dir / "spm_char.model").write_bytes(_char_sentencepiece())
    tokenizer = SpeechT5Tokenizer(str(tokenizer_dir / "spm_char.model"), model_max_length=600)
    tokenizer.add_special_tokens({"mask_token": "<mask>"})
    tokenizer.add_tokens(["<ctc_blank>"])
    feature_extractor = SpeechT5FeatureExtractor()
    processor = SpeechT5Processor(feature_extractor=feature_extractor, tokenizer=tokenizer)

    _seed()
    config = SpeechT5Config(
        vocab_size=len(tokenizer), hidden_size=32, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=64, conv_dim=(32,) * 7,
        speech_decoder_prenet_units=32, speech_decoder_postnet_units=32, speech_decoder_postnet_layers=2,
        speaker_embedding_dim=512, num_mel_bins=80, reduction_factor=2, max_text_positions=600,
        max_speech_positions=1876,
    )
    model = SpeechT5ForTextToSpeech(config)
    with torch.no_grad():
        model.speech_decoder_postnet.prob_out.bias.fill_(-10.0)
    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(model_in_dim=80, sampling_rate=16000, upsample_initial_channel=32,
                                                    upsample_rates=[4, 4, 4, 4], upsample_kernel_sizes=[8, 8, 8, 8]))
    sample = tokenizer("Hello world.", return_tensors="pt")["input_ids"]
    speaker = torch.randn(1, 512)
    _calibrate_gain(vocoder.conv_post,
                    lambda: model.generate_speech(sample, speaker_embeddings=speaker, vocoder=vocoder))
    vocoder_id = spec.options.get("vocoder", "microsoft/speecht5_hifigan")
    return {spec.id: _save(work / "model", model, processor, feature_extractor),
            vocoder_id: _save(work / "vocoder", vocoder)}


# ---------------------------------------------------------------------------------------------------------------
# Bark
# ---------------------------------------------------------------------------------------------------------------

BARK_VOICE_PRESETS = tuple(f"v2/en_speaker_{i}" for i in range(10))
BARK_SEMANTIC_TOKENS = 40  # the tiny semantic model stops after this many tokens (0.8 s at 49.9 Hz)
BARK_TEXT_OFFSET = 10_048  # real: semantic vocabulary 10_000 (+ pad/eos 10_000, padded to 10_048), then text ids


@functools.cache
def _bark_wordpiece() -> dict[str, int]:
    """A small cased WordPiece vocabulary, the shape of bert-base-multilingual-cased's (119_547 -> ~400).

    Built by hand (not with the WordPiece trainer, whose id order changes from run to run): the specials, every
    character of CORPUS alone and as a "##" continuation, and every whole word of CORPUS.
    """
    import re

    text = " ".join(CORPUS)
    chars = sorted(set(text) - {" "})
    words = sorted(set(re.findall(r"\w+", text)) - set(chars))
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars), *words]
    return {token: i for i, token in enumerate(tokens)}


def _bark_generation_config(text_vocab_size: int) -> dict[str, Any]:
    """BarkGenerationConfig's content (real constants, text ids shifted for the small text vocabulary)."""
    text_pad = BARK_TEXT_OFFSET + text_vocab_size
    return {
        "semantic_config": {
            "eos_token_id": 10_000, "renormalize_logits": True, "max_new_tokens": 768, "do_sample": False,
            "text_encoding_offset": BARK_TEXT_OFFSET, "text_pad_token": text_pad, "semantic_infer_token": text_pad + 4,
            "semantic_vocab_size": 10_000, "max_input_semantic_length": 256, "semantic_rate_hz": 49.9,
        },
        "coarse_acoustics_config": {
            "renormalize_logits": True, "do_sample": False, "coarse_semantic_pad_token": 12_048, "coarse_rate_hz": 75,
            "n_coarse_codebooks": 2, "coarse_infer_token": 12_050, "max_coarse_input_length": 256,
            "max_coarse_history": 630, "sliding_window_len": 60,
        },
        "fine_acoustics_config": {"temperature": 1.0, "max_fine_history_length": 512, "max_fine_input_length": 1024,
                                  "n_fine_codebooks": 8},
        "sample_rate": 24_000,
        "codebook_size": 1024,
    }


def _write_bark_voice_presets(folder: Path) -> None:
    """Random but well-formed voice presets (.npy) and the speaker_embeddings_path.json that lists them."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    table: dict[str, Any] = {"repo_or_path": "."}
    for preset in BARK_VOICE_PRESETS:
        arrays = {"semantic_prompt": rng.integers(0, 10_000, 60), "coarse_prompt": rng.integers(0, 1024, (2, 90)),
                  "fine_prompt": rng.integers(0, 1024, (8, 90))}
        table[preset] = {}
        for key, array in arrays.items():
            relative = f"speaker_embeddings/{preset}_{key}.npy"
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            np.save(folder / relative, array.astype(np.int64), allow_pickle=False)
            table[preset][key] = relative
    (folder / "speaker_embeddings_path.json").write_text(json.dumps(table, indent=1))


def _steer_bark_semantic(semantic: Any, eos: int) -> None:
    """Make the semantic GPT emit EOS exactly after BARK_SEMANTIC_TOKENS tokens, random tokens before.

    Its prompt is 256 text/history positions + the infer token, so generated token k is predicted at position
    256 + k. One direction u of the residual stream is reserved: the output rows of all other tokens are made
    orthogonal to it and EOS's row points along it; position embeddings get -0.5 u before the stop position (EOS
    logit ~ -20) and 50 u from it on (EOS logit ~ +20, all others ~0).
    """
    import torch

    u = _basis(semantic.config.hidden_size)[:, 0]
    stop = 256 + BARK_SEMANTIC_TOKENS
    with torch.no_grad():
        head = semantic.lm_head.weight
        head -= torch.outer(head @ u, u)
        head[eos] = 4.0 * u
        positions = semantic.position_embeds_layer.weight
        positions[:stop] -= 0.5 * u
        positions[stop:] = 50.0 * u


def build_bark(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """BarkModel (semantic / coarse / fine GPTs with hidden 32, a tiny 24 kHz EnCodec) + BarkProcessor + presets.

    What works offline (HF_HUB_OFFLINE=1), with no extra kwargs:
        pipeline("text-to-speech", model=repo)("Hello")  -> {"audio": float32 (n,), "sampling_rate": 24000}
        processor = BarkProcessor.from_pretrained(repo); model = BarkModel.from_pretrained(repo)
        model.generate(**processor("Hello", voice_preset="v2/en_speaker_6"))  -> float32 (1, n)
    The pipeline takes a voice preset only as loaded arrays: forward_params={"history_prompt": {...}} (e.g.
    processor._load_voice_preset(name) as tensors); presets v2/en_speaker_0 .. 9 exist. do_sample etc. work.

    Real token constants (10_000 semantic tokens, 2 x 1024 coarse and 8 x 1024 fine codes); only the text
    vocabulary is small (so text_pad_token / semantic_infer_token move down with it). The semantic model is steered
    to emit its EOS after BARK_SEMANTIC_TOKENS tokens: 0.8 s of audio (19_200 samples) in ~0.2 s (a random one
    runs to max_new_tokens=768); the codec's output gain is calibrated (RMS ~0.15). The tiny stages barely look at
    their input: the audio is the same whatever the text or preset. The generation config is saved as a plain
    GenerationConfig holding the nested dicts (BarkGenerationConfig.save_pretrained crashes on `early_stopping`);
    BarkModel.generate reads those dicts.
    """
    from transformers import BarkConfig, BarkModel, BarkProcessor, BertTokenizer, EncodecConfig, GenerationConfig

    vocab = _bark_wordpiece()
    tokenizer = BertTokenizer(vocab=dict(vocab), do_lower_case=False, model_max_length=512)
    processor = BarkProcessor(tokenizer=tokenizer)
    generation = _bark_generation_config(len(vocab))
    semantic = generation["semantic_config"]
    big = spec.id == "suno/bark"
    gpt = {"hidden_size": 32, "num_heads": 2, "num_layers": 2 if big else 1, "block_size": 1024, "dropout": 0.0}
    _seed()
    config = BarkConfig(
        semantic_config={**gpt, "input_vocab_size": semantic["semantic_infer_token"] + 1,
                         "output_vocab_size": 10_048, "bias": False},
        coarse_acoustics_config={**gpt, "input_vocab_size": 12_096, "output_vocab_size": 12_096, "bias": False},
        fine_acoustics_config={**gpt, "input_vocab_size": 1056, "output_vocab_size": 1056, "bias": True,
                               "n_codes_total": 8, "n_codes_given": 1},
        # 75 Hz frames at 24 kHz; bandwidths up to 6 kbps = the 8 codebooks Bark decodes (the real codec has 32)
        codec_config=EncodecConfig(hidden_size=16, num_filters=4, num_lstm_layers=1, codebook_size=1024,
                                   target_bandwidths=[1.5, 3.0, 6.0], sampling_rate=24_000,
                                   upsampling_ratios=[8, 5, 4, 2]).to_dict(),
    )
    model = BarkModel(config)
    _steer_bark_semantic(model.semantic, semantic["eos_token_id"])
    model.generation_config = GenerationConfig(**generation)
    sample = processor("Hello world.")
    _calibrate_gain(model.codec_model.decoder.layers[-1].conv, lambda: model.generate(**sample))
    folder = _save(work / "model", model, processor)
    _write_bark_voice_presets(folder)
    return {spec.id: folder}


# ---------------------------------------------------------------------------------------------------------------
# VITS (MMS TTS)
# ---------------------------------------------------------------------------------------------------------------

# facebook/mms-tts-eng's vocab.json; its pad token (id 0, put between characters when add_blank) is "k"
MMS_ENG_VOCAB = ("k", "'", "y", "u", "h", "d", "z", "e", "s", "w", "–", "3", "c", "p", "-", "1", "j", "m", "i", " ",
                 "f", "l", "o", "0", "b", "r", "a", "4", "2", "n", "_", "x", "v", "t", "q", "5", "6", "g")
MMS_EXTRA_LETTERS = {"deu": "äöüß", "fra": "àâæçéèêëîïôœùûüÿ", "spa": "áéíñóúü"}
MMS_UROMAN = ("hin", "rus")  # the real checkpoints read romanised text: the tokenizer runs uroman first


def build_vits(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """VitsModel (hidden 16, 1 layer, real 8x8x2x2 upsampling = 256 samples per frame, 16 kHz) + VitsTokenizer.

    Character vocabularies: English's real one; the others lower-case Latin letters plus that language's accented
    letters (hin/rus: plain Latin with is_uroman=True, like the real repos). The stochastic duration predictor's
    last affine flow is set so each input token lasts ~2.7 frames (2-4; real speech: ~13 characters a second):
    output length grows with the text instead of being anything from nothing to minutes. The decoder's output
    gain is calibrated (RMS ~0.15 instead of clipped noise). Text with no character of the vocabulary (e.g. "!!!")
    crashes VitsModel, exactly as with the real checkpoints.
    """
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    language = spec.options.get("language") or spec.id.rsplit("-", 1)[-1]
    if language == "eng":
        chars = list(MMS_ENG_VOCAB)
    else:
        chars = ["_", " ", "'", "-", *"abcdefghijklmnopqrstuvwxyz", *MMS_EXTRA_LETTERS.get(language, "")]
    work.mkdir(parents=True, exist_ok=True)
    vocab_file = work / "vocab.json"
    vocab_file.write_text(json.dumps({char: i for i, char in enumerate(chars)}, ensure_ascii=False))
    tokenizer = VitsTokenizer(str(vocab_file), pad_token=chars[0], unk_token="<unk>", language=language,
                              add_blank=True, normalize=True, phonemize=False, is_uroman=language in MMS_UROMAN)
    # "<unk>" is not in vocab.json, so transformers appends it (id = len(chars)); give it an embedding row
    _seed()
    config = VitsConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=32, flow_size=16,
        upsample_initial_channel=32, upsample_rates=[8, 8, 2, 2], upsample_kernel_sizes=[16, 16, 4, 4],
        duration_predictor_num_flows=1, duration_predictor_filter_channels=16, prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1, posterior_encoder_num_wavenet_layers=1, sampling_rate=16_000,
        use_stochastic_duration_prediction=True,
    )
    model = VitsModel(config).eval()
    with torch.no_grad():  # reverse affine: log_duration = (z - translate) * exp(-log_scale) = 1.0 + 0.05 z
        affine = model.duration_predictor.flows[0]
        affine.log_scale.fill_(3.0)
        affine.translate.fill_(-1.0 * float(torch.exp(torch.tensor(3.0))))
    sample = tokenizer("hello world", return_tensors="pt")
    _calibrate_gain(model.decoder.conv_post, lambda: model(**sample))
    return {spec.id: _save(work / "model", model, tokenizer)}


def tts_forward_params(spec: ModelSpec) -> dict[str, Any]:
    """Extra kwargs a `pipeline("text-to-speech")` call on this tiny model needs (none but SpeechT5's speaker).

    SpeechT5: forward_params={"speaker_embeddings": (1, 512) x-vector} (a fixed random one here; the stop head
    never fires, so no threshold / maxlenratio is needed). Bark and VITS: nothing.
    """
    if spec.family != "speecht5":
        return {}
    import torch

    speaker = torch.randn(1, 512, generator=torch.Generator().manual_seed(SEED))
    return {"forward_params": {"speaker_embeddings": speaker}}


BUILDERS: dict[str, Builder] = {
    "whisper": build_whisper,
    "moonshine-streaming": build_moonshine_streaming,
    "ctc": build_ctc,
    "ast": build_ast,
    "wav2vec2-cls": build_wav2vec2_cls,
    "clap": build_clap,
    "speecht5": build_speecht5,
    "bark": build_bark,
    "vits": build_vits,
}
