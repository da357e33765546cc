"""An in-process Kubernetes API double speaking real HTTP, built on kmock, for ops and operator tests.

Role: test support (network I/O on 127.0.0.1 only). kmock supplies the HTTP server, request parsing, API
discovery (`/api`, `/apis`, `/apis/<group>/<version>`) and its reaction DSL; kmock's own emulator is too loose
for beamkube (see ../shared/testing-notes.md), so `ApiDouble` routes every known resource to `Store`, an object
store that fails where a real API server fails. It pretends to be one Kubernetes minor (`store.version`,
default 1.33; `/version` says so) and models:

- validation of every write against that version's upstream OpenAPI-derived schemas (kubernetes-validate):
  fields the version does not declare make server-side apply fail with HTTP 500 "failed to create typed
  patch object ... field not declared in schema" (1.28 and `lifecycle.preStop.sleep`), a create/update with
  `fieldValidation=Strict` a 400; other violations of the stored object are 422 Invalid. Registered CRDs
  (`register(..., schema=)`, e.g. BeamApp) reject undeclared fields on apply the same way (structural schema);
- canonical quantities for built-in kinds (`1024Mi` is stored as `1Gi`, `0.5` as `500m`; CRDs keep strings),
  common server defaults (pod template, containers, Service ports, Deployment/StatefulSet/Job specs,
  PriorityClass), immutable fields (selectors, StatefulSet serviceName/volumeClaimTemplates/
  podManagementPolicy, Job templates, Service clusterIP) → 422;
- uid, resourceVersion (one global counter), generation (bumped on spec changes), creationTimestamp; POST 201,
  409 AlreadyExists, 404 for a missing namespace; stale resourceVersions → 409; errors as `Status` JSON;
- server-side apply with field ownership per manager (managedFields): list maps (`x-kubernetes-list-type:
  map`, keys from the upstream definitions) merge entry by entry, equal values are shared by both managers
  (a manager that stops applying a shared field leaves it to the other), fields a manager stopped applying
  are removed, conflicts → 409 with `FieldManagerConflict` causes unless `force=true` (and, as seen on a real
  1.28 server, a server-defaulted PriorityClass field conflicts even when equal); writes without
  `?fieldManager=` are owned by the User-Agent's name (`kubectl`); `dryRun=All`;
- label and field selectors; lists paginated with `limit`/`continue` (410 when the token's version is
  compacted); watches replay from `resourceVersion` (410 Gone once compacted), honour `timeoutSeconds` and
  send BOOKMARKs to clients that allow them; `/status` and `/scale` subresources;
- DELETE: finalizers leave a deletionTimestamp until the last one is removed; with a garbage collector
  (`FakeController(garbage_collection=True)`) deletion is asynchronous: Foreground marks the owner
  (`foregroundDeletion`) until its dependents are gone, Background removes dependents later, Orphan strips
  ownerReferences; without one the cascade is immediate;
- RBAC on demand (`rbac_rules`: PolicyRules as in a Role) → 403 with the authorizer's message.

Not modelled: `spec.replicas` defaulted to 1 on Deployments/StatefulSets that omit it (left unset while
`audit --cluster` cannot tell a defaulted or HPA-owned count from a set one), admission webhooks and Pod
Security admission, OpenAPI documents (`/openapi/v2|v3`: kubectl
needs `--validate=false`), aggregated discovery, strategic-merge patch semantics (merge patch instead),
defaults of kinds beamkube does not render, quantity rounding below milli-units, list-type `set`, per-version
differences of status codes other than the typed-patch 500, watch cache windows (history is the last 2000
events), authentication (any token is accepted), API priority and fairness (429s only when scripted).

Scriptable faults (`fail`, `drop_watches`, `gone_watches`, `compact`, `end_watches`) and a request log (`log`,
`writes()`; each entry with its arrival time and how long it took) let tests inject 409/429/500s, dropped or
ended watches and 410 Gone and count requests.

Extension points (kept stable): a controller plugs in like `tests.support.fakecontroller.FakeController`: it
appends a wake-up callback to `Store.listeners`, and on its own loop, holding `Store.lock`, reads
`Store.entries`/`Store.objects()` and writes through `Store.put` (as a manager) or `Store._replace_entry`
(status/scale-style updates); every write is seen by watchers. `Store.observers` are told of every change
(resource, event type, object) as it happens, so a controller can keep informer-style indexes and visit only
what changed (`tests.support.fakeindex.ChangeIndex`) instead of scanning the store on every wake-up.
`ApiDouble.register`/`unregister` serve or remove a resource (a CRD that is or is not installed).

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
