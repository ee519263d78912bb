"""``provisioner pr-comment``: post or update the plan summary on GitHub pull requests."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from provisioner.errors import UserError
from provisioner.github_comment import API, GitHub, upsert_comment


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pr-comment",
        help="post/update the plan summary as one comment on the pull request(s) of a commit",
        description=(
            "Post FILE (a `provisioner plan-summary` Markdown) as a comment on a GitHub pull request, editing the "
            "earlier summary comment when there is one, so each pull request holds one up-to-date summary. "
            "Give --pull-request, or --commit to comment on every open pull request containing that commit. "
            "The token is read from the environment variable named by --token-env (default GITHUB_TOKEN); "
            "it is never printed. Exit 0 on success, 2 on any error."
        ),
    )
    parser.add_argument("--repository", required=True, help="owner/name")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--commit", help="commit SHA whose open pull requests get the comment")
    target.add_argument("--pull-request", type=int, help="pull request number")
    parser.add_argument("--file", type=Path, required=True, help="the Markdown summary")
    parser.add_argument("--token-env", default="GITHUB_TOKEN", help="environment variable holding the token (default: %(default)s)")
    parser.add_argument("--api", default=os.environ.get("GITHUB_API_URL", API), help="API base URL (GitHub Enterprise) (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.repository):
        raise UserError(f'--repository "{args.repository}" must be owner/name')
    try:
        body = args.file.read_text(encoding="utf-8")
    except OSError as error:
        raise UserError(f"{args.file}: cannot read ({error.strerror})") from None
    github = GitHub(os.environ.get(args.token_env, ""), api=args.api)
    results = upsert_comment(github, args.repository, body, commit=args.commit, pull_request=args.pull_request)
    if not results:
        print(f"no open pull request contains commit {args.commit}; nothing to comment on")
    for result in results:
        print(f"pull request #{result.pull_request}: summary comment {result.action} ({result.url})")
    return 0
