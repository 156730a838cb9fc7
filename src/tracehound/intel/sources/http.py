"""One bounded HTTP GET for the sources: timeout, size limit, conditional headers (If-None-Match,
If-Modified-Since), and every failure as a SourceError naming the URL (never a traceback)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from tracehound import __version__
from tracehound.intel.sources import SourceError, public_label

_CHUNK = 1 << 16


@dataclass
class Response:
    status: int  # 200, 304, or 404 when missing_ok
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""


def get(url: str, *, timeout: float, max_bytes: int, etag: str = "", last_modified: str = "",
        missing_ok: bool = False) -> Response:
    if not url.lower().startswith(("http://", "https://")):
        raise SourceError(f"not an http(s) URL: {public_label(url)}")
    headers = {"User-Agent": f"tracehound/{__version__}", "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    where = public_label(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - scheme checked above
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise SourceError(f"GET {where}: response of {length} bytes is over the limit of {max_bytes}")
            chunks, size = [], 0
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise SourceError(f"GET {where}: response over the limit of {max_bytes} bytes")
                chunks.append(chunk)
            return Response(resp.status, b"".join(chunks), resp.headers.get("ETag", "") or "",
                            resp.headers.get("Last-Modified", "") or "")
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Response(304, b"", exc.headers.get("ETag", "") or etag, exc.headers.get("Last-Modified", "") or last_modified)
        if exc.code == 404 and missing_ok:
            return Response(404)
        raise SourceError(f"GET {where}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise SourceError(f"GET {where}: {exc.reason}") from None
    except TimeoutError:
        raise SourceError(f"GET {where}: timed out after {timeout:g} s") from None
    except (OSError, ValueError) as exc:  # connection reset mid-body, bad status line
        raise SourceError(f"GET {where}: {type(exc).__name__}: {exc}") from None
