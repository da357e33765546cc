"""What every spec model shares: the patterns, the `Strict` base class and the field-level checks.

Role: data only (no I/O). The models are `msgspec.Struct` classes: built in microseconds at import (a cold
`render` pays nothing for them) and validated in C by `msgspec.convert`. `Strict` keeps the few
pydantic-style method names the rest of beamkube calls (`model_validate`, `model_copy`, `model_dump`), so
callers did not change with the port from pydantic.

msgspec matches a `pattern` with `re.search`, where `$` also matches before a final newline (`"app\\n"`
would pass `^[a-z]+$`); `exact()` ends each validation pattern with `\\Z` instead. The published JSON
Schema and the CRD show `$` again (spec/schema.py), the ECMA/RE2 spelling, in which `$` is the end of text.
"""

import re
from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

import msgspec
from msgspec import Meta

API_VERSION = "beamkube.io/v1alpha1"

# DNS-1035 label, short enough that "<name>-headless" and StatefulSet pod names stay within 63 characters.
NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
RELEASE_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]+)?)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$"
CPU_PATTERN = r"^([0-9]+(\.[0-9]+)?|[0-9]+m)$"
MEMORY_PATTERN = r"^[0-9]+(\.[0-9]+)?(k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$"
PERCENT_OR_INT = r"^([0-9]+%?)$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
CRON_PATTERN = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$"
# Kubernetes label syntax: an optional DNS-subdomain prefix and a name of at most 63 characters.
LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"  # noqa: E501
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
HOST_PATTERN = r"^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
ABSOLUTE_PATH = r"^/"
NO_SPACES = r"^[^\s]+$"
SECRET_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"
SUB_PATH_PATTERN = r"^[^/\s][^\s]*$"
# Environment variables the renderer sets itself: a user value would be a duplicate entry (server-side apply
# rejects it) or silently lose to beamkube's.
RESERVED_ENV = frozenset(
    {
        "POD_NAME", "POD_NAMESPACE", "POD_IP", "HOME", "DNS_CLUSTER_QUERY", "VMARGS_PATH", "REPLACE_OS_VARS",
        "RELEASE_NODE", "RELEASE_COOKIE", "RELEASE_DISTRIBUTION", "RELEASE_TMP", "RELEASE_VM_ARGS",
        "RELEASE_CONFIG_DIR", "RELEASE_MUTABLE_DIR", "RELX_OUT_FILE_PATH",
        "ERL_CRASH_DUMP", "ERL_CRASH_DUMP_SECONDS", "ERL_MAX_PORTS",
    }
)  # fmt: skip
RESERVED_ENV_PREFIX = "BEAMKUBE_"
# Labels the renderer sets itself; a user value would be overwritten (version: from the image tag, if any).
OWN_LABELS = frozenset(f"app.kubernetes.io/{k}" for k in ("name", "instance", "managed-by", "part-of", "component"))
# Kubernetes appends 11 characters to a CronJob's name for its Jobs, so a CronJob name has at most 52.
CRONJOB_NAME_MAX = 52
JOB_DIGEST_LEN = 8
INT32_MAX = 2**31 - 1  # Kubernetes int32 fields (and user/group IDs: IsValidUserID, IsValidGroupID)
INT64_MAX = 2**63 - 1

Loc = tuple[str | int, ...]

if TYPE_CHECKING:
    # Tells mypy that subclasses inherit `frozen` (msgspec's runtime does; its stubs cannot say so).
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


def exact(pattern: str) -> str:
    """`pattern` for validation: anchored at the very end of the text (see the module docstring)."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern


def published(pattern: str) -> str:
    """The inverse of `exact`: the pattern as the JSON Schema and the CRD spell it."""
    return pattern[:-2] + "$" if pattern.endswith(r"\Z") else pattern


def text(pattern: str, description: str | None = None, *, max_length: int | None = None) -> Meta:
    """A string constraint: `pattern` (matched to the end of the text), a description, a length limit."""
    return Meta(pattern=exact(pattern), description=description, max_length=max_length)


Cpu = Annotated[str, text(CPU_PATTERN, "CPU quantity, e.g. `500m` or `2`.")]
Memory = Annotated[str, text(MEMORY_PATTERN, "Memory quantity, e.g. `512Mi`.")]
Port = Annotated[int, Meta(ge=1, le=65535)]
Name = Annotated[str, text(NAME_PATTERN)]


class FieldError(ValueError):
    """A cross-field rule's failure that names the field to blame (relative to the model that raises it), so
    the loader can report its path and line instead of the model's. msgspec reports a `ValueError` raised in
    `__post_init__` with the model's path and keeps the exception as `__cause__`."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _not_reserved(name: str, loc: Loc) -> None:
    if name in RESERVED_ENV or name.startswith(RESERVED_ENV_PREFIX):
        reserved = ", ".join(sorted(RESERVED_ENV))
        raise FieldError(loc, f"{name!r} is set by beamkube; choose another name (reserved: BEAMKUBE_*, {reserved})")


