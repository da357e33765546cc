"""`beamkube init`'s output: a short, commented `beamkube.yaml` from a detected `Project`.

Role: pure (no I/O). Only what was detected or must be decided is written; everything else keeps the
spec's defaults so the file stays ~15 lines. Each guessed line carries its reason as a comment, and the text
is validated with the real spec loader before it is returned, so `init` can never write a spec that
`render` rejects.
"""

from __future__ import annotations

import json

from beamkube.scaffold.detect import Project
from beamkube.spec.load import load_spec_text
from beamkube.spec.model import Discovery, Identity

SECRET_SUFFIX = "secrets"


def default_image(project: Project) -> str:
    return f"registry.example.com/{project.spec_name}:{project.version or 'latest'}"


def _q(value: str) -> str:
    """A YAML scalar: plain when unambiguous, else a JSON string (valid YAML double-quoted)."""
    plain = value.replace("-", "").replace("_", "").replace(".", "").replace("/", "").replace(":", "")
    if plain.isalnum() and not value[0].isdigit() and value.lower() not in {"true", "false", "null", "yes", "no"}:
        return value
    return json.dumps(value)


def _line(text: str, why: str | None = None, width: int = 44) -> str:
    if why is None:
        return text
    return f"{text.ljust(width)} # {why}"


def spec_yaml(project: Project, *, image: str | None = None, replicas: int = 3) -> str:
    """The commented spec text (validated)."""
    why = {g.what: g.why for g in project.guesses}
    name = project.spec_name
    secret = f"{name}-{SECRET_SUFFIX}"
    out = [
        f"# beamkube.yaml for {project.app}, written by `beamkube init` from its {project.tool} project.",
        "# Guessed values say why; edit freely. `beamkube render` shows the manifests, `beamkube schema`",
        "# lists every field, `beamkube dockerfile` writes the matching image build.",
        _line(f"name: {name}", f"the OTP app `{project.app}` as a DNS label"),
        _line(
            f"image: {_q(image or default_image(project))}",
            None if image else "placeholder: CI deploys with `beamkube deploy --image <registry>/<app>:<sha>`",
        ),
        "release:",
        _line(f"  flavour: {'mix' if project.tool == 'mix' else 'relx'}", why.get("build tool")),
        _line(f"  name: {project.release}", why.get("release")),
    ]
    if project.identity is Identity.STABLE:
        out.append(_line("identity: stable", "per-pod DNS names (StatefulSet), needed by SRV discovery"))
    out.append(f"replicas: {replicas}")
    if project.web_port is None:
        out.append(_line("web: null", "no Phoenix endpoint found: no HTTP port; probes use the distribution port"))
    else:
        out += ["web:", _line(f"  port: {project.web_port}", why.get("web port"))]
        if project.health_path is not None:
            out += [
                "probes:",
                _line(f"  readiness: {{http: {{path: {_q(project.health_path)}}}}}", why.get("health route")),
            ]
    if project.discovery is not None and project.discovery is not _default_discovery(project.identity):
        out += ["cluster:", _line(f"  discovery: {project.discovery.value}", why.get("discovery"))]
    elif project.discovery is not None:
        out.append(f"# cluster.discovery stays the default, {project.discovery.value}: {why.get('discovery')}")
    if project.phx_server:
        out += ["env:", _line('  PHX_SERVER: "true"', why.get("env"))]
    if project.secret_env:
        out.append(f"# Create the Secret first: kubectl create secret generic {secret} --from-literal=<key>=...")
        out.append(_line("secretEnv:", why.get("secretEnv")))
        for variable in project.secret_env:
            key = variable.lower()
            out.append(f"  - {{name: {variable}, secret: {secret}, key: {key}}}")
    if project.migrate_eval is not None:
        out += [
            _line("jobs:", "run before each rollout"),
            "  - name: migrate",
            _line(f"    eval: {json.dumps(project.migrate_eval)}", why.get("migration job")),
        ]
    text = "\n".join(out) + "\n"
    load_spec_text(text, "beamkube.yaml (generated)")
    return text


def _default_discovery(identity: Identity) -> Discovery:
    return Discovery.DNSSRV if identity is Identity.STABLE else Discovery.DNS
