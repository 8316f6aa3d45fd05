"""Stripe's requirement codes in words a contractor understands."""

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
    "individual.email": "Your email address",
    "individual.phone": "Your phone number",
    "individual.id_number": "Your ID number",
    "individual.ssn_last_4": "The last 4 digits of your SSN",
    "business_profile.url": "Your business website",
    "business_profile.mcc": "Your business category",
    "business_type": "Your business type",
}


def requirement_labels(codes: list[str] | None) -> list[str]:
    """Readable, de-duplicated labels for a list of Stripe requirement codes."""
    labels: list[str] = []
    for code in codes or []:
        label = LABELS.get(code) or code.replace("_", " ").replace(".", " › ").capitalize()
        if label not in labels:
            labels.append(label)
    return labels
