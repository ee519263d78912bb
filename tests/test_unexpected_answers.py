"""Whatever answers in AWS's place (a proxy's error page, a captive portal, a wrong endpoint), every
command that calls AWS says so on one line and exits 1 or 2: never a traceback, never the page itself.

The answers come from a tiny HTTP server on loopback, reached the way the product reaches any endpoint:
``PROVISIONER_TARGET=local`` with ``PROVISIONER_AWS_ENDPOINT``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from provisioner import cli
from tests.aws_fixtures import aws_env, make_project  # noqa: F401 (fixtures)
from tests.test_doctor import table_rows

PROXY_PAGE = "<!DOCTYPE html>\n<html><head><title>Proxy error</title></head>\n<body><h1>Access denied by policy</h1></body></html>\n"


def _server(status: int, body: str, content_type: str) -> ThreadingHTTPServer:
    class Answer(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            payload = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Answer)


ANSWERS = {
    "a proxy's page, 200": (200, PROXY_PAGE, "text/html"),
    "a proxy's page, 502": (502, PROXY_PAGE, "text/html; charset=utf-8"),
    "plain text, 200": (200, "OK\n", "text/plain"),
}


@pytest.fixture(params=list(ANSWERS))
def not_aws(request, aws_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = _server(*ANSWERS[request.param])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("PROVISIONER_TARGET", "local")
    monkeypatch.setenv("PROVISIONER_AWS_ENDPOINT", endpoint)
    yield endpoint
    server.shutdown()
    server.server_close()


@pytest.fixture
def environments(tmp_path: Path) -> Path:
    return make_project(tmp_path)[0]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_said_on_one_line(text: str, endpoint: str) -> None:
    assert "<html" not in text.lower() and "Access denied by policy" not in text, text
    lines = [line for line in text.splitlines() if endpoint in line]
    assert len(lines) == 1, text
    assert "not an AWS answer" in lines[0], text


@pytest.mark.parametrize("command", [("status",), ("bootstrap-state",)])
def test_commands_say_on_one_line_that_the_answer_was_not_aws(not_aws, environments, capsys, command) -> None:
    code, out, err = _run(capsys, *command, "--environments", str(environments))
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("provisioner:")]
    assert len(errors) == 1, err
    _assert_said_on_one_line(errors[0], not_aws)
    assert "<html" not in out.lower()


def test_doctor_fails_the_credentials_check_with_one_line(not_aws, environments, capsys) -> None:
    code, out, err = _run(capsys, "doctor", "--environments", str(environments))
    assert code == 1
    assert err == ""
    assert "<html" not in out.lower() and "Access denied by policy" not in out, out
    credentials = table_rows(out)[0]
    assert credentials[:2] == ["FAIL", "credentials"]
    assert credentials[3].startswith(f"{not_aws} answered GetCallerIdentity with ") and credentials[3].endswith("not an AWS answer")


def test_cost_report_says_on_one_line_that_the_answer_was_not_aws(not_aws, capsys) -> None:
    code, out, err = _run(capsys, "cost", "report", "--month", "2024-05", "--region", "us-east-1")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("provisioner: "), err
    _assert_said_on_one_line(err, not_aws)
