"""An in-process Kubernetes API double speaking real HTTP, built on kmock, for ops and operator tests.

Role: test support (network I/O on 127.0.0.1 only). kmock supplies the HTTP server, request parsing, API
discovery (`/api`, `/apis`, `/apis/<group>/<version>`) and its reaction DSL; kmock's own emulator is too loose
for beamkube (see ../shared/testing-notes.md), so `ApiDouble` routes every known resource to `Store`, a small
but faithful object store:

- uid, resourceVersion (one global counter), generation (bumped on spec changes), creationTimestamp;
- POST answers 201, 409 AlreadyExists when the object exists, 404 when the namespace does not;
- errors are `Status` objects served as `application/json` (what lightkube and httpx clients expect);
- server-side apply (`application/apply-patch+yaml`) creates missing objects, tracks field ownership per
  manager (metadata.managedFields), removes fields a manager stopped applying, answers 409 with
  `FieldManagerConflict` causes unless `force=true`; merge, strategic-merge and JSON patches and PUT record
  "Update" ownership; `dryRun=All` computes the answer without storing it;
- a stale `metadata.resourceVersion` in PUT/PATCH bodies is a 409 Conflict;
- the namespace in the URL goes into metadata; label selectors (equality, `!=`, `in`, `notin`, existence)
  and field selectors (`a.b=c`, `!=`) are honoured for list and watch;
- watch honours `resourceVersion` (replays history, 410 Gone when it was compacted away) and
  `timeoutSeconds`; `status` is only written through the `/status` subresource for kinds that have one;
- DELETE cascades to dependents by ownerReferences (background/foreground) unless `Orphan`; finalizers
  leave a deletionTimestamp;
- a few server defaults (Service clusterIP/sessionAffinity/type, pod-template dnsPolicy/schedulerName,
  Deployment progressDeadlineSeconds) so `diff` has defaulted fields to ignore.

Scriptable faults (`fail`, `drop_watches`, `gone_watches`, `compact`) and a request log (`log`, `writes()`) let
tests inject 409/429/500s, dropped watches and 410 Gone and count write requests.

Use from sync tests (server in a background thread with its own loop):

    with serve(tmp_path) as running:        # running.kubeconfig, running.api (ApiDouble), running.controller
        ...KUBECONFIG=running.kubeconfig...

or from async tests (kopf in the same loop):

    async with ApiDouble() as api, kmock.Server(api) as server:
        api.write_kubeconfig(path, str(server.url))
"""

from tests.support.apidouble.base import (
    BUILTIN,
    DEFAULTED_FIELDS,
    SYSTEM_META,
    TYPED_QUANTITIES,
    ApiFailure,
    RDef,
    field_match,
    label_match,
    now,
)
from tests.support.apidouble.faults import Fault, Logged, parse_path
from tests.support.apidouble.fields import fields_v1, json_patch, leaves, merge_patch, owned_leaves
from tests.support.apidouble.http import ApiDouble
from tests.support.apidouble.lifecycle import Store
from tests.support.apidouble.running import Running, secret_value, serve, template_hash
from tests.support.apidouble.store import Entry, Key, Subscriber

__all__ = [
    "BUILTIN",
    "DEFAULTED_FIELDS",
    "SYSTEM_META",
    "TYPED_QUANTITIES",
    "ApiDouble",
    "ApiFailure",
    "Entry",
    "Fault",
    "Key",
    "Logged",
    "RDef",
    "Running",
    "Store",
    "Subscriber",
    "field_match",
    "fields_v1",
    "json_patch",
    "label_match",
    "leaves",
    "merge_patch",
    "now",
    "owned_leaves",
    "parse_path",
    "secret_value",
    "serve",
    "template_hash",
]
