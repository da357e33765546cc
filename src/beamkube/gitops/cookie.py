"""The Erlang cookie for GitOps output: a reference to a secret manager or a sealed Secret, never plain text.

Role: pure, except `cookie_object` reading the SealedSecret file the user names. A cookie committed to git in
plain text (a Secret is only base64) lets anyone with read access to the repository join the cluster as a
node and run code in it. So by default the GitOps output only *references* the Secret (as `render` does);
`--cookie-from` adds an object that makes the cluster create it:
- `external:<SecretStore|ClusterSecretStore>/<store>[#<remote key>]` → an External Secrets Operator
  `ExternalSecret` (external-secrets.io/v1) that writes the Secret from the store once
  (`refreshPolicy: CreatedOnce`, an immutable target: a cookie changed under running nodes splits the cluster);
- `sealed:<file>` → the user's Bitnami `SealedSecret` (from `kubeseal`), checked to produce the Secret and key
  the pods read, in the app's namespace (strict scope seals name and namespace in).
`--cookie-file` stays the explicit plain-text path (the caller warns).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beamkube.errors import UsageError
from beamkube.render.names import Names, metadata
from beamkube.spec.model import AppSpec

EXTERNAL_SECRETS_API = "external-secrets.io/v1"
SEALED_SECRETS_API = "bitnami.com/v1alpha1"
STORE_KINDS = ("SecretStore", "ClusterSecretStore")
USAGE = "expected external:<SecretStore|ClusterSecretStore>/<store>[#<remote key>] or sealed:<file>"


@dataclass(frozen=True)
class CookieSource:
    mode: str  # "external" or "sealed"
    store_kind: str = ""
    store: str = ""
    remote_key: str = ""
    path: Path | None = None


def parse_cookie_from(text: str) -> CookieSource:
    mode, _, rest = text.partition(":")
    if mode == "sealed" and rest:
        return CookieSource("sealed", path=Path(rest))
    if mode == "external" and rest:
        store_ref, _, remote_key = rest.partition("#")
        kind, _, store = store_ref.partition("/")
        if kind in STORE_KINDS and store:
            return CookieSource("external", store_kind=kind, store=store, remote_key=remote_key)
    raise UsageError(f"--cookie-from {text!r}: {USAGE}")


def external_secret(spec: AppSpec, source: CookieSource) -> dict[str, Any]:
    names = Names.of(spec)
    return {
        "apiVersion": EXTERNAL_SECRETS_API,
        "kind": "ExternalSecret",
        "metadata": metadata(spec, names.cookie_secret, "cookie"),
        "spec": {
            "data": [
                {
                    "remoteRef": {"key": source.remote_key or f"{spec.namespace}/{names.cookie_secret}"},
                    "secretKey": spec.cluster.cookieKey,
                }
            ],
            "refreshPolicy": "CreatedOnce",
            "secretStoreRef": {"kind": source.store_kind, "name": source.store},
            "target": {
                "creationPolicy": "Owner",
                "immutable": True,
                "name": names.cookie_secret,
                "template": {"type": "Opaque"},
            },
        },
    }


def sealed_secret(spec: AppSpec, path: Path) -> dict[str, Any]:
    import yaml

    where = f"--cookie-from sealed:{path}"
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except OSError as exc:
        raise UsageError(f"{where}: cannot be read ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{where}: not YAML ({str(exc).splitlines()[0]})") from None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise UsageError(f"{where}: expected exactly one SealedSecret document")
    obj: dict[str, Any] = documents[0]
    meta = obj.get("metadata") or {}
    encrypted = (obj.get("spec") or {}).get("encryptedData") or {}
    expected = {
        "kind": ("SealedSecret", obj.get("kind")),
        "apiVersion": (SEALED_SECRETS_API, obj.get("apiVersion")),
        "metadata.name": (spec.cookie_secret_name, meta.get("name")),
        "metadata.namespace": (spec.namespace, meta.get("namespace")),
    }
    for field, (want, got) in expected.items():
        if want != got:
            raise UsageError(f"{where}: {field} is {got!r}, expected {want!r} (the Secret the pods read)")
    if spec.cluster.cookieKey not in encrypted:
        raise UsageError(f"{where}: spec.encryptedData has no key {spec.cluster.cookieKey!r} (cluster.cookieKey)")
    return obj


def cookie_object(spec: AppSpec, source: CookieSource) -> dict[str, Any]:
    if source.mode == "sealed":
        assert source.path is not None
        return sealed_secret(spec, source.path)
    return external_secret(spec, source)
