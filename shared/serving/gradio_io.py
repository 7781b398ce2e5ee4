"""How Gradio makes the app's output files, cheaper where it pays (bench/results/app_overhead_phases.txt):
- pictures: Gradio encodes the arrays the handlers return as PNG (gr.Image with format="png") or WebP (galleries)
  at Pillow's default effort; with less effort it is about twice as fast for files a few per cent larger
  (Visualize's five pictures: PNG 107 → 72 ms, the same pixels; WebP 111 → 46 ms at the same quality);
- audio: before serving an output audio file Gradio runs ffprobe on it (~90 ms) to check the browser can play it;
  a wav file's header (soundfile, ~0.1 ms) answers the same question."""

from __future__ import annotations

from io import BytesIO
from typing import Any

PNG_COMPRESS_LEVEL = 3  # zlib level 0-9 (Pillow's default 6): lossless either way, files ~2 % larger
WEBP_METHOD = 2  # libwebp effort 0-6 (Pillow's default 4) at the same quality setting: files ~3 % larger
# wav sample formats browsers play: Gradio's PLAYABLE_AUDIO_CODECS for .wav, as libsndfile names them
PLAYABLE_WAV_SUBTYPES = {"PCM_16": "pcm_s16le", "PCM_24": "pcm_s24le", "FLOAT": "pcm_f32le", "PCM_U8": "pcm_u8"}


def encode_image(img: Any, format: str) -> bytes:
    """The bytes of PIL image `img` as `format` (png, webp, or whatever else Gradio encodes: then Gradio's own
    encoding), keeping the metadata Gradio keeps (PNG text info, EXIF)."""
    from gradio import processing_utils

    if format.lower() == "png":
        options = {"pnginfo": processing_utils.get_pil_metadata(img), "compress_level": PNG_COMPRESS_LEVEL}
    elif format.lower() == "webp":
        exif = processing_utils.get_pil_exif_bytes(img)
        options = {"method": WEBP_METHOD, **({"exif": exif} if exif else {})}
    else:
        return processing_utils.encode_pil_to_bytes(img, format)
    with BytesIO() as output:
        img.save(output, format, **options)
        return output.getvalue()


def wav_is_playable(path: str) -> bool | None:
    """Whether a browser plays the .wav file at `path`, read from its header as Gradio's ffprobe check would answer;
    None when it is not a .wav file libsndfile reads (then ask ffprobe)."""
    import soundfile as sf

    if not path.lower().endswith(".wav"):
        return None
    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, OSError):
        return None
    return info.format in ("WAV", "WAVEX") and info.subtype in PLAYABLE_WAV_SUBTYPES
