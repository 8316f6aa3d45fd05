from django import template

from core.money import format_amount

register = template.Library()


@register.filter
def money(amount, currency):
    """{{ order.amount|money:order.currency }} → "$12.34" (zero-decimal currencies right)."""
    if amount is None:
        return ""
    return format_amount(int(amount), currency)
