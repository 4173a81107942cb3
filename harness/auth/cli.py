"""``harness auth login|status|refresh|revoke|logout``.

Each command resolves the collection's OAuth 2.0 settings (collection + environment + --env-var +
DRCHRONO_* OS variables, via :func:`harness.oauth_attributes.collection_oauth2_attributes`), opens
the token store and acts on the one token set those settings name. Nothing printed ever contains a
token.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from harness import paths
from harness.errors import EXIT_OK

if TYPE_CHECKING:  # the engine loads when a command runs, so `harness --help` stays fast
    from harness.auth.manager import TokenManager
    from harness.auth.store import TokenStore

TOKEN_TIMEOUT_S = 30.0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    auth = subparsers.add_parser(
        "auth",
        help="log in to DrChrono and manage stored OAuth 2.0 tokens",
        description="Obtain, inspect, refresh and revoke the OAuth 2.0 tokens of a collection.",
    )
    commands = auth.add_subparsers(dest="auth_command", metavar="ACTION")
    actions: list[tuple[str, str, Callable[[argparse.Namespace], int]]] = [
        (
            "login",
            "authorize in the browser (code grant with PKCE) and store the tokens",
            cmd_login,
        ),
        ("status", "show the stored token's expiry and scopes (never the token)", cmd_status),
        ("refresh", "refresh the access token now (rotates the refresh token)", cmd_refresh),
        ("revoke", "revoke the tokens at DrChrono and forget them", cmd_revoke),
        ("logout", "forget the stored tokens locally (no server call)", cmd_logout),
    ]
    for name, help_text, func in actions:
        parser = commands.add_parser(name, help=help_text, description=help_text)
        _common_options(parser)
        parser.set_defaults(func=func)
    auth.set_defaults(func=lambda args: _usage(auth))


def _usage(parser: argparse.ArgumentParser) -> int:
    """``harness auth`` alone: its help, exit 0 (as ``harness`` alone)."""
    parser.print_help()
    return EXIT_OK


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--collection",
        type=Path,
        default=paths.DEFAULT_COLLECTION,
        metavar="PATH",
        help="Postman collection with the OAuth 2.0 settings",
    )
    parser.add_argument(
        "-e", "--environment", type=Path, metavar="PATH", help="Postman environment file"
    )
    parser.add_argument(
        "--env-var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a variable (repeatable)",
    )
    parser.add_argument(
        "--token-store",
        type=Path,
        metavar="PATH",
        help="token store file (default: $HARNESS_TOKEN_STORE or the user cache)",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="print the authorization URL and read the code from stdin",
    )


# -- commands: argparse in, params resolved, then the testable functions below -----------------


def cmd_login(args: argparse.Namespace) -> int:
    return login_command(_params(args), _store(args), use_browser=not args.no_browser)


def cmd_status(args: argparse.Namespace) -> int:
    return status_command(_params(args), _store(args))


def cmd_refresh(args: argparse.Namespace) -> int:
    return refresh_command(_params(args), _store(args))


def cmd_revoke(args: argparse.Namespace) -> int:
    return revoke_command(_params(args), _store(args))


def cmd_logout(args: argparse.Namespace) -> int:
    return logout_command(_params(args), _store(args))


def login_command(
    params: Mapping[str, str],
    store: TokenStore,
    *,
    use_browser: bool = True,
    out: TextIO | None = None,
    **login_options: Any,
) -> int:
    from harness.auth.login import login

    stream = out or sys.stdout
    with _manager(params, store) as manager:
        login(
            manager,
            use_browser=use_browser and manager.settings.use_browser,
            say=lambda text: print(text, file=stream),
            **login_options,
        )
        print(f"Logged in; tokens stored in {store.describe()}.", file=stream)
        _print_status(manager.status(), stream)
    return EXIT_OK


def status_command(params: Mapping[str, str], store: TokenStore, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    with _manager(params, store) as manager:
        _print_status(manager.status(), stream)
    for warning in store.warnings:
        print(f"warning: {warning}", file=stream)
    return EXIT_OK


def refresh_command(params: Mapping[str, str], store: TokenStore, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    with _manager(params, store) as manager:
        manager.refresh()
        print("Refreshed; the new refresh token was stored.", file=stream)
        _print_status(manager.status(), stream)
    return EXIT_OK


def revoke_command(params: Mapping[str, str], store: TokenStore, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    with _manager(params, store) as manager:
        revoked = manager.revoke()
    if revoked:
        print(
            f"Revoked the {' and '.join(t.replace('_', ' ') for t in revoked)} and removed "
            f"them from {store.describe()}.",
            file=stream,
        )
    else:
        print("No stored token to revoke.", file=stream)
    return EXIT_OK


def logout_command(params: Mapping[str, str], store: TokenStore, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    with _manager(params, store) as manager:
        removed = manager.logout()
    print("Removed the stored tokens." if removed else "No stored token to remove.", file=stream)
    return EXIT_OK


# -- helpers ---------------------------------------------------------------------------------


def _params(args: argparse.Namespace) -> dict[str, str]:
    from harness.collection import load_collection
    from harness.oauth_attributes import collection_oauth2_attributes
    from harness.variables import load_scopes, parse_assignments

    collection = load_collection(args.collection)
    scopes = load_scopes(
        collection.variables,
        environment=args.environment,
        env_vars=parse_assignments(args.env_var),
    )
    return collection_oauth2_attributes(collection, scopes)


def _store(args: argparse.Namespace) -> TokenStore:
    from harness.auth.store import TokenStore

    return TokenStore(args.token_store) if args.token_store else TokenStore.default()


@contextlib.contextmanager
def _manager(params: Mapping[str, str], store: TokenStore) -> Iterator[TokenManager]:
    import httpx

    from harness.auth.manager import TokenManager
    from harness.auth.settings import OAuth2Settings
    from harness.redaction import SecretRegistry

    settings = OAuth2Settings.from_postman(params)
    secrets = SecretRegistry()
    seed = settings.refresh_token or os.environ.get("DRCHRONO_REFRESH_TOKEN") or None
    with httpx.Client(timeout=TOKEN_TIMEOUT_S) as client:
        yield TokenManager(
            settings, store=store, client=client, secrets=secrets, refresh_token=seed
        )


def _print_status(status: Mapping[str, Any], stream: TextIO) -> None:
    labels = [
        ("token_name", "token"),
        ("grant_type", "grant"),
        ("token_url", "token URL"),
        ("store", "store"),
        ("has_access_token", "access token"),
        ("expires_at", "expires"),
        ("expires_in_s", "expires in (s)"),
        ("scopes", "scopes"),
        ("has_refresh_token", "refresh token"),
        ("refresh_token_source", "refresh token from"),
        ("interrupted_refresh", "interrupted refresh"),
    ]
    width = max(len(label) for _, label in labels)
    for key, label in labels:
        value = status.get(key)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            value = " ".join(value) or "-"
        print(f"{label:<{width}}  {'-' if value is None else value}", file=stream)
