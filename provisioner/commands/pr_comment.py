"""``provisioner pr-comment``: post or update the plan summary on GitHub pull requests."""

from __future__ import annotations

import argparse

from provisioner.errors import UserError
from provisioner.plan_review import comment


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
    comment.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return comment.run(args)
    except comment.GitHubError as error:
        raise UserError(str(error)) from None
