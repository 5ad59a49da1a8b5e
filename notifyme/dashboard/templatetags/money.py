"""`{{ amount|money:currency }}`: an amount in the shop's currency, as merchants read it."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "EUR": "€", "GBP": "£",
           "JPY": "¥", "INR": "₹", "CHF": "CHF ", "SEK": "SEK ", "DKK": "DKK ", "NOK": "NOK "}
NO_DECIMALS = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF"}


def money_format(amount: Decimal | int | str, currency: str) -> str:
    """`$1,234.50`, `€12.00`, `¥1,200`, or `1,234.50 XYZ` for a currency without a symbol."""
    value = Decimal(str(amount))
    text = f"{value:,.0f}" if currency in NO_DECIMALS else f"{value:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.filter
def money(amount: Decimal | int | str, currency: str) -> str:
    return money_format(amount, currency)


@register.filter
def grouped(number: int) -> str:
    """`1500` → `1,500` (as the page's script writes numbers, so a redraw changes nothing)."""
    return f"{int(number):,}"
