"""Admin forms: amounts are typed in the currency's units and read with core.money."""

from django import forms

from accounts.models import User, UserProfile
from core.money import InvalidAmount, parse_amount
from payments.models import Refund
from payments.services.debits import DebitError, debit_check
from shop.models import Order


class RefundForm(forms.Form):
    amount = forms.CharField(help_text="In the payment's currency, e.g. 12.50.")
    reason = forms.ChoiceField(choices=[("", "—")] + Refund.Reason.choices, required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    reverse_transfer = forms.BooleanField(
        required=False, help_text="Take the contractor's share back from their account."
    )
    refund_application_fee = forms.BooleanField(
        required=False, help_text="Give back the platform fee on the refunded part."
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        try:
            amount = parse_amount(self.cleaned_data["amount"], self.currency)
        except InvalidAmount as exc:
            raise forms.ValidationError(str(exc)) from exc
        if amount <= 0:
            raise forms.ValidationError("The refund amount must be more than zero.")
        return amount


class DebitForm(forms.Form):
    contractor = forms.ModelChoiceField(
        queryset=User.objects.filter(profile__role=UserProfile.Role.CONTRACTOR).order_by("email")
    )
    order = forms.ModelChoiceField(
        queryset=Order.objects.filter(status__in=["captured", "partially_refunded"]),
        required=False,
        help_text="Leave empty for an account debit; pick an order to reverse its transfer.",
    )
    amount = forms.CharField(help_text="e.g. 25.00")
    currency = forms.CharField(max_length=3, initial="usd")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["amount"] = parse_amount(cleaned["amount"], cleaned["currency"])
            debit_check(
                contractor_id=cleaned["contractor"].pk,
                amount=cleaned["amount"],
                currency=cleaned["currency"],
                reason=cleaned["reason"],
                order_id=cleaned["order"].pk if cleaned.get("order") else None,
            )
        except (InvalidAmount, DebitError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned
