"""order-or-state: the second test passes alone, fails after the first.

The first test changes shop.SETTINGS (module-level state) and never restores it.
"""

import shop


def test_order_state_switches_currency():
    shop.SETTINGS["currency"] = "USD"
    assert shop.format_price(500) == "5.00 USD"


def test_order_state_default_currency():
    assert shop.format_price(500) == "5.00 EUR"
