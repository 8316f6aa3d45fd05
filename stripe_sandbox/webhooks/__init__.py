"""Webhook signing and delivery."""
