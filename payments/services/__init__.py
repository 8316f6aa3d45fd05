"""Payments services: the only code that changes payments' state.

- transitions: locked status moves for every payments model
- customers:   buyers' Stripe Customers and saved cards
- intents:     PaymentIntents from creation to capture, cancel and expiry
- events:      webhook events stored once and processed by handlers
"""
