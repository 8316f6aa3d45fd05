"""Integer money: the balance ledger and Stripe's rounding.

Every movement of money is a ``balance_transaction`` in the scope of the account
whose balance it changes (``None`` is the platform). Positive amounts are
``pending`` until ``available_on`` (``--available-after`` seconds later);
negative ones (refunds, transfers out, payouts) leave the available balance at
once, as on Stripe. No Stripe processing fees are charged (``fee`` is the
application fee on a connected account's destination payment, else 0), so every
figure can be checked to the cent.

Proportional shares (transfer reversals and application-fee refunds for partial
refunds) are computed *cumulatively* with round-half-up:
``share_after = round_half_up(refunded_total * whole / charge_amount)`` and this
refund gets ``share_after - share_already_taken``. A series of partial refunds
therefore always adds up to exactly the whole share, never a cent off.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from . import ids
from .store import Obj

if TYPE_CHECKING:
    from .sandbox import Sandbox

ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)
MINIMUM_CHARGE = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "aud": 50,
    "cad": 50,
    "chf": 50,
    "jpy": 50,
    "dkk": 250,
    "nok": 300,
    "sek": 300,
    "pln": 200,
    "mxn": 1000,
    "hkd": 400,
}
MAXIMUM_AMOUNT = 99_999_999
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "aud": "A$", "cad": "CA$"}

REPORTING_CATEGORY = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "payment_refund": "refund",
    "transfer": "transfer",
    "transfer_refund": "transfer_reversal",
    "application_fee": "platform_earning",
    "application_fee_refund": "platform_earning_refund",
    "payout": "payout",
    "payout_failure": "payout_reversal",
}


def round_half_up_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero, integers only."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def proportional_share(
    whole: int, refunded_total: int, charge_amount: int, already_taken: int
) -> int:
    """This refund's share of ``whole`` (see the module docstring)."""
    if charge_amount <= 0:
        return 0
    share_after = min(whole, round_half_up_div(refunded_total * whole, charge_amount))
    return max(0, share_after - already_taken)


def format_amount(amount: int, currency: str) -> str:
    """``1050, "usd"`` → ``"$10.50"`` for error messages."""
    symbol = SYMBOLS.get(currency, "")
    text = f"{amount}" if currency in ZERO_DECIMAL else f"{amount // 100}.{amount % 100:02d}"
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


class Ledger:
    """Balance transactions and per-account running balances."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        # (account, currency) → [available, pending]
        self.totals: dict[tuple[str | None, str], list[int]] = defaultdict(lambda: [0, 0])
        self._pending: list[tuple[float, str]] = []
        self.became_available: set[str | None] = set()

    def rebuild(self) -> None:
        """Recompute running totals from stored transactions (after load or reset)."""
        self.totals.clear()
        self._pending.clear()
        self.became_available.clear()
        for txn in self.sandbox.store.iter_kind("balance_transaction", newest_first=False):
            self._count(txn)

    def _count(self, txn: Obj) -> None:
        totals = self.totals[(txn["_account"], txn["currency"])]
        if txn["status"] == "available":
            totals[0] += txn["net"]
        else:
            totals[1] += txn["net"]
            heapq.heappush(self._pending, (txn["_available_at"], txn["id"]))

    def record(
        self,
        account: str | None,
        txn_type: str,
        amount: int,
        currency: str,
        source: str | None,
        *,
        description: str | None = None,
        fee: int = 0,
        fee_details: list[dict[str, Any]] | None = None,
        available_at: float | None = None,
    ) -> Obj:
        """Add one balance transaction and return it."""
        clock = self.sandbox.clock
        now = clock.time()
        net = amount - fee
        if available_at is None:
            available_at = now + self.sandbox.config.available_after if net > 0 else now
        available = available_at <= now
        txn = {
            "id": ids.new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": math.ceil(available_at),
            "balance_type": "payments",
            "created": clock.now(),
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": fee_details or [],
            "net": net,
            "reporting_category": REPORTING_CATEGORY.get(txn_type, "other_adjustment"),
            "source": source,
            "status": "available" if available else "pending",
            "type": txn_type,
            "_available_at": available_at,
        }
        self.sandbox.store.add(txn, account)
        self._count(txn)
        if available and net > 0:
            self.became_available.add(account)
        return txn

    def settle(self, *, everything: bool = False, account: Any = ...) -> None:
        """Move due pending transactions to available (all of them if ``everything``)."""
        now = self.sandbox.clock.time()
        store = self.sandbox.store
        keep: list[tuple[float, str]] = []
        while self._pending and (everything or self._pending[0][0] <= now):
            available_at, txn_id = heapq.heappop(self._pending)
            txn = store.get(txn_id)
            if txn is None or txn["status"] != "pending":
                continue
            if account is not ... and txn["_account"] != account:
                keep.append((available_at, txn_id))
                continue
            txn["status"] = "available"
            txn["available_on"] = min(txn["available_on"], math.ceil(now))
            store.touch(txn)
            totals = self.totals[(txn["_account"], txn["currency"])]
            totals[0] += txn["net"]
            totals[1] -= txn["net"]
            if txn["net"] > 0:
                self.became_available.add(txn["_account"])
        for item in keep:
            heapq.heappush(self._pending, item)

    def next_due(self) -> float | None:
        return self._pending[0][0] if self._pending else None

    def available(self, account: str | None, currency: str) -> int:
        return self.totals[(account, currency)][0]

    def balance(self, account: str | None, default_currency: str = "usd") -> Obj:
        """The ``balance`` object of one account."""
        currencies = sorted({cur for (acct, cur) in self.totals if acct == account})
        if not currencies:
            currencies = [default_currency]

        def entries(index: int) -> list[Obj]:
            return [
                {
                    "amount": self.totals[(account, cur)][index],
                    "currency": cur,
                    "source_types": {"card": self.totals[(account, cur)][index]},
                }
                for cur in currencies
            ]

        balance: Obj = {
            "object": "balance",
            "available": entries(0),
            "livemode": False,
            "pending": entries(1),
        }
        if account is None:
            balance["connect_reserved"] = [{"amount": 0, "currency": cur} for cur in currencies]
        return balance
