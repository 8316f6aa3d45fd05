"""Files a form accepted, kept across a re-shown form so the user need not choose them again.

Browsers never re-fill a file input: when the onboarding form came back with an error
elsewhere (say, the date of birth), both identity documents had to be chosen again. A
document that passed its own checks is stored (default storage, under kept-uploads/)
and remembered in the session; the next submission without a new file uses it.
"""

import uuid
from datetime import timedelta

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import get_valid_filename

SESSION_KEY = "kept_uploads"


def _entries(request, form_key: str) -> dict[str, dict]:
    return dict(request.session.get(SESSION_KEY, {}).get(form_key, {}))


def _save_entries(request, form_key: str, entries: dict[str, dict]) -> None:
    kept = dict(request.session.get(SESSION_KEY, {}))
    if entries:
        kept[form_key] = entries
    else:
        kept.pop(form_key, None)
    request.session[SESSION_KEY] = kept


def kept_names(request, form_key: str) -> dict[str, str]:
    """Field name → the kept file's original name (for the form to show)."""
    return {
        field: entry["name"]
        for field, entry in _entries(request, form_key).items()
        if default_storage.exists(entry["path"])
    }


def files_with_kept(request, form_key: str, field_names) -> dict:
    """request.FILES, completed with the kept file of every field the user left empty."""
    files = request.FILES.copy()
    for field, entry in _entries(request, form_key).items():
        if field in field_names and field not in files and default_storage.exists(entry["path"]):
            files[field] = File(default_storage.open(entry["path"], "rb"), name=entry["name"])
    return files


def keep_valid(request, form_key: str, form, field_names) -> None:
    """Store each newly chosen file whose own field passed, after the form failed."""
    entries = _entries(request, form_key)
    user_part = request.user.pk or "anonymous"
    for field in field_names:
        upload = request.FILES.get(field)
        if upload is None or field in form.errors:
            continue
        upload.seek(0)
        path = default_storage.save(
            f"kept-uploads/{user_part}/{uuid.uuid4().hex}-{get_valid_filename(upload.name)}",
            upload,
        )
        if field in entries:
            default_storage.delete(entries[field]["path"])
        entries[field] = {"path": path, "name": upload.name}
        upload.seek(0)
    _save_entries(request, form_key, entries)


def discard(request, form_key: str) -> None:
    """Forget and delete the kept files (the form went through)."""
    for entry in _entries(request, form_key).values():
        default_storage.delete(entry["path"])
    _save_entries(request, form_key, {})


KEPT_FOR = timedelta(hours=24)


def kept_uploads_sweep(*, now=None) -> int:
    """Delete kept files older than KEPT_FOR: identity documents of a form that was
    never sent again must not stay on disk. Returns how many were deleted."""
    now = now or timezone.now()
    deleted = 0
    if not default_storage.exists("kept-uploads"):
        return 0
    users, _ = default_storage.listdir("kept-uploads")
    for user_part in users:
        _, files = default_storage.listdir(f"kept-uploads/{user_part}")
        for name in files:
            path = f"kept-uploads/{user_part}/{name}"
            if now - default_storage.get_modified_time(path) > KEPT_FOR:
                default_storage.delete(path)
                deleted += 1
    return deleted
