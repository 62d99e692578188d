"""A binary stream that is an S3 multipart upload: what is written goes up in parts as it comes.

``ParquetWriter`` writes the export into it a row group at a time; every :data:`PART_BYTES` the
buffered bytes become one part, uploaded by a background thread while the export goes on. The
object never sits whole in memory or on disk: at most the part being filled and
:data:`PARTS_IN_FLIGHT` parts being sent are held. ``close()`` sends the last part and completes
the upload (an object smaller than one part is one ``PutObject``); ``abort()`` (or leaving the
``with`` block with an exception) aborts it, so a failed export leaves no object behind.

Hand-written: boto3's managed transfers (``S3Hook.load_file`` / ``load_file_obj``) read from a
file they are given whole; this stream is written to by the Parquet writer instead. It talks to
S3 through the ``S3Hook``'s client (``S3Hook.get_conn()``), so the connection's credentials and
``endpoint_url`` apply.
"""

from __future__ import annotations

import io
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

PART_BYTES = 5 * 1024 * 1024
"""Size of each part but the last (S3's minimum is 5 MiB)."""
PARTS_IN_FLIGHT = 2
"""Parts uploaded at once; a writer that is further ahead waits (bounded memory)."""


class MultipartUpload(io.RawIOBase):
    """Write-only stream to ``s3://bucket/key`` through a boto3 S3 ``client``."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._buffer = bytearray()
        self._position = 0
        self._upload_id: str | None = None
        self._parts: list[Future[dict[str, Any]]] = []
        self._slots = threading.BoundedSemaphore(PARTS_IN_FLIGHT)
        self._pool = ThreadPoolExecutor(max_workers=PARTS_IN_FLIGHT, thread_name_prefix="atlas-upload")
        self.size = 0
        """Bytes in the object, once closed."""

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        self._position += len(view)
        while len(self._buffer) >= PART_BYTES:
            with memoryview(self._buffer) as buffered:
                part = bytes(buffered[:PART_BYTES])
            del self._buffer[:PART_BYTES]
            self._send(part)
        return len(view)

    def _send(self, part: bytes) -> None:
        if self._upload_id is None:
            started = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = started["UploadId"]
        for done in self._parts:  # surface a failed part now, not at the end
            if done.done() and done.exception() is not None:
                done.result()
        self._slots.acquire()
        number = len(self._parts) + 1
        future = self._pool.submit(self._upload_part, number, part)
        future.add_done_callback(lambda _: self._slots.release())
        self._parts.append(future)

    def _upload_part(self, number: int, part: bytes) -> dict[str, Any]:
        sent = self._client.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=part
        )
        return {"PartNumber": number, "ETag": sent["ETag"]}

    def close(self) -> None:
        """Send what is left and complete the object (idempotent)."""
        if self.closed:
            return
        try:
            if self._upload_id is None:
                self._client.put_object(Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer))
            else:
                if self._buffer:
                    self._send(bytes(self._buffer))
                parts = [f.result() for f in self._parts]
                self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": parts},
                )
            self.size = self._position
            self._buffer = bytearray()
        except BaseException:
            self.abort()
            raise
        finally:
            self._pool.shutdown(wait=True)
            super().close()
        log.info(
            "uploaded s3://%s/%s (%s bytes, %s parts)", self._bucket, self._key, self.size, len(self._parts)
        )

    def abort(self) -> None:
        """Give the upload up: no object is written (parts already sent are discarded)."""
        self._buffer = bytearray()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._upload_id is not None:
            upload_id, self._upload_id = self._upload_id, None
            try:
                self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=upload_id)
            except Exception:  # the export's own error is the one to report
                log.warning(
                    "could not abort the upload of s3://%s/%s", self._bucket, self._key, exc_info=True
                )
        if not self.closed:
            super().close()

    def __del__(self) -> None:
        # io.IOBase.__del__ would close(), i.e. complete a half-written object: abort instead
        if not self.closed:
            self.abort()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.abort()
        else:
            self.close()
