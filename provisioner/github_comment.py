"""Post or update the plan-summary comment on the pull requests of a commit (GitHub REST API).

One comment per pull request: the summary starts with a marker (``<!-- pipeline-provisioner:plan-summary -->``);
when a comment with that marker exists it is edited, so a pull request never collects one comment per push.
Standard library only: it runs in the pipeline's plan build and in GitHub Actions before anything is installed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from provisioner.errors import UserError

MARKER = "<!-- pipeline-provisioner:plan-summary -->"
API = "https://api.github.com"


@dataclass(frozen=True)
class CommentResult:
    pull_request: int
    action: str
    """``created`` or ``updated``."""
    url: str


class GitHub:
    """The few REST calls needed, with the token only in the Authorization header."""

    def __init__(self, token: str, api: str = API, timeout: float = 20.0) -> None:
        if not token:
            raise UserError("no GitHub token: set GITHUB_TOKEN (the pipeline reads it from Secrets Manager)")
        self.token = token
        self.api = api.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict | None = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.api}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "pipeline-provisioner",
                **({"Content-Type": "application/json"} if data else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise UserError(f"GitHub {method} {path}: HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, TimeoutError) as error:
            raise UserError(f"GitHub {method} {path}: {getattr(error, 'reason', error)}") from None
        return json.loads(payload) if payload else None

    def pull_requests_of_commit(self, repository: str, commit: str) -> list[int]:
        pulls = self.request("GET", f"/repos/{repository}/commits/{commit}/pulls")
        return [pull["number"] for pull in pulls if pull.get("state") == "open"]  # type: ignore[union-attr]

    def find_comment(self, repository: str, number: int) -> dict | None:
        page = 1
        while True:
            comments = self.request("GET", f"/repos/{repository}/issues/{number}/comments?per_page=100&page={page}")
            for comment in comments:  # type: ignore[union-attr]
                if MARKER in comment.get("body", ""):
                    return comment
            if len(comments) < 100:  # type: ignore[arg-type]
                return None
            page += 1


def upsert_comment(github: GitHub, repository: str, body: str, *, commit: str | None = None, pull_request: int | None = None) -> list[CommentResult]:
    """Create or update the summary comment on ``pull_request``, or on every open pull request of ``commit``."""
    if MARKER not in body:
        body = f"{MARKER}\n{body}"
    numbers = [pull_request] if pull_request else github.pull_requests_of_commit(repository, commit or "")
    results = []
    for number in numbers:
        existing = github.find_comment(repository, number)
        if existing:
            updated = github.request("PATCH", f"/repos/{repository}/issues/comments/{existing['id']}", {"body": body})
            results.append(CommentResult(number, "updated", updated["html_url"]))  # type: ignore[index]
        else:
            created = github.request("POST", f"/repos/{repository}/issues/{number}/comments", {"body": body})
            results.append(CommentResult(number, "created", created["html_url"]))  # type: ignore[index]
    return results
