"""``harness auth login|status|refresh|revoke|logout|export-access-token``.

Each command resolves the collection's OAuth 2.0 settings (collection + environment + --env-var +
DRCHRONO_* OS variables, via :func:`harness.oauth_attributes.collection_oauth2_attributes`), opens
the token store and acts on the one token set those settings name. Nothing printed ever contains a
token, except what ``export-access-token`` exists to hand on.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from harness import paths
from harness.errors import EXIT_OK, AuthError, InputError

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
    export = commands.add_parser(
        "export-access-token",
        help="refresh once and print a short-lived access token for other CI jobs",
        description="Refresh once (the rotated refresh token is stored) and print the new access "
        "token alone on standard output, its expiry on standard error; other jobs run with it "
        "in DRCHRONO_ACCESS_TOKEN and refresh nothing.",
    )
    _common_options(export)
    export.add_argument(
        "--github-output",
        metavar="NAME",
        help="instead of printing the token, mask it in the GitHub Actions log (::add-mask::) "
        "and append it to $GITHUB_OUTPUT as the step output NAME",
    )
    export.set_defaults(func=cmd_export_access_token)
    auth.set_defaults(func=lambda args: _usage(auth))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


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


def cmd_export_access_token(args: argparse.Namespace) -> int:
    return export_access_token_command(
        _params(args), _store(args), github_output=args.github_output
    )


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


def export_access_token_command(
    params: Mapping[str, str],
    store: TokenStore,
    *,
    github_output: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Refresh once and hand the new access token on: to ``out`` alone (for ``$(...)``), or
    masked into GitHub Actions' step outputs. Everything else goes to ``err``."""
    stream, notes = out or sys.stdout, err or sys.stderr
    output_file = _github_output_file(github_output) if github_output else None
    with _manager(params, store) as manager:
        token = manager.refresh()
        status = manager.status()
    access = token.access_token or ""
    if not access or any(c.isspace() for c in access):
        raise AuthError(
            "The token endpoint answered the refresh without a usable access token.",
            hint="Run `harness auth status`; the rotated refresh token was stored.",
        )
    if output_file is not None and github_output is not None:
        # The mask first: from then on the runner hides the value wherever it would be logged.
        print(f"::add-mask::{access}", file=stream)
        stream.flush()
        try:
            with output_file.open("a", encoding="utf-8") as outputs:
                outputs.write(f"{github_output}={access}\n")
        except OSError as exc:
            raise InputError(
                f"--github-output: cannot append to $GITHUB_OUTPUT ({output_file}): "
                f"{exc.strerror or type(exc).__name__}.",
                hint="Run it as a step of a GitHub Actions job; the rotated refresh token was "
                "stored, so running again is safe.",
            ) from None
        where = f"the step output {github_output!r} ($GITHUB_OUTPUT)"
    else:
        print(access, file=stream)
        where = "standard output"
    expiry = status.get("expires_at") or "unknown"
    left = status.get("expires_in_s")
    lasts = f" (in {int(left) // 3600} h {int(left) % 3600 // 60} min)" if left else ""
    print(
        f"Access token for {status['token_name']!r} written to {where}; it expires "
        f"{expiry}{lasts}. The rotated refresh token is stored in {store.describe()}.",
        file=notes,
    )
    return EXIT_OK


_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _github_output_file(name: str) -> Path:
    """The file GitHub Actions reads step outputs from, checked before anything is refreshed."""
    if not _OUTPUT_NAME.fullmatch(name):
        raise InputError(
            f"--github-output {name!r} is not a valid step output name.",
            hint="Start with a letter or '_' and use only letters, digits, '-' and '_'.",
        )
    path = os.environ.get("GITHUB_OUTPUT", "")
    if not path:
        raise InputError(
            "--github-output: $GITHUB_OUTPUT is not set, so this is not a GitHub Actions step.",
            hint="Leave the option out to print the token on standard output instead.",
        )
    return Path(path)


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
