"""``cityeval backup DIR`` and ``cityeval restore DIR``: thin wrappers over cityeval.web.ops.backup."""

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
            "new or empty. Reads the same environment as the web app."
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
            "MEDIA_ROOT that already holds data unless --force is given."
        ),
    )
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--force", action="store_true", help="replace a database and files that hold data")
    p.set_defaults(handler=_cmd_restore)


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
