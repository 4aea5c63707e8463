"""The cobranzas bucket: files are read as a stream of chunks (exactly the version an event names),
reports written as text and marked as ours, so that their own notifications never import them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# User metadata on every report we write (``x-amz-meta-recaudo-reporte``): an object carrying it is
# one of ours, never a file to import.
METADATO_REPORTE = "recaudo-reporte"


def _version(version: str | None) -> dict[str, str]:
    """``VersionId`` when there is one: S3 calls an unversioned bucket's objects version ``null``."""
    return {"VersionId": version} if version and version != "null" else {}


class Archivos:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def trozos(self, key: str, chunk_bytes: int, version: str | None) -> Iterator[bytes]:
        """This version's bytes (the current object when ``version`` is None), ``chunk_bytes`` at a
        time: never the whole file in memory. A later PUT on the same key does not change what is read."""
        body = self._client.get_object(Bucket=self._bucket, Key=key, **_version(version))["Body"]
        try:
            yield from body.iter_chunks(chunk_bytes)
        finally:
            body.close()

    def poner_texto(self, key: str, text: str) -> None:
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=text.encode("utf-8"),
            ContentType="text/plain; charset=utf-8",
            Metadata={METADATO_REPORTE: "1"},
        )

    def leer_texto(self, key: str) -> str | None:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        except self._client.exceptions.NoSuchKey:
            return None
        return body.read().decode("utf-8")

    def borrar(self, key: str) -> None:
        """Delete the key's current object (on a versioned bucket: a delete marker; versions stay)."""
        self._client.delete_object(Bucket=self._bucket, Key=key)

    def es_reporte(self, key: str, version: str | None) -> bool:
        """Whether this version of the object is one of our reports (written by ``poner_texto``)."""
        head = self._client.head_object(Bucket=self._bucket, Key=key, **_version(version))
        return METADATO_REPORTE in (head.get("Metadata") or {})

    def version_actual(self, key: str) -> str | None:
        """The key's current version id; None when the key has no object now (deleted since) or the
        bucket is unversioned."""
        from botocore.exceptions import ClientError

        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            # a missing key is 404, or 403 to a caller that may not list the bucket (the importer)
            if exc.response.get("Error", {}).get("Code") in ("404", "403", "NoSuchKey", "AccessDenied"):
                return None
            raise
        version = head.get("VersionId")
        return version if version and version != "null" else None

    def url_put(self, key: str, seconds: int) -> str:
        return self._client.generate_presigned_url(
            "put_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=seconds, HttpMethod="PUT"
        )
