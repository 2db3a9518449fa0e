"""URLs as pages give them → valid URIs (RFC 3986), for links in feeds and in post bodies. Pure.

Pages hold links with spaces, quotes, braces or non-ASCII letters, which browsers mend as they
follow them; in a feed they are invalid (the W3C validator says so) and some readers drop or
break them. What can be is percent-encoded (as UTF-8, as browsers do), a non-ASCII host is
written in IDNA; a URL that cannot be a URI (no valid scheme, host or port) is dropped.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

# RFC 3986, appendix A: the characters of each part (pct-encoded checked apart, below).
_UNRESERVED_SUB = r"A-Za-z0-9\-._~!$&'()*+,;="
_PCHAR = _UNRESERVED_SUB + ":@%"
_AUTHORITY = (rf"//(?:[{_UNRESERVED_SUB}:%]*@)?(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[{_UNRESERVED_SUB}:]+\]|"
              rf"[{_UNRESERVED_SUB}%]*)(?::[0-9]*)?(?:/[{_PCHAR}]*)*")  # then the path, each segment after a '/'
#: A URI reference (absolute or relative) that is valid as it is: the common case, kept as it is.
VALID = re.compile(
    rf"(?:[A-Za-z][A-Za-z0-9+.\-]*:(?:{_AUTHORITY}|(?!//)[{_PCHAR}/]*)"  # a scheme, then an authority or a path
    rf"|{_AUTHORITY}|(?!//)[{_UNRESERVED_SUB}@%]*(?:/[{_PCHAR}]*)*)"  # relative: no ':' before the first '/'
    rf"(?:\?[{_PCHAR}/?]*)?(?:#[{_PCHAR}/?]*)?")  # query, fragment
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_REG_NAME = re.compile(rf"[{_UNRESERVED_SUB}%]*")
_IP_LITERAL = re.compile(r"\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]")
_PART_SAFE = _PCHAR.replace("A-Za-z0-9\\-._~", "-._~").replace("\\", "")  # quote() keeps letters and digits


def uri(url: str) -> str | None:
    """`url` (absolute or relative) as a valid URI reference, or None when it cannot be one."""
    url = url.strip()
    if VALID.fullmatch(url) and not _STRAY_PERCENT.search(url):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 host
        return None
    if parts.scheme and not _SCHEME.fullmatch(parts.scheme):
        return None
    netloc = ""
    if parts.netloc or url.startswith("//") or "://" in url[:len(parts.scheme) + 3]:
        authority = _authority(parts.netloc)
        if authority is None:
            return None
        netloc = authority
    path = _encode(parts.path, "/")
    if not netloc and path.startswith("//"):  # (it would be read as an authority)
        path = "/%2F" + path[2:]
    return urlunsplit((parts.scheme, netloc, path, _encode(parts.query, "/?"), _encode(parts.fragment, "/?")))


def _encode(part: str, also_safe: str) -> str:
    """A path, query or fragment: what it may not hold percent-encoded (a '%' that starts no
    escape too), what it may kept as it is."""
    return quote(_STRAY_PERCENT.sub("%25", part), safe=_PART_SAFE + also_safe)


def _authority(netloc: str) -> str | None:
    """[userinfo@]host[:port] as a URI's, or None: a host with characters no host may hold (a
    space), a port that is not a number, a non-ASCII host IDNA cannot write."""
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        host, _, port = hostport.partition("]")
        host += "]"
        if not _IP_LITERAL.fullmatch(host) or (port and not port.startswith(":")):
            return None
        port = port[1:]
    else:
        host, _, port = hostport.partition(":")
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                return None
        if not _REG_NAME.fullmatch(host) or _STRAY_PERCENT.search(host):
            return None
    if port and not port.isdigit():
        return None
    user = quote(_STRAY_PERCENT.sub("%25", userinfo), safe=_PART_SAFE.replace("@", "")) if at else ""
    return f"{user}{at}{host}{':' + port if port else ''}"
