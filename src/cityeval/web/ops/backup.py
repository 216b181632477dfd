"""``cityeval backup DIR`` and ``cityeval restore DIR``: the database and the stored files.

A backup folder holds the database dump, a copy of every file under ``MEDIA_ROOT`` in
``media/``, and ``manifest.json`` (written last, so a folder without it is an unfinished
backup): format, time, cityeval version, database vendor, applied migrations, and the size and
SHA-256 of the dump and of every file.

The dump uses each database's own tool, the one an operator already trusts and can use by
hand: SQLite's online backup API (a consistent copy while the site runs) and PostgreSQL's
``pg_dump --format=custom`` / ``pg_restore``. Django's dumpdata/loaddata would be one portable
path, but it loads row by row through the models (slow at national size), does not carry
sequences, and a partial load is easy to get wrong.

Restore checks every size and checksum before touching anything, refuses a dump from another
database vendor, a dump with migrations this version does not know, and (without ``force``) a
target that already holds data or files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from cityeval import __version__
from cityeval.engine import CityevalError

MANIFEST = "manifest.json"
FORMAT = 1
MEDIA = "media"
DUMP_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# Tables migrate fills by itself: a freshly migrated database counts as empty.
BOOKKEEPING_TABLES = {"django_migrations", "django_content_type", "auth_permission"}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024


class BackupError(CityevalError):
    """A backup or restore that cannot go ahead; nothing was changed."""


@dataclass(frozen=True)
class Restored:
    files: int
    bytes: int
    migrations: int


# --- backup ------------------------------------------------------------------------------------


def backup_create(*, target: Path) -> dict[str, Any]:
    """Write a backup of the database and of MEDIA_ROOT into ``target`` (new or empty)."""
    vendor = _vendor()
    media_root = _media_root()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty folder: back up into a new folder")
    target.mkdir(parents=True, exist_ok=True)
    dump = target / DUMP_FILES[vendor]
    if vendor == "sqlite":
        _sqlite_copy(Path(connection.settings_dict["NAME"]), dump)
    else:
        _pg_run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump))
    files = []
    if media_root.is_dir():
        for path in sorted(p for p in media_root.rglob("*") if p.is_file()):
            relative = path.relative_to(media_root).as_posix()
            copy = target / MEDIA / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            files.append({"path": relative, **_digest(copy)})
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cityeval_version": __version__,
        "database": {"vendor": vendor, "file": dump.name, **_digest(dump)},
        "migrations": sorted(
            f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()
        ),
        "files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _sqlite_copy(source: Path, destination: Path) -> None:
    """A consistent copy of a live SQLite database (its online backup API)."""
    if str(source) in ("", ":memory:") or not source.is_file():
        raise BackupError("the SQLite database is not a file")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(destination)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


# --- restore -----------------------------------------------------------------------------------


def backup_restore(*, source: Path, force: bool = False) -> Restored:
    """Restore the database and the stored files from the backup in ``source``."""
    manifest = backup_verify(source=source)
    vendor = _vendor()
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            f"the backup is of a {manifest['database']['vendor']} database, this site uses {vendor}"
        )
    unknown = set(manifest["migrations"]) - _known_migrations()
    if unknown:
        raise BackupError(
            f"the backup has {len(unknown)} migrations this version does not know "
            f"(e.g. {sorted(unknown)[0]}): install the cityeval version that made it"
        )
    media_root = _media_root()
    if not force:
        if _database_has_data():
            raise BackupError("the database already holds data: restore into an empty one, or use --force")
        if media_root.is_dir() and any(p.is_file() for p in media_root.rglob("*")):
            raise BackupError(f"{media_root} already holds files: empty it, or use --force")
    dump = source / manifest["database"]["file"]
    connection.close()  # the dump replaces what this connection would see
    if vendor == "sqlite":
        _sqlite_copy(dump, Path(connection.settings_dict["NAME"]))
    else:
        _pg_run(
            "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
            "--single-transaction", "--exit-on-error",
            "--dbname", connection.settings_dict["NAME"], str(dump),
        )  # fmt: skip
    total = 0
    for entry in manifest["files"]:
        destination = media_root / entry["path"]
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".restoring")
        shutil.copy2(source / MEDIA / entry["path"], partial)
        os.replace(partial, destination)
        total += entry["size"]
    return Restored(files=len(manifest["files"]), bytes=total, migrations=len(manifest["migrations"]))


def backup_verify(*, source: Path) -> dict[str, Any]:
    """The backup's manifest, once every listed file is present with its size and SHA-256."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} has no {MANIFEST}: not a backup, or an unfinished one") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{source / MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST} is not a cityeval backup manifest of format {FORMAT}")
    database, files, migrations = (manifest.get(key) for key in ("database", "files", "migrations"))
    if (
        not isinstance(database, dict)
        or (database.get("vendor"), database.get("file")) not in DUMP_FILES.items()
    ):
        raise BackupError("the manifest names no known database dump")
    if not isinstance(files, list) or not all(isinstance(entry, dict) for entry in files):
        raise BackupError("the manifest's file list is not a list of entries")
    if not isinstance(migrations, list) or not all(isinstance(name, str) for name in migrations):
        raise BackupError("the manifest's migration list is not a list of names")
    listed = [(source / database["file"], database)]
    for entry in files:
        listed.append((source / MEDIA / _safe_relative(entry.get("path")), entry))
    for path, entry in listed:
        if not _SHA256.fullmatch(str(entry.get("sha256"))) or not isinstance(entry.get("size"), int):
            raise BackupError(f"the manifest entry for {path.name} has no valid size and checksum")
        if not path.is_file():
            raise BackupError(f"{path} is missing from the backup")
        if _digest(path) != {"sha256": entry["sha256"], "size": entry["size"]}:
            raise BackupError(f"{path} does not match its checksum in the manifest: the backup is damaged")
    return manifest


