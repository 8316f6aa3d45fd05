"""Product photos and shop logos: checked by decoding them, then re-encoded.

A file is an image when Pillow can open and verify it as one of the formats we
take, whatever its name or declared type says. What we store is never the upload
itself: the decoded pixels, turned upright (EXIF orientation), flattened to RGB and
saved afresh as JPEG, which leaves EXIF (camera, GPS position), comments and any
payload hidden in the file behind. Thumbnails are made here, once, at upload time,
so pages only ever link to files.
"""

import io
import warnings
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps, UnidentifiedImageError

# The decoders Pillow may use; nothing else is even tried. (Phones' multi-picture
# JPEGs come out of the JPEG decoder as "MPO" images, and are taken too.)
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
# Pixels, not bytes: a small file can declare a huge canvas (a "decompression bomb").
# Counted as decoded: a JPEG is decoded at a reduced scale first (`_open`), so a
# phone's 48-megapixel photo is taken; a PNG that large (150 MB of memory in the
# request for a 40-megapixel one) is not.
MAX_PIXELS = 25_000_000
PHOTO_MAX_SIDE = 2000
THUMBNAIL_SIZE = (480, 360)  # 4:3, cropped to fill: a grid of cards lines up
LOGO_MAX_SIDE = 320
JPEG_QUALITY = 85

NOT_AN_IMAGE = "This file is not a JPEG, PNG, WebP or GIF image. Choose a photo."


class ImageRejected(ValueError):
    """An upload we will not store; the message is fit to show next to the field."""


@dataclass(frozen=True)
class Encoded:
    content: bytes
    width: int
    height: int


def _size_check(upload: IO[bytes]) -> None:
    limit = settings.PRODUCT_PHOTO_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is None:
        size = upload.seek(0, io.SEEK_END)
    if size > limit:
        raise ImageRejected(f"Images must be {filesizeformat(limit)} or smaller.")


def _open(upload: IO[bytes]) -> Image.Image:
    """The upload decoded, or ImageRejected. Verified first: `verify` walks the whole
    file's structure, which `open` alone (a header read) does not."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns about a canvas somewhat above its own limit: refuse it.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload, formats=FORMATS) as probe:
                probe.verify()
            upload.seek(0)
            image = Image.open(upload, formats=FORMATS)
            if image.format in ("JPEG", "MPO"):
                # Decode at the smallest scale (1/2, 1/4, 1/8) still at least the size
                # we keep: a quarter or a sixteenth of the memory for a camera's photo.
                image.draft("RGB", (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageRejected("This image has too many pixels. Choose a smaller one.")
            image.load()
    except ImageRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(NOT_AN_IMAGE) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageRejected("This image is damaged or incomplete. Choose another file.") from None
    finally:
        upload.seek(0)
    return image


def _flattened(image: Image.Image) -> Image.Image:
    """Upright RGB pixels: transparency goes onto white (JPEG has none)."""
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image) -> Encoded:
    buffer = io.BytesIO()
    # No exif= or icc_profile=: nothing of the original file's metadata is written.
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return Encoded(buffer.getvalue(), image.width, image.height)


def photo_encode(upload: IO[bytes]) -> tuple[Encoded, Encoded]:
    """A product photo and its thumbnail, re-encoded (raises ImageRejected)."""
    _size_check(upload)
    image = _flattened(_open(upload))
    thumbnail = ImageOps.fit(image, THUMBNAIL_SIZE, method=Image.Resampling.LANCZOS)
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    return _jpeg(image), _jpeg(thumbnail)


def logo_encode(upload: IO[bytes]) -> Encoded:
    """A shop logo, at most LOGO_MAX_SIDE on its longer side (raises ImageRejected)."""
    _size_check(upload)
    image = _flattened(_open(upload))
    image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE), Image.Resampling.LANCZOS)
    return _jpeg(image)
