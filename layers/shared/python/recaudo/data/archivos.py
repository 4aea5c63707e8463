"""The cobranzas bucket: files are read as a stream of chunks, reports written as text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class Archivos:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def trozos(self, key: str, chunk_bytes: int) -> Iterator[bytes]:
        """The object's bytes, ``chunk_bytes`` at a time: never the whole file in memory."""
        body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_bytes)
        finally:
            body.close()

    def poner_texto(self, key: str, text: str) -> None:
        self._client.put_object(
            Bucket=self._bucket, Key=key, Body=text.encode("utf-8"), ContentType="text/plain; charset=utf-8"
        )

    def leer_texto(self, key: str) -> str | None:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        except self._client.exceptions.NoSuchKey:
            return None
        return body.read().decode("utf-8")

    def url_put(self, key: str, seconds: int) -> str:
        return self._client.generate_presigned_url(
            "put_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=seconds, HttpMethod="PUT"
        )
