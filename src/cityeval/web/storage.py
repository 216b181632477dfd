"""Where stored files live: local files (the default) or an S3-compatible bucket.

``STORAGE_BACKEND=s3`` puts evidence, KKPD receipts and job outputs (letters, exports) in a
bucket through django-storages' S3 backend (decision record 0007). Objects stay private: every
download is streamed through a Django view that checks access first, so no object is ever given
a public or signed address.

One thing the S3 backend does not do by itself: keep an existing object. With
``file_overwrite=False`` it asks whether a name is taken (a HEAD request) and then uploads, so two
writers racing for one name both upload and the second replaces the first. :class:`ObjectStorage`
makes the upload itself conditional (``If-None-Match: *``, which the server refuses with 412 when
the name exists) and, when refused, picks another name as Django's local storage does when its
exclusive create fails. Evidence is stored under its SHA-256, so this keeps the promise that an
object, once written, is never replaced.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from storages.backends.s3 import S3Storage
from storages.utils import ReadBytesWrapper, clean_name

# Attempts at a free name before giving up; each refused one means another writer won a race.
NAME_ATTEMPTS = 10


class ObjectStorage(S3Storage):
    """django-storages' S3 storage whose uploads never replace an existing object."""

    def _save(self, name: str, content: File) -> str:
        """Store ``content``; a failure of the server or the connection is an OSError, as it is
        for local files, so callers handle both storages alike."""
        try:
            if self.file_overwrite:
                return str(super()._save(name, content))
            return self._save_new(name, content)
        except (BotoCoreError, ClientError) as err:
            raise OSError(f"object storage could not store {name!r} in {self.bucket_name!r}: {err}") from err

    def _save_new(self, name: str, content: File) -> str:
        for _attempt in range(NAME_ATTEMPTS):
            try:
                return self._put_new(name, content)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "PreconditionFailed":
                    raise
            name = self.get_available_name(name)  # the name is taken now: a new suffix
        raise FileExistsError(f"no free name for {name!r} after {NAME_ATTEMPTS} attempts")

    def _put_new(self, name: str, content: File) -> str:
        """Upload ``content`` under ``name`` only if no object has that name (one request)."""
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params: dict[str, Any] = self._get_write_parameters(key, content)
        content.seek(0)
        self.bucket.Object(key).put(Body=ReadBytesWrapper(content), IfNoneMatch="*", **params)
        return str(cleaned)


def object_storage_options(
    *, bucket: str, endpoint_url: str, region: str, prefix: str, addressing_style: str
) -> dict[str, Any]:
    """The S3 backend's OPTIONS for STORAGES["default"]: private objects, no overwriting, no
    addresses handed out. Credentials are not among them: boto3 reads them itself (see
    docs/deployment.md), so no secret passes through the settings."""
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "addressing_style": addressing_style or None,  # None: boto3 chooses
        "location": prefix.strip("/"),
        "file_overwrite": False,
        "default_acl": None,  # the bucket's own default: private
        "querystring_auth": True,  # a URL, if ever made, would be signed and expire
    }
