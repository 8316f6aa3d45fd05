"""The buyer's cart, kept in the session as {str(product_id): quantity}.

Only product ids and quantities live in the session: prices, titles and whether a
product can still be bought are read from the database every time the cart is
shown or checked out, so nothing the browser sends can change an amount.

The session also remembers the checkout the cart made for each currency
({currency: checkout id}), so that Checkout returns to the same checkout until the
cart changes (shop/cart_checkout.py). The cart is not emptied by checking out:
the items leave it once their checkout is paid.
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .models import Product
from .selectors import product_is_buyable, products_for_cart

SESSION_KEY = "cart"
CHECKOUTS_KEY = "cart_checkouts"
MIN_QUANTITY = 1
MAX_QUANTITY = 99
# Bounds the session's size and the IN (...) of the query that loads the lines.
MAX_LINES = 100

QUANTITY_MESSAGE = f"Quantity must be between {MIN_QUANTITY} and {MAX_QUANTITY}."
UNBUYABLE_MESSAGE = "This product cannot be bought right now."


def stock_message(title: str, left: int) -> str:
    """What the buyer reads when they want more of a product than is left."""
    if left <= 0:
        return f"“{title}” is sold out."
    return f"Only {left} of “{title}” left."


_DIGITS = re.compile(r"[0-9]{1,4}")
_PRODUCT_ID = re.compile(r"[1-9][0-9]{0,18}")


class CartError(ValueError):
    """A cart change that was refused; the message is fit to show to the buyer."""


def parse_quantity(value: Any, *, allow_zero: bool = False) -> int:
    """Read a quantity typed in a form (or given as an int) as an int in 1..99.

    With `allow_zero`, 0 is accepted too (it means "remove"). Anything else —
    floats, booleans, signs, words, huge numbers — raises CartError.
    """
    if isinstance(value, bool):
        raise CartError(QUANTITY_MESSAGE)
    if isinstance(value, str):
        text = value.strip()
        if not _DIGITS.fullmatch(text):
            raise CartError(QUANTITY_MESSAGE)
        value = int(text)
    if not isinstance(value, int):
        raise CartError(QUANTITY_MESSAGE)
    low = 0 if allow_zero else MIN_QUANTITY
    if not low <= value <= MAX_QUANTITY:
        raise CartError(QUANTITY_MESSAGE)
    return value


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int
    line_amount: int  # price_amount × quantity, minor units of product.currency
    # Set by Cart.stock_check: why this quantity cannot be bought now ("" when it can).
    stock_problem: str = ""

    @property
    def currency(self) -> str:
        return self.product.currency


@dataclass
class CurrencyGroup:
    """The lines in one currency: they are paid together, in one checkout."""

    currency: str
    lines: list[CartLine] = field(default_factory=list)
    total: int = 0
    checkout_id: uuid.UUID | None = None  # the open checkout the cart made for them

    @property
    def blocked(self) -> bool:
        """Some line asks for more than is left: Checkout would refuse."""
        return any(line.stock_problem for line in self.lines)


@dataclass
class CartGroup:
    """The lines of one contractor, with a subtotal per currency."""

    seller: Any
    lines: list[CartLine] = field(default_factory=list)
    subtotals: dict[str, int] = field(default_factory=dict)


def _sum_by_currency(lines: list[CartLine]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, 0) + line.line_amount
    return dict(sorted(totals.items()))


class Cart:
    """The session's cart. Changes are saved in the session at once."""

    def __init__(self, session: Any) -> None:
        self.session = session
        # Messages for the buyer about lines dropped by the last `lines()` call.
        self.notices: list[str] = []
        self._lines: list[CartLine] | None = None

    # -- reading the session ------------------------------------------------------------

    def _items(self) -> dict[str, int]:
        """The stored cart, ignoring anything malformed (a tampered or outdated session)."""
        raw = self.session.get(SESSION_KEY)
        if not isinstance(raw, Mapping):
            return {}
        items: dict[str, int] = {}
        for key, quantity in raw.items():
            if (
                isinstance(key, str)
                and _PRODUCT_ID.fullmatch(key)
                and type(quantity) is int
                and MIN_QUANTITY <= quantity <= MAX_QUANTITY
            ):
                items[key] = quantity
            if len(items) >= MAX_LINES:
                break
        return items

    def _save(self, items: dict[str, int]) -> None:
        # A new dict each time, so the session notices the change.
        self.session[SESSION_KEY] = dict(items)
        self.session.modified = True
        self._lines = None

    # -- changes --------------------------------------------------------------------------

    def add(self, product: Product, quantity: Any = 1, *, held: int = 0) -> int:
        """Add `quantity` of `product` (a buyable product) and return the line's new quantity.

        `held`: how many of it the cart's own open checkout took off the stock already
        (they are the buyer's to keep buying).
        """
        quantity = parse_quantity(quantity)
        if not product_is_buyable(product):
            raise CartError(UNBUYABLE_MESSAGE)
        items = self._items()
        key = str(product.pk)
        if key not in items and len(items) >= MAX_LINES:
            raise CartError(f"Your cart is full: at most {MAX_LINES} different products.")
        new_quantity = items.get(key, 0) + quantity
        if new_quantity > MAX_QUANTITY:
            raise CartError(
                f"{QUANTITY_MESSAGE} You already have {items[key]} of this in your cart."
            )
        if product.stock is not None and new_quantity > product.stock + held:
            message = stock_message(product.title, product.stock + held)
            if key in items:
                message += f" You already have {items[key]} in your cart."
            raise CartError(message)
        items[key] = new_quantity
        self._save(items)
        return new_quantity

    def set_quantity(self, product_id: int, quantity: Any) -> None:
        """Set the quantity of a product already in the cart; 0 removes it."""
        quantity = parse_quantity(quantity, allow_zero=True)
        items = self._items()
        key = str(product_id)
        if key not in items:
            raise CartError("This product is no longer in your cart.")
        if quantity == 0:
            del items[key]
        else:
            items[key] = quantity
        self._save(items)

    def remove(self, product_id: int) -> bool:
        """Remove a product; returns whether it was in the cart."""
        items = self._items()
        if items.pop(str(product_id), None) is None:
            return False
        self._save(items)
        return True

    def clear(self) -> None:
        self._save({})

    def take_off(self, quantities: Mapping[int, int]) -> bool:
        """Take bought quantities ({product id: n}) off the cart; returns whether any were."""
        items = self._items()
        changed = False
        for product_id, bought in quantities.items():
            key = str(product_id)
            if key in items:
                left = items[key] - bought
                if left > 0:
                    items[key] = left
                else:
                    del items[key]
                changed = True
        if changed:
            self._save(items)
        return changed

    # -- the checkouts the cart made ------------------------------------------------------

    def checkouts(self) -> dict[str, uuid.UUID]:
        """{currency: checkout id} of the checkouts this cart made and that are not
        settled yet; anything malformed in the session is ignored."""
        raw = self.session.get(CHECKOUTS_KEY)
        if not isinstance(raw, Mapping):
            return {}
        found: dict[str, uuid.UUID] = {}
        for currency, value in raw.items():
            try:
                found[str(currency)] = uuid.UUID(str(value))
            except ValueError:
                continue
        return found

    def checkout_for(self, currency: str) -> uuid.UUID | None:
        return self.checkouts().get(currency)

    def checkout_link(self, currency: str, checkout_id: uuid.UUID) -> None:
        """Remember that Checkout of this currency's lines made `checkout_id`."""
        links = {c: str(pk) for c, pk in self.checkouts().items()}
        links[currency] = str(checkout_id)
        self.session[CHECKOUTS_KEY] = links
        self.session.modified = True

    def checkout_forget(self, checkout_id: uuid.UUID) -> None:
        links = {c: str(pk) for c, pk in self.checkouts().items() if pk != checkout_id}
        self.session[CHECKOUTS_KEY] = links
        self.session.modified = True

    # -- reading ----------------------------------------------------------------------------

    def quantity(self, product_id: int) -> int:
        """How many of this product are in the cart (no query)."""
        return self._items().get(str(product_id), 0)

    def count(self) -> int:
        """Number of items (sum of quantities), read from the session only."""
        return sum(self._items().values())

    def __len__(self) -> int:
        return len(self._items())

    def lines(self) -> list[CartLine]:
        """The cart's lines with today's prices, loaded in one query.

        Products that were deleted or can no longer be bought are dropped from the
        cart, and `self.notices` says so (show them to the buyer).
        """
        if self._lines is not None:
            return self._lines
        items = self._items()
        products = products_for_cart(product_ids=[int(key) for key in items])
        lines: list[CartLine] = []
        keep: dict[str, int] = {}
        self.notices = []
        for key, quantity in items.items():
            product = products.get(int(key))
            if product is None:
                self.notices.append("An item in your cart is no longer available and was removed.")
                continue
            if not product_is_buyable(product):
                self.notices.append(
                    f"“{product.title}” can no longer be bought and was removed from your cart."
                )
                continue
            keep[key] = quantity
            lines.append(CartLine(product, quantity, product.price_amount * quantity))
        stored = self.session.get(SESSION_KEY)
        if stored is not None and keep != stored:
            self._save(keep)
        self._lines = lines
        return lines

    def totals(self) -> dict[str, int]:
        """Total per currency in minor units, e.g. {"jpy": 1500, "usd": 4999}."""
        return _sum_by_currency(self.lines())

    def stock_check(self, held: Mapping[int, int]) -> None:
        """Mark each line that asks for more than is left (the product's stock plus what
        the cart's own open checkouts hold, `held`: {product id: n})."""
        checked = []
        for line in self.lines():
            stock = line.product.stock
            problem = ""
            if stock is not None and line.quantity > stock + held.get(line.product.pk, 0):
                problem = stock_message(line.product.title, stock + held.get(line.product.pk, 0))
            checked.append(replace(line, stock_problem=problem))
        self._lines = checked

    def currency_groups(self) -> list[CurrencyGroup]:
        """The lines by currency (in cart order), each with its total and open checkout:
        one checkout per currency."""
        groups: dict[str, CurrencyGroup] = {}
        links = self.checkouts()
        for line in self.lines():
            group = groups.setdefault(
                line.currency,
                CurrencyGroup(currency=line.currency, checkout_id=links.get(line.currency)),
            )
            group.lines.append(line)
            group.total += line.line_amount
        return list(groups.values())

    def groups(self) -> list[CartGroup]:
        """Lines grouped by contractor (in cart order), each with its subtotals."""
        groups: dict[int, CartGroup] = {}
        for line in self.lines():
            seller = line.product.seller
            groups.setdefault(seller.pk, CartGroup(seller=seller)).lines.append(line)
        for group in groups.values():
            group.subtotals = _sum_by_currency(group.lines)
        return list(groups.values())
