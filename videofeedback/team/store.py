"""The object store: conditional writes, ranged reads and resumable uploads over S3.

Every call goes through boto3 (imported on first use: the command line stays fast), and
every failure becomes one of the errors in ``errors.py`` with what to do next. Objects
that never change are written with ``If-None-Match: *``; the few mutable pointers move by
compare-and-swap (``If-Match``). docs/FORMAT.md §12 says which is which.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from encryption import atomic_file

from .errors import (
    StoreAccessError,
    StoreConflictError,
    StoreError,
    StoreFullError,
    StoreNotFoundError,
    StoreUnreachableError,
)

S3Client = Any  # boto3's client is generated at run time; no stubs are installed

MIB = 1024 * 1024
PART_SIZE = 16 * MIB  # S3's floor is 5 MiB per part (but the last)
UPLOAD_THREADS = 4

_CONFLICT = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
_MISSING = {"NoSuchKey", "404", "NotFound", "NoSuchUpload"}
_ACCESS = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "NoSuchBucket"}
_FULL = {"QuotaExceeded", "EntityTooLarge", "InsufficientStorage", "507", "XMinioStorageFull"}


@dataclass(frozen=True)
class StoreLocation:
    endpoint: str
    bucket: str
    prefix: str = ""

    def key(self, name: str) -> str:
        prefix = self.prefix.strip("/")
        return f"{prefix}/{name}" if prefix else name


@dataclass(frozen=True)
class StoreCredentials:
    access_key: str
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    size: int
    etag: str


_SESSION_LOCK = threading.Lock()
_SESSION: list[Any] = []  # one boto3 session for the process, made on first use


def _client(location: StoreLocation, credentials: StoreCredentials, timeout: float) -> S3Client:
    """A client of its own for each store (clients are thread-safe); made from one shared
    boto3 session under a lock (a session is not), because a new session reads botocore's
    service models again: 86 ms of CPU a client instead of 3 ms, for every sync."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout,
        read_timeout=max(timeout, 30.0),
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"},
        max_pool_connections=UPLOAD_THREADS * 2,
    )
    with _SESSION_LOCK:
        if not _SESSION:
            _SESSION.append(boto3.session.Session())
        return _SESSION[0].client(
            "s3",
            endpoint_url=location.endpoint,
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            region_name="us-east-1",
            config=config,
        )


