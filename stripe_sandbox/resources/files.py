"""File uploads (multipart ``POST /v1/files``), e.g. identity documents."""

from __future__ import annotations

from typing import Any

import stripe.params as sp

from .. import ids
from ..errors import invalid_request
from ..sandbox import Ctx
from ..store import Obj
from .common import Endpoint, fetch, list_where

MAX_SIZE = 16 * 1024 * 1024
DISPUTE_EVIDENCE_MAX_SIZE = 5 * 1024 * 1024
MAGIC = ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpg"), (b"%PDF", "pdf"), (b"GIF8", "gif"))
EXTENSIONS = {
    "png": "png",
    "jpg": "jpg",
    "jpeg": "jpg",
    "pdf": "pdf",
    "gif": "gif",
    "csv": "csv",
    "txt": "txt",
}
# The types a purpose accepts. Identity documents: "JPG, PNG, or PDF" (stripe-python's
# AccountUpdateParams…VerificationDocument), so not GIF, whatever the file's name.
ACCEPTED_TYPES = {
    "identity_document": ("jpg", "png", "pdf"),
    "additional_verification": ("jpg", "png", "pdf"),
    "business_logo": ("jpg", "png", "pdf", "gif"),
    "business_icon": ("jpg", "png", "pdf", "gif"),
}


def _file_type(filename: str, data: bytes) -> str | None:
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return EXTENSIONS.get(extension)


def create(ctx: Ctx, params: dict[str, Any]) -> Obj:
    upload = params.get("_upload")
    if upload is None:
        raise invalid_request(
            "Missing required param: file.", param="file", code="parameter_missing"
        )
    filename, data = upload
    if len(data) > MAX_SIZE:
        raise invalid_request(
            f"File size {len(data)} exceeds the maximum of {MAX_SIZE} bytes.", param="file"
        )
    if not data:
        raise invalid_request("The file is empty.", param="file")
    file_type = _file_type(filename, data)
    purpose = params["purpose"]
    accepted = ACCEPTED_TYPES.get(purpose)
    if accepted and file_type not in accepted:
        raise invalid_request(
            f"Invalid file: files with purpose {purpose} must be one of the following types: "
            f"{', '.join(accepted)}.",
            param="file",
        )
    if purpose == "dispute_evidence":
        _check_dispute_evidence(file_type, len(data))
    file_id = ids.new_id("file")
    obj: Obj = {
        "id": file_id,
        "object": "file",
        "created": ctx.now(),
        "expires_at": None,
        "filename": filename or file_id,
        "links": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/file_links?file={file_id}",
        },
        "purpose": purpose,
        "size": len(data),
        "title": None,
        "type": file_type,
        "url": f"{ctx.sandbox.config.base_url}/v1/files/{file_id}/contents",
    }
    ctx.store.put_blob(file_id, data)
    return ctx.store.add(obj, ctx.account)


def _check_dispute_evidence(file_type: str | None, size: int) -> None:
    """Stripe's file upload guide: dispute evidence is PDF, JPEG or PNG, at most 5 MB."""
    if file_type not in ("pdf", "jpg", "png"):
        raise invalid_request(
            "Invalid file: files with purpose dispute_evidence must be one of the following "
            "types: jpg, png, pdf.",
            param="file",
        )
    if size > DISPUTE_EVIDENCE_MAX_SIZE:
        raise invalid_request(
            f"File size {size} exceeds the maximum of {DISPUTE_EVIDENCE_MAX_SIZE} bytes for "
            "purpose dispute_evidence.",
            param="file",
        )


def retrieve(ctx: Ctx, params: dict[str, Any], id: str) -> Obj:
    return fetch(ctx, "file", id)


def list_all(ctx: Ctx, params: dict[str, Any]) -> Obj:
    return list_where(ctx, "file", "/v1/files", params, ("purpose",))


def contents(ctx: Ctx, file_id: str) -> tuple[bytes, str]:
    """Raw bytes and media type of an upload (``GET /v1/files/{id}/contents``)."""
    obj = fetch(ctx, "file", file_id)
    media = {
        "png": "image/png",
        "jpg": "image/jpeg",
        "pdf": "application/pdf",
        "gif": "image/gif",
    }.get(obj["type"] or "", "application/octet-stream")
    return ctx.store.blobs.get(file_id, b""), media


ROUTES = [
    Endpoint("POST", "/v1/files", create, sp.FileCreateParams, multipart=True),
    Endpoint("GET", "/v1/files", list_all, sp.FileListParams),
    Endpoint("GET", "/v1/files/{id}", retrieve, sp.FileRetrieveParams),
]
