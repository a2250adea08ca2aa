"""Local servers for the network rows. Everything listens on 127.0.0.1 only."""

import http.server
import socket
import struct
import threading

import pytest


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server(threading.Thread):
    """Accepts connections on 127.0.0.1 and hands each to `handle`."""

    def __init__(self, handle):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.handle = handle

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.handle(conn)

    def stop(self):
        # shutdown() wakes the blocked accept(); close() alone would not.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.join(timeout=5)


def _read_request(conn):
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def reset_server():
    """Reads the request, then closes with SO_LINGER 0: the kernel sends RST."""

    def handle(conn):
        _read_request(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    srv = _Server(handle)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def plain_tcp_server():
    """Speaks plain HTTP/1.0 to whatever connects: a TLS client gets no handshake."""

    def handle(conn):
        conn.settimeout(5)
        try:
            conn.recv(4096)  # the ClientHello
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass

    srv = _Server(handle)
    srv.start()
    yield srv
    srv.stop()


class _Unavailable(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"error": "upstream maintenance"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def unavailable_service():
    """A real http.server that answers every GET with 503 Service Unavailable."""
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Unavailable)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def full_backlog_port():
    """A listening socket that never accepts, its accept queue filled: new SYNs are dropped."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)
    yield port
    for s in fillers:
        s.close()
    srv.close()
