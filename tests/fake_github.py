"""A fake GitHub REST API on loopback, for the code that posts the plan summary comment.

Registered as a pytest plugin by ``tests/conftest.py``: every test can ask for the ``github`` fixture,
which yields ``(FakeGitHub, api base URL)``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

TOKEN = "ghp_test-token-never-printed"


class FakeGitHub:
    """State of the fake API: pull request 7 is open (commit abc123) with one human comment; 3 is closed."""

    def __init__(self) -> None:
        self.comments: dict[int, list[dict]] = {7: [{"id": 1, "body": "unrelated human comment", "html_url": "u1"}]}
        self.pulls_of_commit = {"abc123": [{"number": 7, "state": "open"}, {"number": 3, "state": "closed"}]}
        self.auth_headers: list[str] = []
        self.next_id = 100


@pytest.fixture()
def github():
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _reply(self, status: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            fake.auth_headers.append(self.headers.get("Authorization", ""))
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts[3:4] == ["commits"]:
                return self._reply(200, fake.pulls_of_commit.get(parts[4], []))
            if parts[3:4] == ["issues"] and parts[5:6] == ["comments"]:
                return self._reply(200, fake.comments.get(int(parts[4]), []))
            self._reply(404, {"message": "Not Found"})

        def _body(self) -> dict:
            return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

        def do_POST(self) -> None:
            fake.auth_headers.append(self.headers.get("Authorization", ""))
            number = int(self.path.strip("/").split("/")[4])
            fake.next_id += 1
            comment = {"id": fake.next_id, "body": self._body()["body"], "html_url": f"c{fake.next_id}"}
            fake.comments.setdefault(number, []).append(comment)
            self._reply(201, comment)

        def do_PATCH(self) -> None:
            fake.auth_headers.append(self.headers.get("Authorization", ""))
            comment_id = int(self.path.strip("/").split("/")[-1])
            body = self._body()["body"]
            for comments in fake.comments.values():
                for comment in comments:
                    if comment["id"] == comment_id:
                        comment["body"] = body
                        return self._reply(200, comment)
            self._reply(404, {"message": "Not Found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