class S3Store:
    """One bucket (and prefix) of an S3 API with conditional writes."""

    def __init__(
        self, location: StoreLocation, credentials: StoreCredentials, timeout: float = 10.0
    ) -> None:
        self.location = location
        self._credentials = credentials
        self._timeout = timeout
        self._s3: S3Client | None = None

    @property
    def s3(self) -> S3Client:
        if self._s3 is None:
            self._s3 = _client(self.location, self._credentials, self._timeout)
        return self._s3

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        """Run one S3 call; translate its failure into the project's errors."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except ClientError as exc:
            raise _translate(exc, what, self.location) from None
        except BotoCoreError as exc:
            raise StoreUnreachableError(
                f"the team store at {self.location.endpoint} cannot be reached ({exc}); "
                "your work stays on this laptop and goes up at the next sync"
            ) from None

    # --- the bucket ------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the bucket if it is not there (an admin's first `team init`)."""
        try:
            self._call("bucket", lambda: self.s3.head_bucket(Bucket=self.location.bucket))
        except (StoreAccessError, StoreNotFoundError):
            self._call("bucket", lambda: self.s3.create_bucket(Bucket=self.location.bucket))

    def check(self) -> None:
        """Raise if the store cannot be reached or refuses us; return quietly otherwise."""
        self._call("bucket", lambda: self.s3.head_bucket(Bucket=self.location.bucket))

    # --- whole objects ---------------------------------------------------------------------

    def put_new(self, name: str, data: bytes) -> str:
        """Write an object that must not exist yet (``If-None-Match: *``); its ETag."""
        return self._put(name, data, {"IfNoneMatch": "*"})

    def put_if(self, name: str, data: bytes, etag: str | None) -> str:
        """Compare-and-swap: replace the object only if it still has ``etag``
        (``None``: only if there is none). A lost race raises ``StoreConflictError``."""
        condition = {"IfNoneMatch": "*"} if etag is None else {"IfMatch": etag}
        return self._put(name, data, condition)

    def _put(self, name: str, data: bytes, condition: dict[str, str]) -> str:
        key, bucket = self.location.key(name), self.location.bucket
        reply = self._call(
            name, lambda: self.s3.put_object(Bucket=bucket, Key=key, Body=data, **condition)
        )
        return str(reply["ETag"])

    def get(self, name: str, start: int | None = None, end: int | None = None) -> bytes:
        """The object's bytes, or bytes ``start`` to ``end`` (exclusive)."""
        extra: dict[str, str] = {}
        if start is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        key = self.location.key(name)
        reply = self._call(
            name, lambda: self.s3.get_object(Bucket=self.location.bucket, Key=key, **extra)
        )
        return bytes(reply["Body"].read())

    def get_with_etag(self, name: str) -> tuple[bytes, str]:
        key = self.location.key(name)
        reply = self._call(name, lambda: self.s3.get_object(Bucket=self.location.bucket, Key=key))
        return bytes(reply["Body"].read()), str(reply["ETag"])

    def head(self, name: str) -> ObjectInfo | None:
        key = self.location.key(name)
        try:
            reply = self._call(
                name, lambda: self.s3.head_object(Bucket=self.location.bucket, Key=key)
            )
        except StoreNotFoundError:
            return None
        return ObjectInfo(name, int(reply["ContentLength"]), str(reply["ETag"]))

    def delete(self, name: str) -> None:
        key = self.location.key(name)
        self._call(name, lambda: self.s3.delete_object(Bucket=self.location.bucket, Key=key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose name starts with ``prefix``, in name order."""
        strip = len(self.location.key(""))
        paginator = self.s3.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.location.bucket, Prefix=self.location.key(prefix))
        for page in self._call(prefix or "listing", lambda: list(pages)):
            for item in page.get("Contents", []):
                yield ObjectInfo(item["Key"][strip:], int(item["Size"]), str(item["ETag"]))

    # --- large objects, resumable ------------------------------------------------------------

    def upload_file(
        self,
        name: str,
        path: Path,
        state_path: Path,
        progress: Callable[[int, int], None] | None = None,
        part_size: int = PART_SIZE,
    ) -> str:
        """Upload a (ciphertext) file that must not exist yet, in parts, resuming an
        upload that was cut off: ``state_path`` remembers the upload between runs. The
        object appears whole or not at all (S3 completes a multipart upload atomically)."""
        size = path.stat().st_size
        if size <= part_size:
            try:
                return self.put_new(name, path.read_bytes())
            except StoreConflictError:
                return self._already_there(name, path, part_size)
        upload = ResumableUpload(self, name, path, state_path, part_size)
        return upload.run(progress)

    def _already_there(self, name: str, path: Path, part_size: int) -> str:
        """A write-once object exists: fine if it is this very file (a retried upload)."""
        info = self.head(name)
        if info is not None and info.etag.strip('"') == expected_etag(path, part_size):
            return info.etag
        raise StoreConflictError(
            f"the store already holds a different object named {name}; nothing was replaced"
        )


def _translate(exc: Any, what: str, location: StoreLocation) -> StoreError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    if code in _CONFLICT or status == "412":
        return StoreConflictError(f"{what} changed in the store meanwhile (a lost race)")
    if code in _MISSING or status == "404":
        return StoreNotFoundError(f"the store has no {what}")
    if code in _FULL or status == "507":
        return StoreFullError(
            f"the team store refused to take {what}: it is full or over its quota ({code}); "
            "your local copy is kept; ask the store's administrator for space, then sync again"
        )
    if code in _ACCESS or status == "403":
        return StoreAccessError(
            f"the team store refused access to bucket {location.bucket!r} ({code}); "
            "check the remote's keys with 'videofeedback remote add' again"
        )
    return StoreError(f"the team store failed on {what} ({code or status}: {error.get('Message')})")


def expected_etag(path: Path, part_size: int) -> str:
    """The ETag S3 gives ``path`` uploaded by ``upload_file``: MD5 of the bytes for one
    part, else MD5 of the parts' MD5s and ``-N``."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        if size <= part_size:
            return hashlib.md5(file.read(), usedforsecurity=False).hexdigest()
        digests = [
            hashlib.md5(chunk, usedforsecurity=False).digest()
            for chunk in iter(lambda: file.read(part_size), b"")
        ]
    whole = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    return f"{whole}-{len(digests)}"


class ResumableUpload:
    """A multipart upload whose id and size are kept in a small state file (no names of
    people: the object name is opaque), so a killed process resumes where it stopped."""

    def __init__(
        self, store: S3Store, name: str, path: Path, state_path: Path, part_size: int
    ) -> None:
        self.store = store
        self.name = name
        self.path = path
        self.state_path = state_path
        self.part_size = part_size
        self.size = path.stat().st_size
        self.parts = -(-self.size // part_size)

    @property
    def _key(self) -> str:
        return self.store.location.key(self.name)

    def run(self, progress: Callable[[int, int], None] | None) -> str:
        if self._read_state() is not None and self.store.head(self.name) is not None:
            # killed after the store completed the upload, before the state was removed
            etag = self.store._already_there(self.name, self.path, self.part_size)
            self.state_path.unlink(missing_ok=True)
            return etag
        upload_id = self._resume_or_start()
        done = self._uploaded_parts(upload_id)
        sent = sum(min(self.part_size, self.size - (n - 1) * self.part_size) for n in done)
        if progress:
            progress(sent, self.size)
        todo = [n for n in range(1, self.parts + 1) if n not in done]
        with ThreadPoolExecutor(UPLOAD_THREADS) as pool, open(self.path, "rb") as file:
            fd = file.fileno()
            for number, etag, length in pool.map(lambda n: self._send(upload_id, fd, n), todo):
                done[number] = etag
                sent += length
                if progress:
                    progress(sent, self.size)
        return self._complete(upload_id, done)

    def _resume_or_start(self) -> str:
        state = self._read_state()
        if state and state.get("size") == self.size and state.get("part") == self.part_size:
            return str(state["upload"])
        s3, bucket = self.store.s3, self.store.location.bucket
        reply = self.store._call(
            self.name, lambda: s3.create_multipart_upload(Bucket=bucket, Key=self._key)
        )
        upload_id = str(reply["UploadId"])
        state = {"name": self.name, "upload": upload_id, "size": self.size, "part": self.part_size}
        self.state_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with atomic_file(self.state_path) as out:
            out.write(json.dumps(state).encode())
        return upload_id

    def _read_state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] = json.loads(self.state_path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return state if state.get("name") == self.name else None

    def _uploaded_parts(self, upload_id: str) -> dict[int, str]:
        """The parts already in the store whose ETag is the MD5 of our bytes there
        (a part cut off half-way is never listed; a wrong one is sent again)."""
        s3, bucket = self.store.s3, self.store.location.bucket
        try:
            pages = s3.get_paginator("list_parts").paginate(
                Bucket=bucket, Key=self._key, UploadId=upload_id
            )
            listed = self.store._call(self.name, lambda: list(pages))
        except StoreNotFoundError:  # the store forgot the upload: start again
            self.state_path.unlink(missing_ok=True)
            return self._uploaded_parts(self._resume_or_start())
        done: dict[int, str] = {}
        with open(self.path, "rb") as file:
            for page in listed:
                for part in page.get("Parts", []):
                    number, etag = int(part["PartNumber"]), str(part["ETag"])
                    data = os.pread(file.fileno(), self.part_size, (number - 1) * self.part_size)
                    if etag.strip('"') == hashlib.md5(data, usedforsecurity=False).hexdigest():
                        done[number] = etag
        return done

    def _send(self, upload_id: str, fd: int, number: int) -> tuple[int, str, int]:
        data = os.pread(fd, self.part_size, (number - 1) * self.part_size)
        s3, bucket = self.store.s3, self.store.location.bucket
        reply = self.store._call(
            self.name,
            lambda: s3.upload_part(
                Bucket=bucket, Key=self._key, UploadId=upload_id, PartNumber=number, Body=data
            ),
        )
        return number, str(reply["ETag"]), len(data)

    def _complete(self, upload_id: str, done: dict[int, str]) -> str:
        s3, bucket = self.store.s3, self.store.location.bucket
        parts = [{"PartNumber": n, "ETag": done[n]} for n in sorted(done)]
        try:
            reply = self.store._call(
                self.name,
                lambda: s3.complete_multipart_upload(
                    Bucket=bucket,
                    Key=self._key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                    IfNoneMatch="*",
                ),
            )
            etag = str(reply["ETag"])
        except StoreConflictError:
            etag = self.store._already_there(self.name, self.path, self.part_size)
        self.state_path.unlink(missing_ok=True)
        return etag
