"""POST /v1/files takes exactly what Stripe takes: one file part named `file`."""

import pytest
import stripe

from tests.sandbox.helpers import PNG, file_like


def test_a_name_and_file_tuple_is_refused_as_stripe_refuses_it(client):
    """stripe-python sends `(name, file)` as a text part `file[0]` and a file part
    `file[1]` named "blob": Stripe finds no file part named `file`."""
    with pytest.raises(stripe.InvalidRequestError, match="one multipart/form-data file part"):
        client.v1.files.create(
            params={"purpose": "identity_document", "file": ("id.png", file_like("x", PNG))}
        )


def test_one_file_part_named_file_is_taken_with_its_filename(client):
    upload = client.v1.files.create(
        params={"purpose": "identity_document", "file": file_like("passport.png", PNG)}
    )

    assert (upload.filename, upload.type) == ("passport.png", "png")
