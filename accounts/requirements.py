"""Stripe's requirement codes and disabled reasons in words a contractor understands.

No page, email or notification shows a raw code ("individual.dob.day",
"requirements.past_due"): codes we know have a label; others are put into words from
their parts ("company.address.state" → "Your company's address").
"""

import re

LABELS = {
    "external_account": "Add a bank account for payouts",
    "tos_acceptance.date": "Accept Stripe's terms of service",
    "tos_acceptance.ip": "Accept Stripe's terms of service",
    "individual.verification.document": "Upload an identity document",
    "individual.verification.additional_document": "Upload an additional document",
    "individual.dob.day": "Date of birth",
    "individual.dob.month": "Date of birth",
    "individual.dob.year": "Date of birth",
    "individual.first_name": "Your first name",
    "individual.last_name": "Your last name",
    "individual.address.line1": "Your address",
    "individual.address.city": "Your address",
    "individual.address.postal_code": "Your address",
    "individual.address.state": "Your address",
    "relationship.representative": "Your company's representative",
    "individual.email": "Your email address",
    "individual.phone": "Your phone number",
    "individual.id_number": "Your ID number",
    "individual.ssn_last_4": "The last 4 digits of your SSN",
    "business_profile.url": "Your business website",
    "business_profile.mcc": "Your business category",
    "business_profile.product_description": "A description of what you sell",
    "business_profile.support_phone": "Your customer support phone number",
    "business_type": "Your business type",
    "settings.payments.statement_descriptor": "The name shown on customers' card statements",
}

# Whose detail a code asks for: its first part ("person_1AbC…" is one of the people
# linked to a company account).
OWNERS = {
    "individual": "Your",
    "company": "Your company's",
    "representative": "Your company representative's",
    "person": "A company owner's or director's",
    "business_profile": "Your business's",
}

# What is asked for: the rest of the code, most specific first.
FIELDS = [
    ("verification.additional_document", "additional identity document"),
    ("verification.document", "identity document"),
    ("verification.proof_of_liveness", "identity check (a selfie)"),
    ("verification", "identity verification"),
    ("address", "address"),
    ("dob", "date of birth"),
    ("first_name", "first name"),
    ("last_name", "last name"),
    ("id_number", "ID number"),
    ("ssn_last_4", "last 4 digits of the SSN"),
    ("tax_id", "tax ID"),
    ("phone", "phone number"),
    ("email", "email address"),
    ("relationship", "role in the company"),
    ("political_exposure", "political exposure declaration"),
    ("owners_provided", "list of owners"),
    ("directors_provided", "list of directors"),
    ("executives_provided", "list of executives"),
    ("name", "name"),
    ("url", "website"),
]

DISABLED_REASONS = {
    "requirements.past_due": "Stripe is waiting for details that are now overdue",
    "requirements.pending_verification": "Stripe is checking the details you sent",
    "action_required.requested_capabilities": "Stripe needs you to finish setting up payments",
    "under_review": "Stripe is reviewing your account",
    "listed": "Stripe is reviewing your account",
    "platform_paused": "The marketplace has paused your account; contact us",
    "rejected.fraud": "Stripe has closed your account",
    "rejected.incomplete_verification": "Stripe has closed your account: verification "
    "was not completed",
    "rejected.listed": "Stripe has closed your account",
    "rejected.terms_of_service": "Stripe has closed your account",
    "rejected.other": "Stripe has closed your account",
    "rejected.platform_fraud": "The marketplace has closed your account; contact us",
    "rejected.platform_terms_of_service": "The marketplace has closed your account; contact us",
    "rejected.platform_other": "The marketplace has closed your account; contact us",
    "other": "Stripe has restricted your account",
}


def _humanise(text: str) -> str:
    return re.sub(r"[._]+", " ", text).strip()


def requirement_label(code: str) -> str:
    """One code in words: a known label, else its owner and field put into words."""
    if code in LABELS:
        return LABELS[code]
    owner_code, _, field = code.partition(".")
    owner = OWNERS.get("person" if owner_code.startswith("person_") else owner_code)
    if owner is None:  # not about a person or the company: put the whole code into words
        return _humanise(code).capitalize() or "Details Stripe asks for"
    for prefix, words in FIELDS:
        if field == prefix or field.startswith(prefix + "."):
            return f"{owner} {words}"
    return f"{owner} {_humanise(field) or 'details'}"


def requirement_labels(codes: list[str] | None) -> list[str]:
    """Readable, de-duplicated labels for a list of Stripe requirement codes."""
    labels: list[str] = []
    for code in codes or []:
        label = requirement_label(code)
        if label not in labels:
            labels.append(label)
    return labels


def disabled_reason_label(reason: str | None) -> str:
    """Why Stripe disabled an account, in words ("" when it is not disabled)."""
    if not reason:
        return ""
    if reason in DISABLED_REASONS:
        return DISABLED_REASONS[reason]
    if reason.startswith("rejected"):
        return "Stripe has closed your account"
    return "Stripe has restricted your account"
