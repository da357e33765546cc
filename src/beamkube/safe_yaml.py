"""YAML loading that is safe by construction, for specs (YAML 1.2 core schema) and manifests (what kubectl reads).

Role: pure (text in, documents out; no I/O). Both schemas run on PyYAML's C parser (libyaml) when PyYAML has it:
PyYAML is already imported for output, so this module costs no extra import time, and the C parser reads a
manifest stream ~14x faster than ruamel.yaml's pure-Python one (figures in docs/input.md).

Schemas:
- `core` (specs): YAML 1.2 core-schema scalars. `010` is the integer 10 (not octal 8), `ON`/`yes` are strings,
  `2001-12-14` stays the text it is, `0o17`/`0x1F` are the only non-decimal integers, `<<` is an ordinary key.
  Tags outside the core schema (`!!binary`, `!!timestamp`, `!!set`, Python tags) are errors.
- `kube` (manifests for `audit`): the YAML 1.1 booleans and octals that kubectl's YAML library (go-yaml v2 under
  sigs.k8s.io/yaml) also applies, so audit judges what the API server would receive; timestamps stay text
  (kubectl sends them as strings too) and non-JSON tags are errors.

Limits (both schemas, `Limits`): input size; nesting depth and the node count after alias expansion (an alias
bomb or a recursive alias is refused before anything walks the data); integer length (Python refuses to
convert integers of over 4,300 digits, and no Kubernetes or BEAM field holds more than 19). Every failure is a
`YamlLoadError` whose text is the one line `SOURCE:LINE: message`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, cast

import yaml
import yaml.reader
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver, Resolver

from beamkube.errors import BeamkubeError

if TYPE_CHECKING:
    from typing import Literal

    Schema = Literal["core", "kube"]
MAX_INT_DIGITS = 32


class Limits:
    """Bounds on one input stream and each of its documents (a plain class: dataclasses cost import time)."""

    __slots__ = ("max_bytes", "max_depth", "max_nodes")

    def __init__(self, *, max_bytes: int, max_depth: int, max_nodes: int) -> None:
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_nodes = max_nodes  # per document, counting every alias as the copy it expands to


# A spec is a few hundred lines; the biggest plausible one (a ConfigMap-sized env) stays under 1 MiB.
SPEC_LIMITS = Limits(max_bytes=4 * 1024 * 1024, max_depth=64, max_nodes=200_000)
# A manifest stream may be a whole cluster dump (the audit benchmark reads 50 MB); one object is at most
# ~1.5 MiB in etcd, and CRD schemas nest deepest (~40 levels).
MANIFEST_LIMITS = Limits(max_bytes=512 * 1024 * 1024, max_depth=128, max_nodes=2_000_000)


class YamlLoadError(BeamkubeError):
    """Input that is not acceptable YAML. `syntax` tells a parser error from a limit or schema refusal."""

    exit_code = 2

    def __init__(self, source: str, line: int | None, message: str, *, syntax: bool = False) -> None:
        self.source = source
        self.line = line
        self.message = message
        self.syntax = syntax
        super().__init__(f"{source}:{line}: {message}" if line is not None else f"{source}: {message}")


class Document:
    """One constructed document, with its node tree (for line numbers) and the line it starts on (1-based)."""

    __slots__ = ("data", "line", "node")

    def __init__(self, line: int, node: Node, data: Any) -> None:
        self.line = line
        self.node = node
        self.data = data


# --- resolvers ---------------------------------------------------------------------------------------------

INT, FLOAT, BOOL, NULL = (f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null"))
CORE_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
CORE_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
CORE_NULL = re.compile(r"~|null|Null|NULL|")


class CoreResolver(BaseResolver):
    """The YAML 1.2.2 core schema's implicit tags (spec section 10.3.2); every other plain scalar is a string."""


CoreResolver.add_implicit_resolver(NULL, re.compile(rf"^(?:{CORE_NULL.pattern})$"), ["~", "n", "N", ""])
CoreResolver.add_implicit_resolver(BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
CoreResolver.add_implicit_resolver(INT, re.compile(rf"^(?:{CORE_INT.pattern})$"), list("-+0123456789"))
CoreResolver.add_implicit_resolver(FLOAT, re.compile(rf"^(?:{CORE_FLOAT.pattern})$"), list("-+0123456789."))


class KubeResolver(Resolver):
    """PyYAML's YAML 1.1 resolver without timestamps (kubectl sends those as strings)."""


KubeResolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}


# --- constructors ------------------------------------------------------------------------------------------


def _int_digits(constructor: SafeConstructor, node: ScalarNode) -> str:
    text = str(constructor.construct_scalar(node))
    digits = len(text.lstrip("+-").replace("_", ""))
    if digits > MAX_INT_DIGITS:
        raise ConstructorError(
            None, None, f"an integer of {digits} digits is too long (at most {MAX_INT_DIGITS}); quote it if it is text",
            node.start_mark,
        )  # fmt: skip
    return text


