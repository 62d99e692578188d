"""atlas.multipart.MultipartUpload against a moto S3 endpoint: parts as written, abort on failure."""

from __future__ import annotations

import os

import pytest
from airflow.providers.amazon.aws.hooks.s3 import S3Hook

from atlas import multipart
from atlas.multipart import MultipartUpload

pytestmark = [pytest.mark.s3]


def _objects(client: object, bucket: str) -> tuple[list[str], list[str]]:
    """Keys of the bucket's objects and of its unfinished multipart uploads."""
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]  # type: ignore[attr-defined]
    uploads = [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]  # type: ignore[attr-defined]
    return keys, uploads


@pytest.mark.parametrize(
    "size", [pytest.param(1000, id="one-put"), pytest.param(3 * multipart.PART_BYTES + 17, id="four-parts")]
)
def test_what_is_written_is_the_object(s3_bucket: str, size: int) -> None:
    """Bytes written in pieces of any size become the object, whole and in order."""
    client = S3Hook(aws_conn_id="atlas_s3").get_conn()
    data = os.urandom(size)
    with MultipartUpload(client, s3_bucket, "a/b.bin") as stream:
        for start in range(0, size, 1_000_003):
            stream.write(data[start : start + 1_000_003])
        assert stream.tell() == size
    assert stream.size == size
    assert client.get_object(Bucket=s3_bucket, Key="a/b.bin")["Body"].read() == data
    assert _objects(client, s3_bucket) == (["a/b.bin"], [])


def test_a_failed_writer_leaves_no_object(s3_bucket: str) -> None:
    """An error while writing (after parts were sent) aborts the upload: no object, no open upload."""
    client = S3Hook(aws_conn_id="atlas_s3").get_conn()

    def export() -> None:
        with MultipartUpload(client, s3_bucket, "a/b.bin") as stream:
            stream.write(os.urandom(2 * multipart.PART_BYTES + 1))
            raise RuntimeError("export failed")

    with pytest.raises(RuntimeError, match="export failed"):
        export()
    assert _objects(client, s3_bucket) == ([], [])
