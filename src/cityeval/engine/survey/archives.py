"""ODK Central's ``.csv.zip`` download, read within bounds.

ODK Central's "Download all data" gives ``<form id>.csv.zip``: the submissions CSV
``<form id>.csv``, one ``<form id>-<repeat group>.csv`` per repeat group, and the attachments
under ``media/``. Only the main CSV is read; media are never opened. The number of members and
the main CSV's unpacked size are bounded before anything is decompressed.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from cityeval.engine.errors import InputError

__all__ = ["ZIP_MAX_CSV_BYTES", "ZIP_MAX_MEMBERS", "is_xlsx", "main_csv"]

ZIP_MAX_MEMBERS = 10_000
ZIP_MAX_CSV_BYTES = 50 * 2**20  # a national survey's form export is a few MB


def is_xlsx(data: bytes) -> bool:
    """An XLSX (any OOXML package) names its parts in ``[Content_Types].xml``; a bare zip of
    CSVs (ODK Central's download) does not. A zip that cannot be opened goes to the
    spreadsheet reader, which says it is not readable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "[Content_Types].xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return True


def main_csv(data: bytes, *, max_members: int = ZIP_MAX_MEMBERS, max_bytes: int = ZIP_MAX_CSV_BYTES) -> bytes:
    """The submissions CSV of an ODK Central ``.csv.zip``.

    The zip holds ``<form>.csv`` (one row per submission), ``<form>-<repeat>.csv`` per repeat
    group and ``media/`` attachments. The main CSV is the top-level one whose name, without
    ``.csv``, every other top-level CSV's name starts with (followed by ``-``). Raises
    :class:`InputError` for a zip with more than ``max_members`` files, a main CSV that unpacks
    to more than ``max_bytes``, no single main CSV, or a damaged zip.
    """
    try:
        return _main_csv(data, max_members=max_members, max_bytes=max_bytes)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as exc:
        # Damaged, encrypted or oddly compressed. Python's zip reader never reads past a
        # member's declared size, so a member that lies about its size ends here too.
        message = f"the zip is damaged or unreadable ({exc})"
        raise InputError(message, code="zip_damaged", params={"detail": str(exc)}) from None


def _main_csv(data: bytes, *, max_members: int, max_bytes: int) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > max_members:
            raise InputError(
                f"the zip holds {len(members)} files, more than the limit of {max_members}",
                code="zip_too_many_files",
                params={"found": len(members), "allowed": max_members},
            )
        csvs = [m for m in members if "/" not in m.filename and m.filename.lower().endswith(".csv")]
        stems = {m.filename[:-4]: m for m in csvs}
        main = [m for stem, m in stems.items() if all(o == stem or o.startswith(stem + "-") for o in stems)]
        if len(main) != 1:
            names = ", ".join(sorted(stems)) or "none"
            raise InputError(
                f"the zip is not an ODK Central export: it needs one main CSV (its CSV files: {names}); "
                "upload the CSV itself or the zip as ODK Central downloads it",
                code="zip_not_odk",
                params={"files": ", ".join(sorted(stems)) or "–"},
            )
        member = main[0]
        limit = f"{max_bytes // 2**20} MB" if max_bytes >= 2**20 else f"{max_bytes} bytes"
        refusal = f"{member.filename} in the zip unpacks to more than the limit of {limit}"
        if member.file_size > max_bytes:
            raise InputError(
                refusal, code="zip_csv_too_large", params={"file": member.filename, "limit": limit}
            )
        with archive.open(member) as stream:
            return stream.read(max_bytes)
