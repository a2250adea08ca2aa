"""time-or-randomness: the clock and a seeded generator."""

import datetime
import random

from shop import license_valid


def test_time_datetime_now_vs_fixed_date():
    # Written in 2024 against a license that ended on 2024-12-31: fails ever since.
    assert license_valid(datetime.datetime.now())


def test_randomness_seeded_value():
    rng = random.Random(20240101)
    winners = rng.sample(range(1, 50), 3)
    # Values copied from a run that used a different seed.
    assert winners == [7, 23, 41]
