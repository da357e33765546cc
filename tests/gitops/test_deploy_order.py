"""The GitOps ordering is the order `beamkube deploy` really applies in: deploy runs against the API double and
its writes, in the order the server received them, must never go back to a lower Argo CD wave; the cookie
Secret deploy creates comes first (wave -3 for a committed cookie object), and the migration Job (the only
Sync hook) completed before the first write of wave 0.
"""

from __future__ import annotations

from pathlib import Path

from beamkube.gitops.ordering import ARGO_HOOK, ARGO_WAVE, WAVE_COOKIE, argo_annotated
from beamkube.render import render
from beamkube.spec import load_spec
from tests.ops.conftest import SHOP, cli, cluster  # noqa: F401  (fixtures)
from tests.support.apidouble import Running


def plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def test_deploy_writes_objects_in_non_decreasing_argo_waves(cluster: Running, cli, tmp_path: Path) -> None:  # noqa: F811
    spec_path = tmp_path / "shop.yaml"
    spec_path.write_text(SHOP)
    spec = load_spec(spec_path)
    annotated = argo_annotated(render(spec).objects, spec.cookie_secret_name)
    wave = {(plural(o["kind"]), o["metadata"]["name"]): int(o["metadata"]["annotations"][ARGO_WAVE]) for o in annotated}
    wave[("secrets", spec.cookie_secret_name)] = WAVE_COOKIE  # deploy creates it; GitOps commits a reference
    result = cli("deploy", str(spec_path))
    assert result.code == 0, result.text
    first_writes: list[tuple[str, str]] = []
    for request in cluster.api.writes():
        # The cookie is created with a POST to the collection (no name in the path); everything else is applied.
        name = request.name or (spec.cookie_secret_name if request.plural == "secrets" else None)
        target = (str(request.plural), str(name))
        if request.subresource is None and target in wave and target not in first_writes:
            first_writes.append(target)
    assert set(first_writes) == set(wave)  # deploy wrote every object the GitOps output holds
    waves = [wave[t] for t in first_writes]
    assert waves == sorted(waves), list(zip(first_writes, waves, strict=True))
    assert first_writes[0] == ("secrets", spec.cookie_secret_name)
    # The Sync hook (migration Job) completed before anything of wave 0 was written.
    (job,) = [o for o in annotated if o["metadata"]["annotations"].get(ARGO_HOOK) == "Sync"]
    history = list(cluster.api.store.history)
    job_done = min(
        rv for rv, _g, p, _k, o in history
        if p == "jobs" and o["metadata"]["name"] == job["metadata"]["name"] and (o.get("status") or {}).get("succeeded")
    )  # fmt: skip
    wave_zero = {t for t, w in wave.items() if w == 0}
    first_zero = min(rv for rv, _g, p, _k, o in history if (p, o["metadata"]["name"]) in wave_zero)
    assert job_done < first_zero
