"""The receipt of a disputed charge, as an image for the dispute's `receipt` evidence.

Stripe takes the receipt as a file (PDF, PNG or JPEG, through the Files API). The
shop's receipt is an email, so staff would have to print one; this draws the same
facts (who paid, when, for what, the amounts, where it went, the charge) as a PNG
with Pillow, for every order the charge paid.
"""

import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from core.money import format_amount
from payments.models import Dispute

WIDTH = 1000
MARGIN = 48
LINE = 30


def receipt_lines(dispute: Dispute) -> list[str]:
    from shop.shipping import Address

    from .disputes import charged_payments_of

    charged = charged_payments_of(dispute)
    first = charged[0].order
    lines = [
        "RECEIPT",
        "",
        f"Paid on {first.created_at:%Y-%m-%d %H:%M} UTC by {first.buyer.email}",
        f"Payment {dispute.stripe_payment_intent_id or '-'}, charge {dispute.stripe_charge_id}",
        "",
    ]
    total = refunded = 0
    for payment in charged:
        order = payment.order
        lines.append(f"Order {order.public_id} from {order.seller.profile.name}")
        for item in order.items.all():
            amount = format_amount(item.line_amount, order.currency)
            lines.append(f"    {item.quantity} x {item.title}    {amount}")
        if order.fulfilled_at:
            lines.append(f"    Fulfilled on {order.fulfilled_at:%Y-%m-%d}")
        if order.tracking_number or order.carrier:
            lines.append(f"    Sent with {order.carrier or 'the carrier'} {order.tracking_number}")
        total += payment.amount_captured or payment.amount
        refunded += payment.amount_refunded
        lines.append("")
    lines.append(f"Total paid: {format_amount(total, first.currency)}")
    if refunded:
        lines.append(f"Refunded since: {format_amount(refunded, first.currency)}")
    address = Address.of_order(first)
    if address:
        lines += ["", "Shipped to:", *(f"    {line}" for line in address.lines())]
    return lines


def receipt_png(dispute: Dispute) -> bytes:
    """The receipt drawn as a PNG (black on white, one line per fact)."""
    # Long titles and addresses wrap rather than run off the page.
    lines = [
        wrapped
        for line in receipt_lines(dispute)
        for wrapped in (textwrap.wrap(line, 80, subsequent_indent="        ") or [""])
    ]
    font = ImageFont.load_default(size=20)
    image = Image.new("RGB", (WIDTH, 2 * MARGIN + LINE * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for number, text in enumerate(lines):
        draw.text((MARGIN, MARGIN + number * LINE), text, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
