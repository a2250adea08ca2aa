"""Test names and messages are written by the code under test: tox-triage must
render them inert. Every string here is something a stranger can put in a
pull request."""
import pytest

HOSTILE = [
    "<img src=https://example.invalid/beacon.png>",
    "a|b</details>`@maintainer #1",
    "::error file=x::forged",
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile(payload):
    print("::add-mask::" + payload)
    print("::stop-commands::deadbeef")
    assert payload == "safe", "```\n</details><script>alert(1)</script>\n::set-output name=x::y"
