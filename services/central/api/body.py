"""Read a request body without ever holding more than the limit in memory."""

from __future__ import annotations

from fastapi import HTTPException, Request, status


def _too_large(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail)


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The body, or 413 if ``Content-Length`` announces more than ``limit`` bytes or the
    bytes actually sent (e.g. chunked, without a length) exceed it."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Content-Length {declared!r} is not a number") from None
        if size > limit:
            raise _too_large(f"body is {size} bytes; the limit is {limit} bytes (split the batch)")
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(f"body exceeds the limit of {limit} bytes (split the batch)")
        chunks.append(chunk)
    return b"".join(chunks)