def _register(constructor: type[SafeConstructor], tag: str | None, function: Any) -> None:
    cast(Any, constructor).add_constructor(tag, function)  # PyYAML's stubs type this for its own loaders only


class _NoExtraTags(SafeConstructor):
    """SafeConstructor minus the tags JSON cannot hold (binary, set, omap, pairs, timestamp)."""

    yaml_constructors: ClassVar[dict[Any, Any]] = {
        tag: function
        for tag, function in SafeConstructor.yaml_constructors.items()
        if tag is None or tag.rsplit(":", 1)[-1] in ("null", "bool", "int", "float", "str", "seq", "map")
    }

    def construct_undefined(self, node: Node) -> Any:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise ConstructorError(None, None, f"the tag {tag} is not supported here", node.start_mark)


_register(_NoExtraTags, None, _NoExtraTags.construct_undefined)


class KubeConstructor(_NoExtraTags):
    """PyYAML's YAML 1.1 values (kubectl's too), integers bounded in length."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        _int_digits(self, node)
        try:
            return int(super().construct_yaml_int(node))
        except (ValueError, IndexError):  # an explicit tag on text that is no integer: `!!int yes`, `!!int ""`
            raise _not_a(self, node, "an integer") from None

    def construct_yaml_float(self, node: ScalarNode) -> float:
        try:
            return float(super().construct_yaml_float(node))
        except (ValueError, IndexError):
            raise _not_a(self, node, "a number") from None

    def construct_yaml_bool(self, node: ScalarNode) -> bool:
        try:
            return bool(super().construct_yaml_bool(node))
        except KeyError:
            raise _not_a(self, node, "a YAML 1.1 boolean") from None


def _not_a(constructor: SafeConstructor, node: ScalarNode, what: str) -> ConstructorError:
    return ConstructorError(None, None, f"{constructor.construct_scalar(node)!s} is not {what}", node.start_mark)


_register(KubeConstructor, INT, KubeConstructor.construct_yaml_int)
_register(KubeConstructor, FLOAT, KubeConstructor.construct_yaml_float)
_register(KubeConstructor, BOOL, KubeConstructor.construct_yaml_bool)


class CoreConstructor(_NoExtraTags):
    """Core-schema values for explicit tags too: `!!int "010"` is 10, `!!bool yes` is an error."""

    def flatten_mapping(self, node: MappingNode) -> None:
        """YAML 1.2 has no merge keys: `<<` is an ordinary key, and an explicit `!!merge` tag is refused."""

    def _refuse(self, node: ScalarNode, what: str) -> Any:
        raise ConstructorError(None, None, f"{self.construct_scalar(node)!s} is not {what}", node.start_mark)

    def construct_core_int(self, node: ScalarNode) -> int:
        text = _int_digits(self, node)
        if not CORE_INT.fullmatch(text):
            return int(self._refuse(node, "a YAML 1.2 integer"))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)

    def construct_core_float(self, node: ScalarNode) -> float:
        text = str(self.construct_scalar(node))
        if not CORE_FLOAT.fullmatch(text):
            return float(self._refuse(node, "a YAML 1.2 number"))
        lowered = text.lower()
        if lowered.endswith(".inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        return float("nan") if lowered == ".nan" else float(text)

    def construct_core_bool(self, node: ScalarNode) -> bool:
        text = str(self.construct_scalar(node))
        if text not in CORE_BOOL:
            return bool(self._refuse(node, "true or false"))
        return CORE_BOOL[text]

    def construct_core_null(self, node: ScalarNode) -> None:
        if not CORE_NULL.fullmatch(str(self.construct_scalar(node))):
            self._refuse(node, "null")


_register(CoreConstructor, INT, CoreConstructor.construct_core_int)
_register(CoreConstructor, FLOAT, CoreConstructor.construct_core_float)
_register(CoreConstructor, BOOL, CoreConstructor.construct_core_bool)
_register(CoreConstructor, NULL, CoreConstructor.construct_core_null)


# --- loaders -----------------------------------------------------------------------------------------------


def _c_parser() -> Any:
    try:
        from yaml._yaml import CParser
    except ImportError:  # PyYAML built without libyaml
        return None
    return CParser


_Parser: Any = _c_parser()


def _loader_class(constructor: type[SafeConstructor], resolver: type[BaseResolver]) -> Any:
    if _Parser is not None:
        bases: tuple[Any, ...] = (_Parser, constructor, resolver)
    else:  # no libyaml: the pure-Python parser (limits are checked the same way)
        from yaml.composer import Composer
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        bases = (Reader, Scanner, Parser, Composer, constructor, resolver)

    def __init__(self: Any, stream: str) -> None:
        bases[0].__init__(self, stream)
        if _Parser is None:
            for base in bases[1:4]:
                base.__init__(self)
        cast(Any, constructor).__init__(self)
        cast(Any, resolver).__init__(self)

    return type(f"{constructor.__name__}Loader", bases, {"__init__": __init__})


LOADERS: dict[str, Any] = {
    "core": _loader_class(CoreConstructor, CoreResolver),
    "kube": _loader_class(KubeConstructor, KubeResolver),
}


def decode(raw: bytes, source: str) -> str:
    """UTF-8 text (a leading BOM dropped); binary data is refused with the line it starts on."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlLoadError(source, line, "not UTF-8 text (binary data?)") from None
    return text


