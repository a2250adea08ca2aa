"""The project's own code under test (a tiny shop)."""

import datetime

# Module-level state: the order-or-state row's earlier test changes it.
SETTINGS = {"currency": "EUR"}

LICENSE_EXPIRES = datetime.datetime(2024, 12, 31, 23, 59, 59)


def apply_discount(price_cents: int, percent: int) -> int:
    """Price after a percentage discount, rounded to the nearest cent."""
    # Bug: floor division of the discount instead of rounding.
    return price_cents - price_cents * percent // 100


def format_price(price_cents: int) -> str:
    return f"{price_cents / 100:.2f} {SETTINGS['currency']}"


def license_valid(now: datetime.datetime) -> bool:
    return now <= LICENSE_EXPIRES
