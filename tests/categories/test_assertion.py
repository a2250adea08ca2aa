"""assertion: the project's own function returns the wrong value."""

from shop import apply_discount


def test_assertion_result_equals_expected():
    result = apply_discount(999, 15)
    expected = 849  # 999 * 0.85 = 849.15, rounded
    assert result == expected
