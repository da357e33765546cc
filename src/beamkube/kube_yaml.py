"""The fast path for manifest streams (the `kube` schema of `beamkube.safe_yaml`): libyaml's events straight to data.

Role: pure (text in, documents out; no I/O). `audit` spends most of its time reading YAML, and building PyYAML
node objects only to walk them again (twice: once for the limits, once to construct) costs ~3x what reading
libyaml's events directly into dicts and lists does (benchmarks/yaml_loader.py). The fast path handles what
manifests are made of: plain and quoted scalars, block and flow collections, any number of documents. Anything
else (anchors and aliases, explicit tags, merge keys, complex keys), any limit crossed and any error at all
hand the stream to `safe_yaml.load_documents`, the reference, from the document where it happened; so values,
limits, errors and their messages are the reference's by construction (tests/input/test_kube_yaml.py checks the
two agree on generated YAML).

Scalar resolution is by table: a plain scalar whose first character starts no YAML 1.1 implicit type is a
string; the others are resolved once by the reference resolver and constructor, then looked up.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from beamkube import safe_yaml


class ManifestDocument:
    """One document: its data, the 1-based line it starts on, and the lines of its top-level `items` (a List)."""

    __slots__ = ("data", "item_lines", "line")

    def __init__(self, line: int, data: Any, item_lines: list[int]) -> None:
        self.line = line
        self.data = data
        self.item_lines = item_lines


class _Unusual(Exception):
    """Something the fast path leaves to the reference (never escapes this module)."""


_MISSING: Any = object()
_STR = "tag:yaml.org,2002:str"
_PLAIN_TYPES = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float"))
# First characters of plain scalars that some implicit resolver claims ("" is the empty scalar, null).
_RESOLVED_FIRST = frozenset(first for first, resolvers in safe_yaml.KubeResolver.yaml_implicit_resolvers.items()
                            if resolvers and first is not None)
_WILDCARD = bool(safe_yaml.KubeResolver.yaml_implicit_resolvers.get(None))
_SCALARS: dict[str, Any] = {}  # plain scalar text -> its value (immutable: str, int, float, bool, None)
_KEYS: dict[str, str] = {}  # mapping keys, one string object per distinct key (a 10k-object input has ~100)
_SCALAR_CACHE_SIZE = 200_000
_reference_loader: Any = None


def _resolve_plain(text: str) -> Any:
    """A plain scalar's value as the reference builds it; `_Unusual` for tags it would refuse or treat specially."""
    global _reference_loader
    if _reference_loader is None:
        _reference_loader = safe_yaml.LOADERS["kube"]("")
    tag = _reference_loader.resolve(ScalarNode, text, (True, False))
    value: Any = text
    if tag != _STR:
        if tag not in _PLAIN_TYPES:  # `<<` (merge), `=` (value): the reference decides
            raise _Unusual
        try:
            value = _reference_loader.construct_object(ScalarNode(tag, text))
        except Exception:  # an integer over the length limit, say: the reference names file and line
            raise _Unusual from None
        finally:
            _reference_loader.constructed_objects.clear()
    if len(_SCALARS) >= _SCALAR_CACHE_SIZE:
        _SCALARS.clear()
    _SCALARS[text] = value
    return value


def _fast(text: str, limits: safe_yaml.Limits, done: list[int]) -> Iterator[ManifestDocument]:
    """Documents built from events; `done[0]` counts those yielded (where the reference takes over)."""
    from yaml._yaml import CParser
    from yaml.events import (
        AliasEvent,
        DocumentEndEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )

    parser = CParser(text)
    next_event = parser.get_event
    resolved_first, scalars, wildcard = _RESOLVED_FIRST, _SCALARS, _WILDCARD
    if len(_KEYS) >= _SCALAR_CACHE_SIZE:
        _KEYS.clear()
    keys = _KEYS
    max_depth, max_nodes = limits.max_depth, limits.max_nodes
    stack: list[tuple[Any, bool]] = []
    current: Any = None  # the open collection (None: at the document root)
    in_map = False
    key: Any = _MISSING  # in a mapping: the key waiting for its value
    root: Any = None
    line = 0
    nodes = 0
    items: Any = None  # the root mapping's `items` sequence, whose entries' lines a List needs
    item_lines: list[int] = []
    try:
        while True:
            event: Any = next_event()
            kind = type(event)
            if kind is ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Unusual
                nodes += 1
                value = event.value
                if event.implicit[0] and (wildcard or value[:1] in resolved_first):
                    found = scalars.get(value, _MISSING)
                    value = _resolve_plain(value) if found is _MISSING else found
                if in_map:
                    if key is _MISSING:
                        key = keys.setdefault(value, value) if type(value) is str else value  # shared: less memory
                    else:
                        current[key] = value
                        key = _MISSING
                elif current is None:
                    root, line = value, event.start_mark.line + 1
                else:
                    if current is items:
                        item_lines.append(event.start_mark.line + 1)
                    current.append(value)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Unusual
                nodes += 1
                new: Any = {} if kind is MappingStartEvent else []
                if in_map:
                    if key is _MISSING:
                        raise _Unusual  # a collection as a key
                    if key == "items" and items is None and len(stack) == 1 and kind is SequenceStartEvent:
                        items = new
                    current[key] = new
                    key = _MISSING
                elif current is None:
                    root, line = new, event.start_mark.line + 1
                else:
                    if current is items:
                        item_lines.append(event.start_mark.line + 1)
                    current.append(new)
                stack.append((current, in_map))
                if len(stack) > max_depth:
                    raise _Unusual
                current, in_map = new, kind is MappingStartEvent
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                current, in_map = stack.pop()
            elif kind is DocumentEndEvent:
                if nodes > max_nodes:
                    raise _Unusual
                yield ManifestDocument(line, root, item_lines)
                done[0] += 1
                root, nodes, items, item_lines = None, 0, None, []
            elif kind is StreamEndEvent:
                return
            elif kind is AliasEvent:
                raise _Unusual
    finally:
        parser.dispose()


def load_manifest_documents(text: str, source: str, limits: safe_yaml.Limits) -> Iterator[ManifestDocument]:
    """Every document of a manifest stream, exactly as `safe_yaml.load_documents(..., "kube", ...)` reads it."""
    safe_yaml.check_size(text, source, limits)
    done = [0]
    if safe_yaml.has_c_parser():
        try:
            yield from _fast(text, limits, done)
            return
        except _Unusual:
            pass
        except Exception:  # a parser error: the reference raises it, with its one-line message
            pass
    for document in islice(safe_yaml.load_documents(text, source, "kube", limits), done[0], None):
        yield ManifestDocument(document.line, document.data, _item_lines(document.node))


def _item_lines(node: Node) -> list[int]:
    """Lines of the entries of the first `items` key holding a sequence (how the fast path records them)."""
    if not isinstance(node, MappingNode):
        return []
    for key, value in node.value:
        if getattr(key, "value", None) == "items" and isinstance(value, SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []
