"""The shared files backend: an S3-compatible bucket (AWS S3, MinIO, Ceph, ...) through boto3.

Objects are named ``<prefix><key>``: the same server-made keys as the folder backend, checked against the
same pattern. Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, an instance role, ...); the endpoint from ``--s3-endpoint-url`` (none: AWS itself).

Writes are streamed from the source and never read whole: a file up to :attr:`S3FileStore.part_size` is one
PUT, a larger one a multipart upload whose parts are read one after the other as windows onto the source
(a seekable source is never copied into memory; another is read one part at a time). An object appears
whole or not at all (S3 makes it visible when its PUT or its multipart upload completes); a failed
multipart upload is aborted, and one that a crash interrupted is listed by :meth:`S3FileStore.sweep_incomplete`
(``photoservice fsck`` aborts it once older than the grace period). Reads are ranged GETs.
"""

from __future__ import annotations

import io
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import boto3
import botocore.config
import botocore.exceptions

from .files import MEDIA_TYPES, FileStore, FileStoreError, StoredFile, check_key, valid_key

__all__ = ["S3FileStore"]

_MiB = 1024 * 1024
_PROBE_PREFIX = ".probe-"


class _Slice(io.RawIOBase):
    """``length`` bytes of a seekable source from ``start``, itself seekable (botocore rewinds a body to
    retry or after checksumming it), read in place: nothing is copied into memory beyond a read's size."""

    def __init__(self, source: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._source = source
        self._start = start
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = min(max(0, base + offset), self._length)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        left = self._length - self._pos
        n = left if size is None or size < 0 else min(size, left)
        if n <= 0:
            return b""
        self._source.seek(self._start + self._pos)
        data = self._source.read(n)
        if len(data) != n:
            raise FileStoreError(f"the source ended {n - len(data)} bytes early")
        self._pos += n
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __len__(self) -> int:
        return self._length


def _not_found(exc: botocore.exceptions.ClientError) -> bool:
    error = exc.response.get("Error", {})
    return str(error.get("Code")) in ("404", "NoSuchKey", "NotFound")


class S3FileStore(FileStore):
    """Files as objects of ``bucket`` under ``prefix`` (``""``, or a path such as ``"photos/"``).

    ``endpoint_url``: an S3-compatible server (MinIO, Ceph, moto, ...), addressed path-style; None for
    AWS. ``client``: a ready boto3 S3 client instead (tests, special set-ups). ``part_size``: files larger
    than this are uploaded in parts of this size (at least 5 MiB, S3's smallest part).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        client: Any = None,
        part_size: int = 8 * _MiB,
        max_connections: int = 32,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is needed")
        if part_size < 5 * _MiB:
            raise ValueError("part_size must be at least 5 MiB (S3's smallest part)")
        self.bucket = bucket
        self.prefix = prefix.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        self.endpoint_url = endpoint_url
        self.part_size = part_size
        self._config = botocore.config.Config(
            max_pool_connections=max_connections,
            connect_timeout=10,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 5},
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        self._client = client if client is not None else _new_client(endpoint_url, self._config)
        self._client_pid = os.getpid()

    @property
    def client(self) -> Any:
        """The boto3 S3 client of this process (a forked child makes its own: HTTP connections are not
        shared between processes)."""
        if self._client_pid != os.getpid():
            self._client = _new_client(self.endpoint_url, self._config)
            self._client_pid = os.getpid()
        return self._client

    def _object(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _fail(self, what: str, key: str, exc: Exception) -> FileStoreError:
        return FileStoreError(f"cannot {what} {key} in s3://{self.bucket}/{self.prefix}: {exc}")

    # ------------------------------------------------------------------ writing
    def put(self, key: str, source: BinaryIO, size: int) -> None:
        name = self._object(key)
        content_type = MEDIA_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
        seekable = _seekable(source)
        start = source.tell() if seekable else 0
        if seekable:
            end = source.seek(0, io.SEEK_END)
            source.seek(start)
            if end - start != size:
                raise FileStoreError(f"cannot write {key}: expected {size} bytes, the source holds {end - start}")
        try:
            if size <= self.part_size:
                body = _Slice(source, start, size) if seekable else io.BytesIO(_read_exactly(source, size, True))
                self.client.put_object(
                    Bucket=self.bucket, Key=name, Body=body, ContentLength=size, ContentType=content_type
                )
            else:
                self._put_in_parts(name, source, start, size, seekable, content_type)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._fail("write", key, exc) from exc

    def _put_in_parts(
        self, name: str, source: BinaryIO, start: int, size: int, seekable: bool, content_type: str
    ) -> None:
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=name, ContentType=content_type)[
            "UploadId"
        ]
        try:
            parts = []
            for number, offset in enumerate(range(0, size, self.part_size), start=1):
                length = min(self.part_size, size - offset)
                body = (
                    _Slice(source, start + offset, length)
                    if seekable
                    else io.BytesIO(_read_exactly(source, length, offset + length == size))
                )
                etag = self.client.upload_part(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=body, ContentLength=length
                )["ETag"]
                parts.append({"PartNumber": number, "ETag": etag})
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            except Exception:  # noqa: BLE001 - the first error matters; fsck aborts what is left
                pass
            raise

    # ------------------------------------------------------------------ reading
    def open(self, key: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        name = self._object(key)
        if length == 0:
            self.stat(key)  # FileNotFoundError as for any other read
            return io.BytesIO(b"")
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": name}
        if offset or length is not None:
            args["Range"] = f"bytes={offset}-" + (str(offset + length - 1) if length is not None else "")
        with self._reading("read", key):
            body = self.client.get_object(**args)["Body"]
        return body  # type: ignore[no-any-return]  # botocore's StreamingBody: read(n), close()

    def stat(self, key: str) -> StoredFile:
        name = self._object(key)
        with self._reading("stat", key):
            head = self.client.head_object(Bucket=self.bucket, Key=name)
        return StoredFile(key, int(head["ContentLength"]), head["LastModified"].timestamp(), head["ETag"])

    @contextmanager
    def _reading(self, what: str, key: str) -> Iterator[None]:
        """S3's "no such key" as FileNotFoundError, its other errors as FileStoreError."""
        try:
            yield
        except botocore.exceptions.ClientError as exc:
            if _not_found(exc):
                raise FileNotFoundError(key) from exc
            raise self._fail(what, key, exc) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise self._fail(what, key, exc) from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._object(key))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._fail("delete", key, exc) from exc

    # ------------------------------------------------------------------ maintenance
    def list_files(self) -> Iterator[StoredFile]:
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    key = item["Key"][len(self.prefix) :]
                    if valid_key(key):
                        yield StoredFile(key, int(item["Size"]), item["LastModified"].timestamp(), item["ETag"])
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._fail("list", "the files", exc) from exc

    def sweep_incomplete(self, started_before: float, remove: bool) -> list[str]:
        found = []
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for upload in page.get("Uploads", ()):
                    key = upload["Key"][len(self.prefix) :]
                    if not valid_key(key) or upload["Initiated"].timestamp() >= started_before:
                        continue  # not ours, or may be an upload in progress
                    if remove:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                    found.append(f"{key} (multipart upload {upload['UploadId']})")
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._fail("list", "the unfinished uploads", exc) from exc
        return found

    def check_writable(self) -> None:
        probe = f"{self.prefix}{_PROBE_PREFIX}{secrets.token_hex(4)}"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"ok")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise FileStoreError(f"the bucket s3://{self.bucket}/{self.prefix} is not writable: {exc}") from exc

    def __repr__(self) -> str:
        return f"S3FileStore('s3://{self.bucket}/{self.prefix}', endpoint_url={self.endpoint_url!r})"


_session: boto3.session.Session | None = None
_session_lock = threading.Lock()


def _new_client(endpoint_url: str | None, config: botocore.config.Config) -> Any:
    """An S3 client (thread-safe once made). Made from one shared boto3 session, which caches the service
    description that a new session would load again (~0.2 s); sessions are not thread-safe, hence the lock."""
    global _session
    with _session_lock:
        if _session is None:
            _session = boto3.session.Session()
        return _session.client("s3", endpoint_url=endpoint_url, config=config)


def _seekable(source: BinaryIO) -> bool:
    try:
        return bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _read_exactly(source: BinaryIO, n: int, last: bool) -> bytes:
    """``n`` bytes of a stream that cannot seek (one part at most); FileStoreError when it ends early or,
    for the ``last`` part, goes on past them."""
    data = source.read(n)
    while len(data) < n:
        more = source.read(n - len(data))
        if not more:
            raise FileStoreError(f"the source ended {n - len(data)} bytes early")
        data += more
    if last and source.read(1):
        raise FileStoreError("the source holds more bytes than its stated size")
    return data