def check_text(text: str, source: str) -> str:
    """Text read through a str stream: surrogates stand for bytes that were not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text[: exc.start].count("\n") + 1
        raise YamlLoadError(source, line, "not UTF-8 text (binary data?)") from None
    return text.removeprefix("\ufeff")


def has_c_parser() -> bool:
    return _Parser is not None


def check_size(text: str, source: str, limits: Limits) -> None:
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > limits.max_bytes else len(text)
    if size > limits.max_bytes:
        raise YamlLoadError(source, None, f"is {size:,} bytes; at most {limits.max_bytes:,} are read")


def load_documents(text: str, source: str, schema: Schema, limits: Limits) -> Iterator[Document]:
    """Every document in the stream, each checked against `limits` before it is constructed (the reference
    construction; `beamkube.kube_yaml` is the fast path for manifests and falls back to this)."""
    check_size(text, source, limits)
    loader = LOADERS[schema](text)
    try:
        while loader.check_node():
            node = loader.get_node()
            _measure(node, source, limits)
            yield Document(node.start_mark.line + 1, node, loader.construct_document(node))
    except yaml.MarkedYAMLError as exc:
        raise _one_line(exc, source) from None
    except yaml.reader.ReaderError as exc:  # a control character: not marked, but its position is known
        line = text[: exc.position].count("\n") + 1
        character = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise YamlLoadError(
            source, line, f"not valid YAML: control character {character} is not allowed (binary data?)", syntax=True
        ) from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(source, None, f"not valid YAML: {_first_line(str(exc))}", syntax=True) from None
    except RecursionError:  # only the pure-Python parser recurses per level
        raise YamlLoadError(source, None, f"nested deeper than {limits.max_depth} levels") from None
    finally:
        loader.dispose()


def load_single(text: str, source: str, schema: Schema, limits: Limits) -> Document | None:
    """The one document of a file such as a spec; empty documents around it (a trailing `---`) are ignored."""
    found: Document | None = None
    for document in load_documents(text, source, schema, limits):
        if document.data is None and _is_empty(document.node):
            continue
        if found is not None:
            raise YamlLoadError(
                source, document.line, f"a second YAML document (the first starts on line {found.line}); keep one"
            )
        found = document
    return found


def _is_empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.value in ("", "~", "null", "Null", "NULL")


def _one_line(exc: yaml.MarkedYAMLError, source: str) -> YamlLoadError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, ConstructorError) and exc.problem and not exc.context:
        return YamlLoadError(source, line, _first_line(exc.problem))  # our own schema/limit refusals
    problem = _first_line(exc.problem or exc.context or "invalid YAML")
    if "maximum nesting depth" in problem:
        return YamlLoadError(source, line, "nested deeper than 1000 levels")
    if exc.context and exc.context_mark is not None and exc.problem:
        problem += f" ({_first_line(exc.context)} started on line {exc.context_mark.line + 1})"
    return YamlLoadError(source, line, f"not valid YAML: {problem}", syntax=True)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "invalid YAML"


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _measure(root: Node, source: str, limits: Limits) -> None:
    """Depth and expanded size of a node graph (aliases are shared nodes), iteratively and memoised, so neither
    a 9x9 alias bomb nor a 1000-deep document costs more than one pass over its distinct nodes. Depth is
    counted from the root, so the error names the line where the limit is crossed."""
    if isinstance(root, ScalarNode):
        return
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded node count, height)
    open_nodes: set[int] = set()  # on the current path: meeting one again is a recursive alias
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            size, height = 1, 1
            for child in _children(node):
                child_size, child_height = measured.get(id(child), (1, 1))
                size += child_size
                height = max(height, child_height + 1)
            if size > limits.max_nodes:
                raise YamlLoadError(
                    source,
                    node.start_mark.line + 1,
                    f"aliases expand to more than {limits.max_nodes:,} nodes (an alias bomb?)",
                )
            measured[key] = (size, height)
            continue
        known = measured.get(key)
        if depth > limits.max_depth or (known is not None and depth + known[1] - 1 > limits.max_depth):
            raise YamlLoadError(source, node.start_mark.line + 1, f"nested deeper than {limits.max_depth} levels")
        if known is not None:
            continue
        if key in open_nodes:
            raise YamlLoadError(source, node.start_mark.line + 1, "a recursive alias (an anchor used inside itself)")
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node) if not isinstance(child, ScalarNode))
