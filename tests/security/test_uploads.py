"""Identity documents are checked by content; oversized bodies are refused unread;
documents that passed survive a form error."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory

from core.middleware import RequestSizeLimitMiddleware
from tests.accounts.test_connect_views import custom_form, gw  # noqa: F401 - fixture
from tests.factories import PDF_BYTES, image_bytes

pytestmark = pytest.mark.django_db

ONBOARDING = "/accounts/onboarding/"


@pytest.fixture
def custom(settings, client, contractor):
    settings.CONNECT_ONBOARDING = "custom"
    client.force_login(contractor)
    return client


def _accepted(gw):  # noqa: F811
    gw.file_upload.side_effect = [{"id": "file_front"}, {"id": "file_extra"}]
    gw.account_update_custom.return_value = {
        "id": "acct_new",
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": True,
    }


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("id.png", b"<html><script>alert(1)</script></html>", "not a JPEG, PNG or PDF"),
        ("id.png", PDF_BYTES, "is a PDF but its name ends in “.png”"),
        ("id.jpg", image_bytes("PNG"), "is a PNG but its name ends in “.jpg”"),
        ("id.png", image_bytes("PNG")[:40], "damaged or incomplete"),
        ("id.pdf", b"MZ\x90\x00 an executable", "not a JPEG, PNG or PDF"),
    ],
)
def test_a_document_that_is_not_what_it_claims_is_refused_and_nothing_is_sent(
    custom,
    gw,  # noqa: F811
    name,
    content,
    message,
):
    upload = SimpleUploadedFile(name, content, "image/png")

    response = custom.post(ONBOARDING, custom_form(document=upload))

    assert response.status_code == 200
    assert message in response.context["form"].errors["document"][0]
    gw.file_upload.assert_not_called()
    gw.account_update_custom.assert_not_called()


def test_real_jpeg_png_and_pdf_documents_are_sent(custom, gw):  # noqa: F811
    _accepted(gw)
    jpeg = SimpleUploadedFile("passport.jpeg", image_bytes("JPEG"), "image/jpeg")

    response = custom.post(ONBOARDING, custom_form(document=jpeg))

    assert response.status_code == 302
    assert [c.kwargs["filename"] for c in gw.file_upload.call_args_list] == [
        "passport.jpeg",
        "bill.pdf",
    ]


def test_a_body_over_the_limit_is_refused_before_it_is_read(settings):
    settings.MAX_REQUEST_BYTES = 21 * 1024 * 1024

    class Unreadable(io.RawIOBase):
        def read(self, *args):
            raise AssertionError("the body was read")

    request = RequestFactory().post(ONBOARDING, data=b"", content_type="multipart/form-data")
    request.META["CONTENT_LENGTH"] = str(40 * 1024 * 1024)
    request.META["wsgi.input"] = Unreadable()
    middleware = RequestSizeLimitMiddleware(lambda r: HttpResponse(r.POST))

    response = middleware(request)

    assert response.status_code == 413
    assert "at most 21 MB" in response.content.decode()


def test_an_oversized_api_request_gets_the_api_error_format(settings, client):
    settings.MAX_REQUEST_BYTES = 1000

    response = client.post("/api/orders/", data="x" * 2000, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_documents_that_passed_are_kept_when_the_form_comes_back(custom, gw):  # noqa: F811
    _accepted(gw)
    front = image_bytes("PNG", (12, 12))

    first = custom.post(
        ONBOARDING,
        custom_form(
            dob="2020-01-01",  # too young: the form comes back
            document=SimpleUploadedFile("passport.png", front, "image/png"),
        ),
    )
    page = first.content.decode()
    assert first.status_code == 200
    assert "Kept from your last try: <strong>passport.png</strong>" in page
    assert "Kept from your last try: <strong>bill.pdf</strong>" in page
    assert 'required id="id_document"' not in page

    # The corrected form, sent without choosing the files again.
    second = custom.post(ONBOARDING, custom_form(document=None, additional_document=None))

    assert second.status_code == 302
    sent = [c.kwargs for c in gw.file_upload.call_args_list]
    assert [s["filename"] for s in sent] == ["passport.png", "bill.pdf"]
    assert custom.session.get("kept_uploads", {}) == {}
    _, files = (
        default_storage.listdir("kept-uploads/")
        if default_storage.exists("kept-uploads/")
        else ([], [])
    )
    assert files == []


def test_a_kept_file_name_is_shown_escaped(custom, gw):  # noqa: F811
    evil = SimpleUploadedFile("<img src=x onerror=alert(1)>.png", image_bytes(), "image/png")

    page = custom.post(ONBOARDING, custom_form(dob="2020-01-01", document=evil)).content.decode()

    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page


def test_kept_documents_of_an_abandoned_form_are_deleted_after_a_day(custom, gw):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from accounts.kept_uploads import kept_uploads_sweep

    custom.post(ONBOARDING, custom_form(dob="2020-01-01"))  # two documents kept
    users, _ = default_storage.listdir("kept-uploads")
    _, files = default_storage.listdir(f"kept-uploads/{users[0]}")
    assert len(files) == 2

    assert kept_uploads_sweep() == 0  # fresh: kept
    assert kept_uploads_sweep(now=timezone.now() + timedelta(hours=25)) == 2
    assert default_storage.listdir(f"kept-uploads/{users[0]}")[1] == []
