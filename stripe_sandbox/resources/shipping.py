"""`shipping` on PaymentIntents (create, update, confirm): checked as Stripe does.

The published parameter types require only `shipping[name]` and
`shipping[address]`; Stripe itself also refuses an address without `line1`
("Missing required param: shipping[address][line1].") and a blank name, and takes
the country only as a two-letter code. The intent echoes the shipping back with
every address field present (null when not given), as Stripe's objects do.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import invalid_request, missing_param

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def checked(shipping: Any) -> dict[str, Any] | None:
    """The intent's `shipping` for a request's value: None for none (or "", which
    clears it on update), else the checked object in Stripe's shape."""
    if not shipping:
        return None
    if not str(shipping.get("name") or "").strip():
        raise missing_param("shipping[name]")
    address = shipping.get("address") or {}
    if not str(address.get("line1") or "").strip():
        raise missing_param("shipping[address][line1]")
    country = address.get("country")
    if country and not _COUNTRY.match(country):
        raise invalid_request(
            f"Country '{country}' is unknown. Try using a 2-character alphanumeric country "
            "code instead, such as 'US', 'EG', or 'GB'.",
            param="shipping[address][country]",
        )
    return {
        "address": {key: address.get(key) or None for key in ADDRESS_FIELDS},
        "carrier": shipping.get("carrier") or None,
        "name": shipping["name"],
        "phone": shipping.get("phone") or None,
        "tracking_number": shipping.get("tracking_number") or None,
    }
