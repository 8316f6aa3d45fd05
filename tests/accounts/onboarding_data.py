"""What the custom onboarding form is filled in with in tests: a US individual, as
Stripe asks for one with card_payments and transfers."""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import PDF_BYTES, image_bytes

# What Stripe asks of a new US individual with card_payments and transfers.
US_DUE = [
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "individual.address.city",
    "individual.address.line1",
    "individual.address.postal_code",
    "individual.address.state",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.email",
    "individual.first_name",
    "individual.last_name",
    "individual.phone",
    "individual.ssn_last_4",
    "individual.verification.additional_document",
    "individual.verification.document",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]

PERSON = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "dob": "1990-12-10",
    "email": "ada@example.com",
    "phone": "+14155550100",
    "ssn_last_4": "0000",
    "address_line1": "1 Main St",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
}
BUSINESS = {"mcc": "5734", "url": "https://ada.example.com", "product_description": ""}
BANK = {
    "account_holder_name": "Ada Lovelace",
    "routing_number": "110000000",
    "account_number": "000123456789",
}


def documents() -> dict:
    return {
        "document": SimpleUploadedFile("id.png", image_bytes("PNG"), "image/png"),
        "additional_document": SimpleUploadedFile("bill.pdf", PDF_BYTES, "application/pdf"),
    }


def everything() -> dict:
    return {**PERSON, **BUSINESS, **BANK, **documents(), "tos": "on"}
