"""Real local servers that receive alerts: an HTTP endpoint and an SMTP server (stdlib only)."""
from __future__ import annotations

import contextlib
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


@contextlib.contextmanager
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """(url, received): every JSON body POSTed to the url, with its Authorization header."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "authorization": self.headers.get("Authorization"), "body": body})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts", received
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[int, list[dict]]]:
    """(port, received): the envelope and message of every mail sent to this plain SMTP server."""
    received: list[dict] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            mail = {"from": None, "to": [], "data": ""}
            self.wfile.write(b"220 localhost test SMTP\r\n")
            while line := self.rfile.readline():
                command = line.decode().strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.wfile.write(b"250 localhost\r\n")
                elif verb == "MAIL":
                    mail["from"] = command.split(":", 1)[1].strip(" <>")
                    self.wfile.write(b"250 OK\r\n")
                elif verb == "RCPT":
                    mail["to"].append(command.split(":", 1)[1].strip(" <>"))
                    self.wfile.write(b"250 OK\r\n")
                elif verb == "DATA":
                    self.wfile.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    lines = []
                    while (data := self.rfile.readline()) not in (b".\r\n", b""):
                        lines.append(data.decode("utf-8", "replace"))
                    received.append({**mail, "data": "".join(lines)})
                    self.wfile.write(b"250 OK\r\n")
                elif verb == "QUIT":
                    self.wfile.write(b"221 Bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 OK\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()
