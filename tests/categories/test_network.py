"""network: each test talks to 127.0.0.1 (or fails to resolve a .invalid name)."""

import httpx
import requests

from conftest import free_port


def test_network_connection_refused():
    port = free_port()
    resp = requests.get(f"http://127.0.0.1:{port}/api/items", timeout=5)
    assert resp.ok


def test_network_connection_reset(reset_server):
    resp = requests.get(f"http://127.0.0.1:{reset_server.port}/api/items", timeout=5)
    assert resp.ok


def test_network_dns_failure():
    # RFC 6761: .invalid names never resolve.
    resp = requests.get("http://nonexistent.invalid/api/items", timeout=5)
    assert resp.ok


def test_network_tls_error(plain_tcp_server):
    resp = requests.get(f"https://127.0.0.1:{plain_tcp_server.port}/", timeout=5, verify=False)
    assert resp.ok


def test_network_http_503(unavailable_service):
    port = unavailable_service.server_address[1]
    resp = requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
    resp.raise_for_status()


def test_network_httpx_connect_timeout(full_backlog_port):
    resp = httpx.get(f"http://127.0.0.1:{full_backlog_port}/api/items", timeout=0.5)
    assert resp.status_code == 200
