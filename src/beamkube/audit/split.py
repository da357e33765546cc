"""Cutting one big manifest stream into parts at document markers, so several processes can read it.

Role: file I/O (reads the file's bytes). YAML forbids a line that starts with `---` or `...` followed by a space,
a tab, a line break or the end of the input anywhere inside a document (YAML 1.2.2, production [206]
c-forbidden, excluded from l-bare-document [207]): such a line either ends a document or is an error, whatever
scalar or collection is open. libyaml agrees where it matters: plain scalars stop at the marker, quoted scalars
and flow collections open across it are errors, and a block scalar's content is indented at least one column,
so a marker in column 0 ends it. A part therefore holds whole documents, and reading the parts one after the
other yields the documents of the whole stream. The caller reads the whole file instead whenever a part fails
(so an error is always the serial path's, with its line), and a file is not cut where line numbers would be
hard to carry over: CR line breaks or the Unicode ones libyaml also counts (NEL, LS, PS).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from beamkube import safe_yaml

# The start of a line that is a document start marker: `---` then a space, a tab, a line break or the end.
_MARKER = re.compile(rb"\n(?=---(?:[ \t\n]|\Z))")
_OTHER_BREAKS = (b"\r", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")


class Part(NamedTuple):
    """Bytes `start` to `end` of `path` (`end` -1: the whole file), whose first line is `first_line`."""

    path: str
    start: int
    end: int
    first_line: int


def whole(path: str) -> Part:
    return Part(path, 0, -1, 1)


def cut(path: str, size: int, part_bytes: int) -> list[Part]:
    """`path` in parts of about `part_bytes`, each starting at a document marker (one part when it cannot
    be cut: too small, too big for the limits, no markers, unreadable, or line breaks other than LF)."""
    if size < 2 * part_bytes or size > safe_yaml.MANIFEST_LIMITS.max_bytes:
        return [whole(path)]
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return [whole(path)]  # the reader reports it
    if any(other in raw for other in _OTHER_BREAKS):
        return [whole(path)]
    parts: list[Part] = []
    start, line = 0, 1
    while True:
        marker = _MARKER.search(raw, start + part_bytes) if start + part_bytes < len(raw) else None
        if marker is None:
            parts.append(Part(path, start, -1, line))
            return parts
        end = marker.end()  # the marker line's first byte
        parts.append(Part(path, start, end, line))
        line += raw.count(b"\n", start, end)
        start = end


def load_part(part: Part) -> list[tuple[Any, int]]:
    """One part's objects with their lines in the whole file; any problem is an exception (the caller then
    reads the whole file, to report what the serial path reports)."""
    from beamkube.audit.loader import parse_text

    with open(part.path, "rb") as handle:
        handle.seek(part.start)
        raw = handle.read(part.end - part.start) if part.end >= 0 else handle.read()
    text = raw.decode("utf-8-sig" if part.start == 0 else "utf-8")
    return [(m.obj, m.line) for m in parse_text(text, part.path, part.first_line)]
