"""Stripe's wire format: nested form decoding and parameter validation."""
