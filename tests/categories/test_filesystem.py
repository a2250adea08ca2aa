"""filesystem: a file the test expects is not there."""

from pathlib import Path

HERE = Path(__file__).parent


def test_filesystem_file_not_found():
    with open(HERE / "data" / "expected_orders.json") as f:
        assert f.read()
