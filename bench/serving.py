"""What the benchmarks that serve the web app share: a free loopback port, the environment of a
production-like server (DEBUG off, a fresh secret, local files in a throwaway folder), and one
JSON request to it from a chosen loopback address."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the caller binds it soon after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_environment(folder: Path, database_url: str, **extra: str) -> dict[str, str]:
    """This process's environment with the settings of a served cityeval: the database, data
    and media folders under ``folder``, DEBUG off, a new secret key, loopback only, plain HTTP
    (no proxy, cookies not marked secure); ``extra`` adds or overrides settings."""
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="cityeval.web.settings",
        DATABASE_URL=database_url,
        CITYEVAL_DATA_DIR=str(folder),
        MEDIA_ROOT=str(folder / "media"),
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_COOKIES="0",
        BEHIND_PROXY="0",
        **extra,
    )


def request_json(
    port: int, source: str, method: str, path: str, body: dict | None = None, *, timeout: float = 10
) -> tuple[int, dict]:
    """(status, JSON object or {}) of one request on a new connection from the loopback address
    ``source``; raises what the connection raises (OSError, http.client.HTTPException, a bad
    JSON body's ValueError)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, (json.loads(payload) if payload.startswith(b"{") else {})
    finally:
        connection.close()


@contextmanager
def fresh_database(server: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database named ``prefix`` and a random suffix on the PostgreSQL
    server of ``server`` (a database URL), dropped afterwards (``WITH (FORCE)``: connections
    still open to it are ended)."""
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
