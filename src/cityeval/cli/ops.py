"""``cityeval backup DIR``, ``cityeval restore DIR`` (thin wrappers over cityeval.web.ops.backup) and
``cityeval worker`` (cityeval.web.jobs.worker)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def add_ops_commands(commands: Any) -> None:
    p = commands.add_parser(
        "backup",
        help="back up the database and the stored files into a new folder",
        description=(
            "Write the database dump (SQLite backup API or pg_dump), a copy of every file under "
            "MEDIA_ROOT and manifest.json (sizes and SHA-256 checksums) into DIR, which must be "
            "new or empty. Reads the same environment as the web app. Local file storage only: "
            "with STORAGE_BACKEND=s3 it refuses, and the bucket is backed up with the storage "
            "provider's tools (docs/deployment.md)."
        ),
    )
    p.add_argument("directory", metavar="DIR")
    p.set_defaults(handler=_cmd_backup)

    p = commands.add_parser(
        "restore",
        help="restore the database and the stored files from a backup folder",
        description=(
            "Check every checksum in DIR/manifest.json, then restore the database and the files "
            "under MEDIA_ROOT. Refuses a backup of another database vendor, and a database or "
            "MEDIA_ROOT that already holds data unless --force is given. Local file storage "
            "only, as for backup."
        ),
    )
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--force", action="store_true", help="replace a database and files that hold data")
    p.set_defaults(handler=_cmd_restore)

    p = commands.add_parser(
        "worker",
        help="run the background-job worker (whole-cycle letters)",
        description=(
            "Run queued background jobs until stopped (SIGTERM or Ctrl+C let the job at hand "
            "finish; a second one stops at once). Jobs whose worker died are queued again. "
            "Reads the same environment as the web app."
        ),
    )
    p.add_argument("--interval", type=float, default=1.0, help="seconds between looks at an empty queue")
    p.add_argument("--batch", action="store_true", help="run what is queued, then stop")
    p.set_defaults(handler=_cmd_worker)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityeval.web.settings")
    import django

    django.setup()


def _cmd_backup(args: argparse.Namespace) -> int:
    _setup()
    from cityeval.web.ops.backup import backup_create

    manifest = backup_create(target=Path(args.directory))
    size = manifest["database"]["size"] + sum(f["size"] for f in manifest["files"])
    print(
        f"backup written to {args.directory}: {manifest['database']['vendor']} database, "
        f"{len(manifest['files'])} files, {size} bytes"
    )
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    _setup()
    from cityeval.web.ops.backup import backup_restore

    restored = backup_restore(source=Path(args.directory), force=args.force)
    print(
        f"restored from {args.directory}: database ({restored.migrations} migrations), "
        f"{restored.files} files ({restored.bytes} bytes)"
    )
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    from cityeval.web.jobs.worker import run_worker

    run_worker(interval=args.interval, batch=args.batch)
    return 0
