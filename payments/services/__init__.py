"""Payments services: the only code that changes payments' state.

Every status moves through `core.statemachine` (locked, along the model's table).

- profiles:  each user's one Stripe object (Customer, connected account), made once
- customers: buyers' Stripe Customers and saved cards
- connect:   contractors' connected accounts, balances and payouts
- intents:   PaymentIntents from creation to capture, cancel and expiry
- refunds:   refunds asked for by staff, executed by a task, confirmed by webhooks
- debits:    penalties taken from contractors
- events:    webhook events stored once and processed by handlers
"""
