"""`--cookie-from`: what is accepted, and one-line errors naming the file and field for what is not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .support import cli, kustomize_build

SEALED = {
    "apiVersion": "bitnami.com/v1alpha1",
    "kind": "SealedSecret",
    "metadata": {"name": "chat-erlang-cookie", "namespace": "chat"},
    "spec": {"encryptedData": {"cookie": "AgB3dGhpcyBpcyBub3QgcmVhbGx5IGVuY3J5cHRlZA=="}},
}


def sealed_file(tmp_path: Path, **changes: object) -> Path:
    obj = yaml.safe_load(yaml.safe_dump(SEALED))
    for dotted, value in changes.items():
        node = obj
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    path = tmp_path / "cookie.sealed.yaml"
    path.write_text(yaml.safe_dump(obj))
    return path


def test_a_sealed_secret_is_committed_as_is_in_the_first_wave(tmp_path: Path) -> None:
    path = sealed_file(tmp_path)
    out = tmp_path / "base"
    cli("render", "--example", "chat-libcluster", "--format", "kustomize", "--out", str(out), "--cookie-from",
        f"sealed:{path}")  # fmt: skip
    built = kustomize_build(out)
    assert built[0]["kind"] == "SealedSecret" and built[0]["spec"] == SEALED["spec"]
    assert built[0]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-3"
    assert not any(o["kind"] == "Secret" for o in built)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metadata__namespace": "other"}, "metadata.namespace is 'other', expected 'chat'"),
        ({"metadata__name": "cookie"}, "metadata.name is 'cookie', expected 'chat-erlang-cookie'"),
        ({"kind": "Secret"}, "kind is 'Secret', expected 'SealedSecret'"),
        ({"spec__encryptedData": {"other": "x"}}, "no key 'cookie'"),
    ],
)
def test_a_sealed_secret_for_another_secret_is_refused(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    path = sealed_file(tmp_path, **changes)
    out = tmp_path / "base"
    result = cli("render", "--example", "chat-libcluster", "--format", "kustomize", "--out", str(out),
                 "--cookie-from", f"sealed:{path}", check=False)  # fmt: skip
    assert result.returncode == 2 and message in result.stderr and str(path) in result.stderr
    assert result.stderr.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize(
    "value", ["external:Vault/x", "external:SecretStore/", "sealed:", "plain:x", "external:ClusterSecretStore"]
)
def test_malformed_cookie_sources_are_refused(value: str, tmp_path: Path) -> None:
    result = cli("render", "--example", "erlang-kv", "--format", "helm", "--out", str(tmp_path / "c"),
                 "--cookie-from", value, check=False)  # fmt: skip
    assert result.returncode == 2 and "external:<SecretStore|ClusterSecretStore>/<store>" in result.stderr
    assert result.stderr.count("\n") == 1


def test_cookie_file_and_cookie_from_together_and_json_output_are_refused(tmp_path: Path) -> None:
    cookie = tmp_path / "cookie"
    cookie.write_text("s3cr3t-cookie-value-0123456789")
    both = cli("render", "--example", "erlang-kv", "--format", "kustomize", "--out", str(tmp_path / "b"),
               "--cookie-file", str(cookie), "--cookie-from", "external:SecretStore/s", check=False)  # fmt: skip
    assert both.returncode == 2 and "alternatives" in both.stderr and "s3cr3t" not in both.stderr
    json_out = cli("render", "--example", "erlang-kv", "--format", "helm", "--out", str(tmp_path / "j"), "-o", "json",
                   check=False)  # fmt: skip
    assert json_out.returncode == 2 and "YAML" in json_out.stderr
