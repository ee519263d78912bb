"""Post or update the plan-summary comment on the pull requests of a commit (GitHub REST API).

One comment per pull request: the summary starts with a marker (``<!-- pipeline-provisioner:plan-summary -->``);
when a comment with that marker exists it is edited, so a pull request never collects one comment per push.
Standard library only and self-contained: the pull-request pipeline's comment build runs this file's
own text, embedded in its buildspec by the devops stack, so the code that holds the GitHub token never
comes from the pull request it comments on. ``provisioner pr-comment`` is the same code.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass

MARKER = "<!-- pipeline-provisioner:plan-summary -->"
API = "https://api.github.com"


@dataclass(frozen=True)
class CommentResult:
    pull_request: int
    action: str
    """``created`` or ``updated``."""
    url: str


class GitHubError(Exception):
    """One-line, user-facing failure (bad input, HTTP error, unreachable API)."""


class GitHub:
    """The few REST calls needed, with the token only in the Authorization header."""

    def __init__(self, token: str, api: str = API, timeout: float = 20.0) -> None:
        if not token:
            raise GitHubError("no GitHub token: set GITHUB_TOKEN (the pipeline reads it from Secrets Manager)")
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
            raise GitHubError(f"GitHub {method} {path}: HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, TimeoutError) as error:
            raise GitHubError(f"GitHub {method} {path}: {getattr(error, 'reason', error)}") from None
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repository", required=True, help="owner/name")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--commit", help="commit SHA whose open pull requests get the comment")
    target.add_argument("--pull-request", type=int, help="pull request number")
    parser.add_argument("--file", required=True, help="the Markdown summary")
    parser.add_argument("--token-env", default="GITHUB_TOKEN", help="environment variable holding the token (default: %(default)s)")
    parser.add_argument("--api", default=os.environ.get("GITHUB_API_URL", API), help="API base URL (GitHub Enterprise) (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.repository):
        raise GitHubError(f'--repository "{args.repository}" must be owner/name')
    # GitHub numbers pull requests from 1: 0 would read as "no number given" (and comment on the commit's
    # pull requests instead), a negative number would be posted to a path that is no pull request.
    if args.pull_request is not None and args.pull_request < 1:
        raise GitHubError(f"--pull-request {args.pull_request}: a pull request number is 1 or more")
    try:
        with open(args.file, encoding="utf-8") as handle:
            body = handle.read()
    except OSError as error:
        raise GitHubError(f"{args.file}: cannot read ({error.strerror})") from None
    github = GitHub(os.environ.get(args.token_env, ""), api=args.api)
    results = upsert_comment(github, args.repository, body, commit=args.commit, pull_request=args.pull_request)
    if not results:
        print(f"no open pull request contains commit {args.commit}; nothing to comment on")
    for result in results:
        print(f"pull request #{result.pull_request}: summary comment {result.action} ({result.url})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pr-comment", description="Post or update the plan summary comment.")
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except GitHubError as error:
        print(f"pr-comment: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
