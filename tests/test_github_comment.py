"""pr-comment against a fake GitHub API on loopback: one comment per pull request, updated in place."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from provisioner.github_comment import MARKER

TOKEN = "ghp_test-token-never-printed"


class FakeGitHub:
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
            number = int(self.path.strip("/").split("/")[4])
            fake.next_id += 1
            comment = {"id": fake.next_id, "body": self._body()["body"], "html_url": f"c{fake.next_id}"}
            fake.comments.setdefault(number, []).append(comment)
            self._reply(201, comment)

        def do_PATCH(self) -> None:
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


def run_cli(api: str, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GITHUB_TOKEN=token)
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "pr-comment", "--api", api, *args], env=env, capture_output=True, text=True, check=False
    )


def test_comment_is_created_once_then_updated(github, tmp_path: Path) -> None:
    fake, api = github
    summary = tmp_path / "summary.md"
    summary.write_text(f"{MARKER}\n## Terraform plan summary\nfirst\n")
    first = run_cli(api, "--repository", "acme/infra", "--commit", "abc123", "--file", str(summary))
    assert first.returncode == 0, first.stderr
    assert "pull request #7: summary comment created" in first.stdout
    summary.write_text(f"{MARKER}\n## Terraform plan summary\nsecond\n")
    second = run_cli(api, "--repository", "acme/infra", "--commit", "abc123", "--file", str(summary))
    assert "pull request #7: summary comment updated" in second.stdout
    ours = [c for c in fake.comments[7] if MARKER in c["body"]]
    assert len(ours) == 1 and "second" in ours[0]["body"]
    assert 3 not in fake.comments, "closed pull requests get no comment"
    assert fake.comments[7][0]["body"] == "unrelated human comment"
    assert set(fake.auth_headers) == {f"Bearer {TOKEN}"}
    assert TOKEN not in first.stdout + first.stderr + second.stdout + second.stderr


def test_marker_is_added_when_missing(github, tmp_path: Path) -> None:
    fake, api = github
    summary = tmp_path / "s.md"
    summary.write_text("plain summary\n")
    assert run_cli(api, "--repository", "acme/infra", "--pull-request", "9", "--file", str(summary)).returncode == 0
    assert fake.comments[9][0]["body"].startswith(MARKER)


def test_errors_are_one_line_exit_2(github, tmp_path: Path) -> None:
    _, api = github
    summary = tmp_path / "s.md"
    summary.write_text("x")
    no_token = run_cli(api, "--repository", "acme/infra", "--pull-request", "9", "--file", str(summary), token="")
    assert no_token.returncode == 2 and "no GitHub token" in no_token.stderr
    missing = run_cli(api, "--repository", "acme/infra", "--pull-request", "9", "--file", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    http_error = run_cli(api, "--repository", "acme/infra", "--commit", "zzz", "--file", str(summary))
    assert http_error.returncode == 0 and "no open pull request" in http_error.stdout
    unreachable = run_cli("http://127.0.0.1:9", "--repository", "acme/infra", "--pull-request", "9", "--file", str(summary))
    assert unreachable.returncode == 2
    for result in (no_token, missing, unreachable):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