def _safe_relative(value: object) -> str:
    """A manifest path that stays inside the backup and MEDIA_ROOT."""
    path = PurePosixPath(str(value))
    if not isinstance(value, str) or not value or path.is_absolute() or ".." in path.parts or "\\" in value:
        raise BackupError(f"the manifest lists an unsafe file path: {value!r}")
    return value


def _database_has_data() -> bool:
    tables = set(connection.introspection.django_table_names(only_existing=True)) - BOOKKEEPING_TABLES
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
            if cursor.fetchone() is not None:
                return True
    return False


def _known_migrations() -> set[str]:
    return {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).graph.nodes}


# --- shared ------------------------------------------------------------------------------------


def _vendor() -> str:
    if connection.vendor not in DUMP_FILES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}")
    return connection.vendor


def _media_root() -> Path:
    if not isinstance(default_storage, FileSystemStorage):
        raise BackupError(
            "stored files are in object storage (STORAGE_BACKEND=s3), and cityeval backup and restore handle "
            "only local files (MEDIA_ROOT): back up the bucket with the storage provider's own "
            "tools (versioning, replication or a bucket copy such as `aws s3 sync`) and the "
            "database with pg_dump (docs/deployment.md, 'Object storage')"
        )
    return Path(settings.MEDIA_ROOT)


def _digest(path: Path) -> dict[str, Any]:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
    return {"sha256": sha.hexdigest(), "size": path.stat().st_size}


def _pg_run(tool: str, *arguments: str) -> None:
    """Run pg_dump or pg_restore against the configured database; its password goes through
    the environment, never the command line."""
    db = connection.settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"], "PGPASSWORD": str(db.get("PASSWORD") or "")}
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if db.get(key):
            env[variable] = str(db[key])
    if sslmode := (db.get("OPTIONS") or {}).get("sslmode"):
        env["PGSSLMODE"] = sslmode
    done = subprocess.run([_pg_tool(tool), *arguments], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{tool} failed: {last}")


def _pg_tool(tool: str) -> str:
    """The PostgreSQL client tool of the server's major version or newer (older ones refuse)."""
    connection.ensure_connection()
    server = connection.pg_version // 10000  # type: ignore[attr-defined]
    candidates = [Path(f"/usr/lib/postgresql/{server}/bin/{tool}")]
    if found := shutil.which(tool):
        candidates.append(Path(found))
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"), reverse=True)
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK) and _major(path) >= server:
            return str(path)
    raise BackupError(
        f"{tool} for PostgreSQL {server} or newer not found: install postgresql-client-{server}"
    )


def _major(tool: Path) -> int:
    done = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", done.stdout)  # "pg_dump (PostgreSQL) 15.10 (Debian …)"
    return int(match.group(1)) if match else 0
