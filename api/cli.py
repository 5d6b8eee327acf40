"""``omnidesk serve | seed | token | schema [--check]``."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import functools
import logging
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.app import create_app
from api.auth import mint_token
from api.bootstrap import Services, embedded_mongod, open_services
from api.settings import Settings, SettingsError
from domain.identity import Role
from persistence.database import DatabaseNotUsable, ensure_replica_set, make_client
from persistence.embedded_mongod import EmbeddedMongoError
from persistence.seed import DEMO_ORG_ID, demo_principals, seed_demo

SCHEMA_FILE = Path("schema.graphql")


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class _Terminated(Exception):
    """SIGTERM: unwind, so that the embedded mongod stops before the process exits."""


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough: let the unwinding finish
    raise _Terminated


async def _check_database(url: str) -> None:
    """Refuse an unusable MongoDB before uvicorn starts: the refusal then reads as one message."""
    client = make_client(url)
    try:
        await ensure_replica_set(client)
    finally:
        await client.close()


def _serve(args: argparse.Namespace) -> int:
    settings = Settings()
    settings.hs256_secret()  # refuses a production start without a secret or JWKS, before anything runs
    if settings.workers > 1 and settings.test_clock_start is not None:
        raise SettingsError("OMNIDESK_TEST_CLOCK_START needs one worker: each would have a clock")
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The embedded mongod is started here, in the main thread and outside the ASGI lifespan:
    # its death signal follows this thread, and a failure surfaces as DatabaseNotUsable or
    # EmbeddedMongoError (a message, exit 2) rather than as uvicorn's startup traceback. Once
    # uvicorn has shut down gracefully it re-raises the SIGTERM it handled; ``_on_sigterm``
    # turns that into an exception, so the ``with`` stops mongod before the process exits.
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with embedded_mongod(settings) as url:
            asyncio.run(_check_database(url))
            if settings.workers == 1:
                announce = functools.partial(_announce, settings, host, port)
                _run_uvicorn(
                    settings, host, port, create_app(settings, mongodb_url=url, on_ready=announce)
                )
            else:
                _serve_workers(settings, url, host, port)
    except _Terminated:
        pass
    return 0


def _serve_workers(settings: Settings, url: str, host: str, port: int) -> None:
    """Several processes on one port, each a whole instance built from the environment: the demo
    is loaded once, here, so that no two workers seed at the same moment."""
    if settings.seed_demo:
        asyncio.run(_seed_if_empty(url))
    os.environ["OMNIDESK_MONGODB_URL"] = url
    os.environ["OMNIDESK_SEED_DEMO"] = "false"
    _announce(settings, host, port, None)
    _run_uvicorn(settings, host, port, "api.app:create_app", factory=True)


async def _seed_if_empty(url: str) -> None:
    async with open_services(Settings(seed_demo=True), url):
        pass


def _run_uvicorn(settings: Settings, host: str, port: int, app: Any, **options: Any) -> None:
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=settings.workers if settings.workers > 1 else None,
        ws_max_size=settings.ws_max_frame_bytes,
        ws="websockets-sansio",
        # permessage-deflate keeps two zlib streams per socket: 42 KiB each, measured
        # (bench/offers.py --no-deflate), a third of an idle desktop's memory. What it
        # saves is ~1 KB per event frame (1.1 KB -> 0.15 KB), a few KB an hour per desk.
        ws_per_message_deflate=False,
        log_level="info",
        lifespan="on",
        **options,
    )


def _announce(settings: Settings, host: str, port: int, services: Services | None) -> None:
    base = f"http://{host}:{port}"
    where = "GraphiQL at" if settings.graphiql_enabled else "GraphQL (GraphiQL off) at"
    workers = f" ({settings.workers} workers starting)" if settings.workers > 1 else ""
    _out(
        f"omnidesk is ready{workers}: {where} {base}/graphql  "
        f"(health {base}/healthz, readiness {base}/readyz)"
    )
    if not settings.is_development:
        return
    _out('Paste one of these into GraphiQL\'s headers as {"Authorization": "Bearer <token>"}:')
    now = services.clock.now() if services is not None else datetime.now(UTC)
    for label, (subject, roles) in demo_principals().items():
        token = mint_token(
            secret=settings.signing_secret(),
            subject=subject,
            org_id=DEMO_ORG_ID,
            roles=roles,
            now=now,
        )
        _out(f"  {label:<12} {token}")


def _seed(args: argparse.Namespace) -> int:
    settings = Settings(seed_demo=False)

    async def run(url: str) -> bool:
        async with open_services(settings, url) as services:
            return await seed_demo(services.runner, replace=args.replace)

    with embedded_mongod(settings) as url:
        loaded = asyncio.run(run(url))
    _out(
        "demo organization loaded"
        if loaded
        else "demo organization already present (use --replace)"
    )
    return 0


def _token(args: argparse.Namespace) -> int:
    settings = Settings()
    token = mint_token(
        secret=settings.signing_secret(),
        subject=args.user,
        org_id=args.org,
        roles=[Role(role) for role in args.role],
        now=datetime.now(UTC),
        lifetime=timedelta(minutes=args.minutes),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    _out(token)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from api.graphql.schema import sdl

    current = sdl()
    path = Path(args.path)
    if not args.check:
        path.write_text(current)
        _out(f"wrote {path}")
        return 0
    committed = path.read_text() if path.exists() else ""
    if committed == current:
        _out(f"{path} is up to date")
        return 0
    diff = difflib.unified_diff(
        committed.splitlines(keepends=True), current.splitlines(keepends=True), str(path), "code"
    )
    sys.stdout.writelines(diff)
    _out(f"\n{path} differs from the code: run `omnidesk schema` and commit it")
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omnidesk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run the API (embedded MongoDB unless OMNIDESK_MONGODB_URL)"
    )
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)

    seed = commands.add_parser("seed", help="load the demo organization")
    seed.add_argument(
        "--replace", action="store_true", help="delete and reload the demo organization"
    )
    seed.set_defaults(run=_seed)

    token = commands.add_parser(
        "token", help="mint a development token (HS256, OMNIDESK_JWT_SECRET)"
    )
    token.add_argument("--user", required=True, help="the 'sub' claim: an agent id for agents")
    token.add_argument("--org", default=DEMO_ORG_ID)
    token.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[role.value for role in Role],
        help="repeatable",
    )
    token.add_argument("--minutes", type=int, default=12 * 60)
    token.set_defaults(run=_token)

    schema = commands.add_parser(
        "schema", help="write schema.graphql, or --check that it matches the code"
    )
    schema.add_argument("--check", action="store_true")
    schema.add_argument("--path", default=str(SCHEMA_FILE))
    schema.set_defaults(run=_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (DatabaseNotUsable, EmbeddedMongoError, SettingsError) as error:
        sys.stderr.write(f"omnidesk {args.command}: {error}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
