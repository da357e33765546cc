"""Errors of the Kubernetes client layer, under `beamkube.errors.BeamkubeError`.

Role: data only (no I/O). Every API failure is mapped to one of these classes by HTTP status (and, for 409, by
whether the server reports field-manager conflicts), so callers catch meaning rather than status codes and the
CLI prints one line. Messages never include object bodies (a Secret's data must never reach a terminal).
"""

from __future__ import annotations

from typing import Any

from beamkube.errors import BeamkubeError

_MAX_MESSAGE = 300


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 1] + "…"


class KubeError(BeamkubeError):
    """Base class of everything the cluster layer raises."""

    exit_code = 1


class KubeConfigError(KubeError):
    """No usable kubeconfig/in-cluster config, unknown context, unreadable credentials."""

    exit_code = 2


class ClusterUnreachable(KubeError):
    """The API server could not be reached (DNS, TCP, TLS) even after retries."""


class UnknownKind(KubeError):
    """An object's apiVersion/kind is not one the client knows how to address."""

    exit_code = 2


class ApiError(KubeError):
    """The API server answered with an error Status.

    Attributes: `status` (HTTP code), `reason` (Status.reason, e.g. `AlreadyExists`), `message` (Status.message),
    `causes` (Status.details.causes), `what` (the operation, e.g. `apply Deployment shop/shop`).
    """

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        what: str = "",
        causes: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        self.what = what
        self.causes = causes or []
        self.retry_after = retry_after
        prefix = f"{what}: " if what else ""
        detail = message or reason or "no message"
        super().__init__(_one_line(f"{prefix}{self.label} ({status}): {detail}"))

    label = "API error"


class BadRequest(ApiError):
    label = "bad request"


class Unauthorized(ApiError):
    label = "unauthorized (check the kubeconfig credentials)"


class Forbidden(ApiError):
    label = "forbidden (RBAC denies this)"


class NotFound(ApiError):
    label = "not found"


class Conflict(ApiError):
    """409: a stale resourceVersion or a concurrent write; retried by the client."""

    label = "conflict"


class AlreadyExists(Conflict):
    """409 on create: the object exists (not retried: it is an answer, not a race)."""

    label = "already exists"


class FieldManagerConflict(Conflict):
    """409 on server-side apply: another field manager owns fields beamkube wants to set."""

    label = "fields owned by another manager (re-run with --force-conflicts to take them over)"

    @property
    def fields(self) -> list[str]:
        return [str(c.get("field", "")) for c in self.causes if c.get("type") == "FieldManagerConflict"]


class Gone(ApiError):
    """410: a watch's resourceVersion is too old; the watcher re-lists."""

    label = "gone"


class Invalid(ApiError):
    label = "invalid"


class TooManyRequests(ApiError):
    label = "too many requests"


class ServerError(ApiError):
    label = "server error"


class SchemaRejected(ServerError):
    """500 whose Status says the typed patch could not be built: the body names a field the server's schema
    does not declare (e.g. `lifecycle.preStop.sleep` before Kubernetes 1.30). An answer, never retried."""

    label = "rejected by the server's schema"


TYPED_PATCH_FAILURE = "failed to create typed patch object"


def error_class(status: int, reason: str, causes: list[dict[str, Any]], message: str = "") -> type[ApiError]:
    """The ApiError subclass for an HTTP status (and, for 409, the Status reason and causes; for 500, whether
    the message says the typed patch failed)."""
    if status == 500 and TYPED_PATCH_FAILURE in message:
        return SchemaRejected
    if status == 409:
        if reason == "AlreadyExists":
            return AlreadyExists
        if any(c.get("type") == "FieldManagerConflict" for c in causes):
            return FieldManagerConflict
        return Conflict
    table: dict[int, type[ApiError]] = {
        400: BadRequest,
        401: Unauthorized,
        403: Forbidden,
        404: NotFound,
        410: Gone,
        422: Invalid,
        429: TooManyRequests,
    }
    if status in table:
        return table[status]
    if status >= 500:
        return ServerError
    return ApiError


def is_retryable(error: ApiError) -> bool:
    """409 races, 429 and 5xx are worth another try; ownership conflicts, existing objects and schema rejections
    are answers (400 and 422 are never retried either)."""
    if isinstance(error, FieldManagerConflict | AlreadyExists | SchemaRejected):
        return False
    return isinstance(error, Conflict | TooManyRequests | ServerError)


class RolloutFailed(KubeError):
    """A rollout or a migration Job did not succeed (the report was already printed)."""

    exit_code = 3


class RolloutTimeout(RolloutFailed):
    """A rollout did not finish within the timeout."""


class UnsupportedServer(KubeError):
    """The API server is older than the oldest Kubernetes version beamkube renders for."""

    exit_code = 2


class PreflightFailed(KubeError):
    """Something the plan needs is missing on the cluster, or the server rejects part of it; nothing was
    written."""
