"""Identity documents: what a file really is, read from its bytes, not its name.

Stripe takes JPEG, PNG and PDF identity documents up to 10 MB. An HTML page named
`.png` was sent to Stripe when only the extension was checked; now the content must be
one of those kinds, an image must decode (Pillow), and the name must agree with it.
"""

from typing import IO

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # Stripe's limit for identity documents
EXTENSIONS = {"jpeg": ("jpg", "jpeg"), "png": ("png",), "pdf": ("pdf",)}
ACCEPT = ".jpg,.jpeg,.png,.pdf"


def _kind_from_header(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def _image_decodes(file: IO[bytes], kind: str) -> bool:
    try:
        with Image.open(file) as image:
            image.verify()  # reads the whole structure, not only the header
            return (image.format or "").lower() == kind
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    finally:
        file.seek(0)


def document_check(upload) -> str:
    """The document's kind ("jpeg", "png" or "pdf"), or a ValidationError saying why not."""
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError("Documents must be 10 MB or smaller.", code="too_large")
    upload.seek(0)
    kind = _kind_from_header(upload.read(8))
    upload.seek(0)
    if kind is None:
        raise ValidationError(
            "This file is not a JPEG, PNG or PDF document. Upload a photo or scan of it.",
            code="invalid_type",
        )
    if kind != "pdf" and not _image_decodes(upload, kind):
        raise ValidationError(
            "This image is damaged or incomplete. Upload it again or try another file.",
            code="invalid_image",
        )
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if extension not in EXTENSIONS[kind]:
        raise ValidationError(
            f"This file is a {kind.upper()} but its name ends in “.{extension}”: "
            "rename it or choose the right file.",
            code="name_mismatch",
        )
    return kind


def validate_document(upload) -> None:
    """`document_check` as a form field validator."""
    document_check(upload)
