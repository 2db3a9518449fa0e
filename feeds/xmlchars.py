"""The characters XML forbids (control characters, U+FFFE, U+FFFF, lone surrogates): readers strip
them from what they read, publishers from what they write, so lxml never meets one."""

from __future__ import annotations

import re

# Characters XML 1.0 forbids (C0 controls but tab and newlines, surrogates, U+FFFE/U+FFFF),
# and the C1 controls it discourages: in a text dump they are mis-decoded bytes, and
# feed readers turn them into cp1252 characters nobody wrote.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def strip_xml_forbidden(text: str) -> str:
    """Remove the characters an XML document may not contain."""
    return XML_FORBIDDEN.sub("", text)
