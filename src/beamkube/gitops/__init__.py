"""GitOps output: `render --format kustomize|helm --out DIR` (a Kustomize base or a Helm chart).

Role: the entry point the render command calls (imported lazily there); writes files through
`beamkube.output`. Both formats start from the objects `render` produced (any number of workloads), add the
ordering `deploy` follows as Argo CD waves/hooks or Helm hooks (`ordering`), and the cookie as a reference
or a sealed/external secret (`cookie`), never as plain text unless `--cookie-file` asked for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from beamkube.spec.model import AppSpec

FORMATS = ("kustomize", "helm")


def gitops_objects(
    objects: list[dict[str, Any]], spec: AppSpec, cookie_from: str | None, plain_cookie: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """The objects to commit (cookie object added when asked) and notes for the user about the cookie."""
    from beamkube.errors import UsageError
    from beamkube.gitops.cookie import cookie_object, parse_cookie_from

    secret = f"Secret {spec.namespace}/{spec.cookie_secret_name}"
    if cookie_from is not None:
        if plain_cookie:
            raise UsageError("--cookie-from and --cookie-file are alternatives: give one")
        extra = cookie_object(spec, parse_cookie_from(cookie_from))
        return [extra, *objects], [f"cookie: {extra['kind']} {spec.cookie_secret_name} creates the {secret}"]
    if plain_cookie:
        return objects, [
            f"cookie: WARNING the {secret} is in these files in plain text (base64 is not encryption); "
            "do not commit it, prefer --cookie-from (docs/gitops.md)"
        ]
    return objects, [
        f"cookie: the {secret} is referenced, not written; create it outside git or use "
        "--cookie-from external:...|sealed:... (docs/gitops.md)"
    ]


def write_gitops(
    fmt: str,
    directory: Path,
    objects: list[dict[str, Any]],
    spec: AppSpec,
    *,
    cookie_from: str | None = None,
    plain_cookie: bool = False,
) -> tuple[list[Path], list[str]]:
    """Write the Kustomize base or Helm chart into `directory`; returns the files and notes for stderr."""
    from beamkube.gitops.ordering import argo_annotated

    committed, notes = gitops_objects(objects, spec, cookie_from, plain_cookie)
    ordered = argo_annotated(committed, spec.cookie_secret_name)
    if fmt == "kustomize":
        from beamkube.gitops.kustomize import write_base

        return write_base(directory, ordered, spec, notes), notes
    from beamkube.gitops.helm import write_chart
    from beamkube.gitops.ordering import helm_annotated

    return write_chart(directory, helm_annotated(ordered), spec, notes), notes
