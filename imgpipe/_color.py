"""Colour normalisation: any decoded mode and embedded ICC profile to 8-bit sRGB (or sRGB grey).

* ICC profiles that are not sRGB are converted with LittleCMS (``PIL.ImageCms``), perceptual intent.
  A profile that cannot be parsed, or does not match the image's colour space, is ignored (the pixels
  are taken as sRGB): a broken profile never fails an upload. A Pillow built without LittleCMS
  (``PIL.ImageCms`` missing: a source build without liblcms2's headers) ignores every profile the same
  way; :data:`COLOR_MANAGEMENT` says which case applies.
* CMYK without a profile uses Pillow's conversion. Pillow already undoes the Adobe (APP14) inversion
  when it decodes a CMYK JPEG, so the CMYK values seen here are the usual "0 = no ink".
* 16-bit grey (``I;16``/``I``) is scaled to 8 bits (/257), not clipped.
* Alpha (RGBA, LA, PA, palette transparency) is composited onto white.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

from PIL import Image

try:
    from PIL import ImageCms
except ImportError:  # Pillow (or pillow-simd) compiled without LittleCMS
    ImageCms = None  # type: ignore[assignment]

__all__ = ["COLOR_MANAGEMENT", "is_srgb_profile", "needs_color_work", "to_srgb"]

#: True when embedded ICC profiles are converted to sRGB; False when this Pillow has no LittleCMS
#: (``PIL.ImageCms``), and profiles are then ignored.
COLOR_MANAGEMENT: bool = ImageCms is not None

_WHITE = (255, 255, 255)
# D50-adapted sRGB colorants as stored in sRGB ICC profiles (rXYZ, gXYZ, bXYZ).
_SRGB_COLORANTS = (
    (0.4361, 0.2225, 0.0139),
    (0.3851, 0.7169, 0.0971),
    (0.1431, 0.0606, 0.7141),
)
_SRGB = ImageCms.createProfile("sRGB") if ImageCms is not None else None
_profile_verdicts: dict[bytes, bool] = {}  # sha1(profile) -> is sRGB; read-mostly, bounded below
_MAX_VERDICTS = 256
_local = threading.local()  # per-thread LittleCMS transforms (a transform's cache is not thread-safe)
_MAX_TRANSFORMS = 8


def _open_profile(icc: bytes) -> ImageCms.ImageCmsProfile | None:
    if ImageCms is None:
        return None
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):
        return None


def is_srgb_profile(icc: bytes) -> bool:
    """True when ``icc`` is (equivalent to) sRGB, or unusable (then it is ignored as if absent).

    sRGB-equivalent: an RGB display profile whose primaries are sRGB's and whose description does not
    call it linear. Camera, Windows, Apple and LittleCMS sRGB profiles all qualify, whatever their name.
    """
    key = hashlib.sha1(icc).digest()
    verdict = _profile_verdicts.get(key)
    if verdict is None:
        verdict = _judge(icc)
        if len(_profile_verdicts) >= _MAX_VERDICTS:
            _profile_verdicts.clear()
        _profile_verdicts[key] = verdict
    return verdict


def _judge(icc: bytes) -> bool:
    profile = _open_profile(icc)
    if profile is None:
        return True
    p = profile.profile
    try:
        if p.xcolor_space.strip() != "RGB":
            return False
        colorants = (p.red_colorant, p.green_colorant, p.blue_colorant)
        description = (p.profile_description or "").lower()
    except (AttributeError, ValueError, TypeError):  # pragma: no cover - lcms reports odd profiles
        return False
    if any(c is None for c in colorants) or "linear" in description:
        return False
    for got, want in zip(colorants, _SRGB_COLORANTS):
        xyz = got[0] if got is not None else None  # ((X, Y, Z), (x, y, Y))
        if xyz is None or any(abs(a - b) > 0.003 for a, b in zip(xyz, want)):
            return False
    return True


def _transform(icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    cache: OrderedDict[tuple[bytes, str, str], ImageCms.ImageCmsTransform | None] | None
    cache = getattr(_local, "transforms", None)
    if cache is None:
        cache = _local.transforms = OrderedDict()
    key = (hashlib.sha1(icc).digest(), in_mode, out_mode)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    transform: ImageCms.ImageCmsTransform | None = None
    profile = _open_profile(icc)
    if profile is not None:
        try:
            transform = ImageCms.buildTransform(
                profile, _SRGB, in_mode, out_mode, renderingIntent=ImageCms.Intent.PERCEPTUAL
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            transform = None
    cache[key] = transform
    if len(cache) > _MAX_TRANSFORMS:
        cache.popitem(last=False)
    return transform


def needs_color_work(im: Image.Image, icc: bytes | None) -> bool:
    """True unless ``im`` is already 8-bit RGB or L without alpha and with no or an sRGB profile."""
    if im.mode not in ("RGB", "L"):
        return True
    if "transparency" in im.info:
        return True
    return bool(icc) and not is_srgb_profile(icc)  # type: ignore[arg-type]


def _flatten(im: Image.Image) -> Image.Image:
    """Composite an RGBA image onto white."""
    out = Image.new("RGB", im.size, _WHITE)
    out.paste(im, mask=im.getchannel("A"))
    return out


def to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Return ``im`` as an 8-bit sRGB image of mode ``RGB`` or ``L`` (the same object when nothing to do).

    ``icc`` is the embedded profile (``im.info["icc_profile"]``), or None.
    """
    mode = im.mode
    if icc and is_srgb_profile(icc):
        icc = None
    # 1. Bring every mode to L, RGB, RGBA or CMYK (8 bits per channel).
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        im = im.convert("I").point(lambda v: v * (1 / 257) + 0.5).convert("L")
        mode = "L"
    elif mode == "F":
        im = im.point(lambda v: v * 255 + 0.5).convert("L")
        mode = "L"
    elif mode == "1":
        im, mode = im.convert("L"), "L"
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info or (im.palette is not None and im.palette.mode == "RGBA")
        target = "RGBA" if has_alpha else "RGB"
        im, mode = im.convert(target), target
    elif mode in ("LA", "La", "RGBa", "RGBX"):
        target = "RGB" if mode == "RGBX" else "RGBA"
        im, mode = im.convert(target), target
    elif mode == "L" and "transparency" in im.info:
        im, mode = im.convert("RGBA"), "RGBA"
    elif mode == "RGB" and "transparency" in im.info:
        im, mode = im.convert("RGBA"), "RGBA"
    elif mode not in ("L", "RGB", "RGBA", "CMYK"):
        im, mode = im.convert("RGB"), "RGB"  # YCbCr, LAB, HSV: Pillow's own conversion

    # 2. Colour management (the profile describes the image's colour space).
    if icc:
        in_mode = "RGB" if mode == "RGBA" else mode
        transform = _transform(icc, in_mode, "RGB")
        if transform is not None:
            if mode == "RGBA":
                alpha = im.getchannel("A")
                rgb = ImageCms.applyTransform(im.convert("RGB"), transform)
                assert rgb is not None
                rgb.putalpha(alpha)
                im = rgb
            else:
                out = ImageCms.applyTransform(im, transform)
                assert out is not None
                im, mode = out, "RGB"
    if mode == "CMYK":
        im, mode = im.convert("RGB"), "RGB"

    # 3. Alpha onto white.
    if mode == "RGBA":
        im = _flatten(im)
    return im
