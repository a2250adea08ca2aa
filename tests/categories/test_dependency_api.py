"""dependency-api: installed packages whose API is not what the code expects."""

import datetime

import httpx
import pytest
import requests


def test_dependency_import_error():
    # A name the installed requests does not have (removed or never there).
    from requests import does_not_exist

    assert does_not_exist


def test_dependency_module_not_found():
    # PyYAML is not installed in this environment (a missing dependency).
    import yaml

    assert yaml.safe_load("a: 1") == {"a": 1}


def test_dependency_attribute_error_in_package():
    # Session.send wants a PreparedRequest; a URL string fails inside requests.
    session = requests.Session()
    session.send("http://127.0.0.1:9/api/items")


def test_dependency_type_error_in_package():
    # httpx wants bytes/str/iterable content; an int fails deep inside httpx.
    order_id = 1234
    httpx.post("http://127.0.0.1:9/api/orders", content=order_id)


@pytest.mark.filterwarnings("error::DeprecationWarning")
def test_dependency_deprecation_warning_as_error():
    # Same effect as `-W error::DeprecationWarning`: utcnow() is deprecated in 3.12.
    stamp = datetime.datetime.utcnow()
    assert stamp.year >= 2024
