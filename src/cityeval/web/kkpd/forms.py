"""Forms of the KKPD administrator's pages: banks, cards, merchants and realised spending.

A card is known only by its last four digits. The field holding them never echoes what was
typed (a full card number typed by mistake is neither stored nor shown back), and its error
does not repeat the value.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cityeval.web.kkpd.models import Bank, Card, Merchant, Spending, last_four_digits
from cityeval.web.regions.models import Region


class NoEchoInput(forms.TextInput):
    """A text input that is always rendered empty, whatever was submitted."""

    def format_value(self, value: Any) -> None:
        return None


class BankForm(forms.ModelForm):
    class Meta:
        model = Bank
        fields = ["name"]


CARD_FIELDS = [
    "opd", "bank", "card_type", "holder_name", "administrator", "authorised_users", "limit",
    "limit_period", "valid_from", "valid_until",
]  # fmt: skip


class CardForm(forms.ModelForm):
    """A card's master data; ``last_four`` only when the card is registered (never changed)."""

    class Meta:
        model = Card
        fields = CARD_FIELDS
        labels = {"opd": _("OPD"), "bank": _("Issuing bank")}
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "authorised_users": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, region: Region, new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["opd"].queryset = region.opds.all()  # type: ignore[attr-defined]
        self.fields["bank"].queryset = Bank.objects.filter(region=region)  # type: ignore[attr-defined]
        if new:
            self.fields["last_four"] = forms.CharField(
                label=_("last four digits"),
                help_text=_("Only the last four digits of the card number; never the full number."),
                validators=[last_four_digits],
                widget=NoEchoInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "4"}),
                error_messages={"max_length": _("Only the last four digits of the card number.")},
            )
            self.order_fields(["last_four", *CARD_FIELDS])

    def clean_last_four(self) -> str:
        # ASCII only: the model's validator (``\d``) would let other scripts' digits through to
        # the database's check constraint.
        value = self.cleaned_data["last_four"].strip()
        if not (len(value) == 4 and value.isascii() and value.isdigit()):
            raise forms.ValidationError(_("Only the last four digits of the card number."))
        return value

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The card cannot expire before it is valid."))
        return data


class MerchantForm(forms.ModelForm):
    class Meta:
        model = Merchant
        fields = ["merchant_id", "name", "mcc", "micro_small", "domestic"]

    def clean_mcc(self) -> str:
        mcc = self.cleaned_data["mcc"].strip()
        if mcc and not (len(mcc) == 4 and mcc.isdigit()):
            raise forms.ValidationError(_("A category code (MCC) has four digits."))
        return mcc


class SpendingForm(forms.ModelForm):
    """Realised spending of an OPD in a month, entered by hand (a new row; the latest counts)."""

    month = forms.DateField(
        label=_("month"), input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "month"})
    )

    class Meta:
        model = Spending
        fields = ["opd", "month", "goods_services", "capital", "other_non_cash"]
        labels = {"opd": _("OPD")}

    def __init__(self, *args: Any, region: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["opd"].queryset = region.opds.all()  # type: ignore[attr-defined]