def check_env_names(value: dict[str, str], where: Loc = (), *, reserved: bool = True) -> dict[str, str]:
    """Plain env of the app or of a process: variable names only, none that beamkube owns (`reserved`)."""
    for key in value:
        if not re.fullmatch(ENV_NAME_PATTERN, key):
            raise FieldError((*where, key), f"{key!r} is not a variable name (letters, digits, '_'; no leading digit)")
        if reserved:
            _not_reserved(key, (*where, key))
    return value


def check_labels(value: dict[str, str], what: str, where: Loc = (), *, values: bool = True) -> dict[str, str]:
    """Kubernetes label (or annotation key) syntax, with the rule in the message."""
    for key, item in value.items():
        if not re.fullmatch(LABEL_KEY_PATTERN, key) or len(key) > 317:
            raise FieldError((*where, key), f"{key!r} is not a Kubernetes {what} key ([prefix/]name, name ≤ 63 chars)")
        if values and not re.fullmatch(LABEL_VALUE_PATTERN, item):
            raise FieldError(
                (*where, key),
                f"{item!r} is not a Kubernetes label value (≤ 63 of A-Z a-z 0-9 - _ . , alphanumeric at both ends)",
            )
    return value


def check_own_labels(value: dict[str, str], where: Loc) -> None:
    """Labels a user may add: valid syntax and none of the app.kubernetes.io/* ones beamkube sets."""
    for key in value:
        if key in OWN_LABELS:
            raise FieldError((*where, key), "is set by beamkube on every object (selectors depend on it); remove it")
    check_labels(value, "label", where)


def check_int_or_percent(value: int | str | None, where: Loc, message: str) -> None:
    """An int-or-string field of Kubernetes: 0 to INT32_MAX, or a percentage from 0% to 100%."""
    bad_int = isinstance(value, int) and not 0 <= value <= INT32_MAX
    if bad_int or (isinstance(value, str) and not re.fullmatch(r"(100|[1-9]?[0-9])%", value)):
        raise FieldError(where, message.format(value=value))


@dataclass_transform(frozen_default=True, field_specifiers=(msgspec.field,))
class Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Base for every spec model: unknown fields are errors (typos must not be silently ignored), and a
    validated spec is immutable."""

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        """Validate Python data (the loader's strictness: no text-to-number or number-to-text coercion).
        Raises `msgspec.ValidationError` (a `ValueError`); `beamkube.spec.load` words it for users."""
        return msgspec.convert(data, cls, strict=True)

    def model_copy(self, *, update: Mapping[str, Any]) -> Self:
        """A shallow copy with some fields replaced and *not* validated again: render's views of an already
        valid spec (a process's, a Job's). To re-check the rules, validate a dump instead (ops/common.py)."""
        import copy  # only render's views need it

        clone = copy.copy(self)  # msgspec's __copy__: no __post_init__, unlike msgspec.structs.replace
        for name, value in update.items():
            msgspec.structs.force_setattr(clone, name, value)
        return clone

    def model_dump(self, *, mode: Literal["json"] = "json", exclude_none: bool = False) -> dict[str, Any]:
        """The spec as JSON-compatible data (enums as their values), which `model_validate` accepts again."""
        dumped = _dump(self, exclude_none)
        assert isinstance(dumped, dict)
        return dumped


def _dump(value: Any, exclude_none: bool) -> Any:
    if isinstance(value, msgspec.Struct):
        fields = ((name, getattr(value, name)) for name in value.__struct_fields__)
        return {name: _dump(item, exclude_none) for name, item in fields if item is not None or not exclude_none}
    if isinstance(value, dict):
        return {key: _dump(item, exclude_none) for key, item in value.items()}
    if isinstance(value, list):
        return [_dump(item, exclude_none) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value
