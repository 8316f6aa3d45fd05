"""Local servers for the browser tests: an ASGI app (sandbox or fake) in a
uvicorn thread, and a tiny "shop" on another port so the shop page is
cross-origin to the sandbox, as in production."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn

SHOP_PAGE = Path(__file__).with_name("shop_page.html")


@contextmanager
def serve_asgi(app) -> Iterator[str]:
    """Run ``app`` on a free port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def serve_shop(api_base: str, publishable_key: str = "pk_test_sandbox") -> Iterator[str]:
    """Serve the test shop page (``/checkout``) and a return page (``/done``)."""
    page = (
        SHOP_PAGE.read_text(encoding="utf-8")
        .replace("__API_BASE__", api_base)
        .replace("__PUBLISHABLE_KEY__", publishable_key)
        .encode()
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/checkout":
                body, status = page, 200
            elif path == "/done":
                body, status = b"<!doctype html><title>Done</title><h1>Returned</h1>", 200
            else:
                body, status = b"not found", 404
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # keep test output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)
