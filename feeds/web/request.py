"""One HTTP request as the endpoint reads it, and the answer it gives: pure functions of a WSGI
environ (its body read, bounded), standard library only.

The limits are checked before anything is read or stored: headers over MAX_HEADER_BYTES (431), a
body over MAX_BODY_BYTES (413, unread), a body of another type than a form's (415), a method other
than GET, HEAD or POST (405).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from typing import IO, Any
from urllib.parse import parse_qs

#: A form of an address and a name is well under 1 KB; an RFC 8058 POST is 26 bytes.
MAX_BODY_BYTES = 8 * 1024
#: The request's headers, names and values added up (a browser sends 1 to 2 KB).
MAX_HEADER_BYTES = 8 * 1024
#: The query string (a token is about 150 characters).
MAX_QUERY_BYTES = 2 * 1024
#: Fields in a query or a form: ours have at most three.
MAX_FIELDS = 10

FORM = "application/x-www-form-urlencoded"
#: RFC 8058 3.1: the one-click POST "SHOULD be sent as multipart/form-data and MAY be sent as
#: application/x-www-form-urlencoded": a mailbox provider may send either.
MULTIPART = "multipart/form-data"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class HttpError(Exception):
    """The request cannot be answered as asked: `status`, and a sentence for the page."""

    def __init__(self, status: HTTPStatus, message: str, headers: Sequence[tuple[str, str]] = ()):
        self.status, self.message, self.headers = status, message, tuple(headers)
        super().__init__(f"{int(status)} {message}")


@dataclasses.dataclass(frozen=True)
class Request:
    method: str  # GET (HEAD is answered as GET; the application drops the body) or POST
    route: str  # the path below the endpoint's own: "", "subscribe", "confirm", "unsubscribe", or another
    query: Mapping[str, str]
    form: Mapping[str, str]
    client: str  # the client's IP address (see client_address)


@dataclasses.dataclass(frozen=True)
class Response:
    status: HTTPStatus
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def route(environ: Mapping[str, Any], mount: str) -> str:
    """The path below `mount` (the path of the endpoint's URL, such as "/list/"), or below "/" when
    the server (a reverse proxy that strips the prefix) has already taken it off. The mount without
    its slash is redirected to it (HttpError 308)."""
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    if path == mount.rstrip("/") and mount != "/":
        # The form's relative links ("subscribe") resolve against the folder: from "/list" they would
        # leave the endpoint. 308 keeps the method and the body of a POST.
        query = str(environ.get("QUERY_STRING", ""))  # (its length checked by read)
        raise HttpError(HTTPStatus.PERMANENT_REDIRECT, f"This page is at {mount}.",
                        [("Location", mount + (f"?{query}" if query else ""))])
    return path.removeprefix(mount) if path.startswith(mount) else path.removeprefix("/")


def client_address(environ: Mapping[str, Any], trusted: Sequence[Network]) -> str:
    """REMOTE_ADDR; or, when it is a trusted proxy, the last hop of X-Forwarded-For that is not one
    (the hops a client wrote itself come before those its proxies added: they are not believed)."""
    remote = str(environ.get("REMOTE_ADDR", ""))
    if not _trusted(remote, trusted):
        return remote
    hops = [h.strip() for h in str(environ.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else remote


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def read(environ: Mapping[str, Any], mount: str, trusted: Sequence[Network]) -> Request:
    """The request, its limits checked and its body (a POST's) read; HttpError if it is refused."""
    headers = sum(len(k) + len(str(v)) for k, v in environ.items() if k.startswith(("HTTP_", "CONTENT_")))
    if headers > MAX_HEADER_BYTES:
        raise HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "The request's headers are too large.")
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    if method not in ("GET", "HEAD", "POST"):
        raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"{method[:20]} is not a method this page answers.",
                        [("Allow", "GET, HEAD, POST")])
    query_string = str(environ.get("QUERY_STRING", ""))
    if len(query_string) > MAX_QUERY_BYTES:
        raise HttpError(HTTPStatus.REQUEST_URI_TOO_LONG, "The address asked for is too long.")
    below = route(environ, mount)
    query = _fields(query_string)
    form = _form(environ) if method == "POST" else {}
    return Request("GET" if method == "HEAD" else method, below, query, form, client_address(environ, trusted))


def _form(environ: Mapping[str, Any]) -> dict[str, str]:
    """A POST's fields, from a body of at most MAX_BODY_BYTES (a larger one is not read)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HttpError(HTTPStatus.BAD_REQUEST, "The request's Content-Length is not a number.") from None
    if length > MAX_BODY_BYTES:
        raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The form sent is too large.")
    body = _read(environ["wsgi.input"], length) if length > 0 else b""
    kind = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
    if not body and not kind:
        return {}
    if kind == FORM:
        try:
            return _fields(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise HttpError(HTTPStatus.BAD_REQUEST, "The form sent is not UTF-8 text.") from None
    if kind == MULTIPART:
        return _multipart(str(environ.get("CONTENT_TYPE", "")), body)
    raise HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Only a form (application/x-www-form-urlencoded) is taken.")


def _read(stream: IO[bytes], length: int) -> bytes:
    data = b""
    while len(data) < length:
        chunk = stream.read(length - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _fields(text: str) -> dict[str, str]:
    """name=value pairs (the first value of a name), at most MAX_FIELDS of them."""
    try:
        pairs = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise HttpError(HTTPStatus.BAD_REQUEST, "The request holds too many fields, or fields that are "
                                                "not UTF-8 text.") from None
    return {name: values[0] for name, values in pairs.items()}


def _multipart(content_type: str, body: bytes) -> dict[str, str]:
    """The text fields of a multipart/form-data body (RFC 7578), read with the standard library's MIME parser."""
    if any(c in content_type for c in "\r\n"):
        raise HttpError(HTTPStatus.BAD_REQUEST, "The request's Content-Type is not one line.")
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    fields: dict[str, str] = {}
    parts: Iterable[Any] = message.iter_parts() if message.is_multipart() else ()
    for part in list(parts)[:MAX_FIELDS]:
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes) and name not in fields:
            fields[name] = payload.decode("utf-8", "replace").strip()
    return fields
