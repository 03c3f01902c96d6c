"""Text fit for XML 1.0, which cannot carry most C0 control characters at all."""

from __future__ import annotations

import re

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (an import may bring some in).

    Django's feed writer and lxml both refuse them outright, which would turn one bad
    title into a failed feed or harvest for everyone.
    """
    return _ILLEGAL.sub("", text)
