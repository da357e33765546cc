"""`beamkube init`: what it detects on fixture projects, the spec it writes, and how it refuses to clobber."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from beamkube.scaffold.detect import DetectError, Guess, ProjectFiles, detect
from beamkube.spec import load_spec
from beamkube.spec.model import Discovery, Identity
from tests.scaffold.helpers import beamkube, copy_fixture

# What a person reading each fixture would conclude; `init` must reach the same facts.
EXPECTED: dict[str, dict[str, Any]] = {
    "mix_app": {
        "name": "mix-app", "flavour": "mix", "release": "mix_app", "web": None, "readiness": None,
        "discovery": Discovery.DNS, "identity": Identity.STATELESS, "jobs": {}, "env": {}, "secret_env": [],
    },
    "rebar_app": {
        "name": "rebar-app", "flavour": "relx", "release": "rebar_app", "web": None, "readiness": None,
        "discovery": Discovery.DNS, "identity": Identity.STATELESS, "jobs": {}, "env": {}, "secret_env": [],
    },
    "init_phoenix": {
        "name": "shop", "flavour": "mix", "release": "shop_web", "web": 4040, "readiness": "/ops/v1/healthz",
        "discovery": Discovery.DNS, "identity": Identity.STATELESS, "jobs": {"migrate": "Shop.Release.migrate()"},
        "env": {"PHX_SERVER": "true"}, "secret_env": ["DATABASE_URL", "SECRET_KEY_BASE"],
    },
    "init_libcluster": {
        "name": "chat-server", "flavour": "mix", "release": "chat_server", "web": None, "readiness": None,
        "discovery": Discovery.DNSSRV, "identity": Identity.STABLE, "jobs": {}, "env": {}, "secret_env": [],
    },
    "init_ecto_bare": {
        "name": "ledger", "flavour": "mix", "release": "ledger", "web": 8080, "readiness": None,
        "discovery": Discovery.KUBERNETES, "identity": Identity.STATELESS,
        "jobs": {"migrate": "Ecto.Migrator.with_repo(repo, &Ecto.Migrator.run(&1, :up, all: true))"},
        "env": {}, "secret_env": [],
    },
    "init_rebar_norelx": {
        "name": "kv-store", "flavour": "relx", "release": "kv_store", "web": None, "readiness": None,
        "discovery": Discovery.DNS, "identity": Identity.STATELESS, "jobs": {}, "env": {}, "secret_env": [],
    },
}  # fmt: skip


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_init_detects_the_facts_and_writes_a_valid_spec(fixture: str, tmp_path: Path) -> None:
    project = copy_fixture(fixture, tmp_path)
    result = beamkube("init", str(project))
    assert result.returncode == 0, result.stderr
    spec = load_spec(project / "beamkube.yaml")
    want = EXPECTED[fixture]
    assert spec.name == want["name"]
    assert spec.release.flavour.value == want["flavour"]
    assert spec.release_name == want["release"]
    assert (spec.web.port if spec.web else None) == want["web"]
    readiness = spec.probes.readiness
    assert (readiness.http.path if readiness and readiness.http else None) == want["readiness"]
    assert spec.effective_discovery is want["discovery"]
    assert spec.identity is want["identity"]
    assert spec.env == want["env"]
    assert [s.name for s in spec.secretEnv] == want["secret_env"]
    jobs = {job.name: job.eval or "" for job in spec.jobs}
    assert set(jobs) == set(want["jobs"])
    for name, expression in want["jobs"].items():
        assert expression in jobs[name]
    # Every guess is printed with its reason; the release guess names the file it came from.
    release_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("release "))
    assert want["release"] in release_line
    assert any(source in release_line for source in ("mix.exs", "rebar.config", ".app.src"))
    assert "wrote" in result.stdout and result.stderr == ""


def test_versions_come_from_tool_versions_and_requirements(tmp_path: Path) -> None:
    phoenix = beamkube("init", str(copy_fixture("init_phoenix", tmp_path)))
    assert ".tool-versions: elixir 1.16.2-otp-26" in phoenix.stdout
    assert ".tool-versions: erlang 26.2.5" in phoenix.stdout
    mix = beamkube("init", str(copy_fixture("mix_app", tmp_path)))
    assert "~> 1.14" in mix.stdout and "mix.exs `elixir:` requirement" in mix.stdout
    rebar = beamkube("init", str(copy_fixture("rebar_app", tmp_path)))
    assert "minimum_otp_vsn" in rebar.stdout and " 25 " in rebar.stdout


def test_guessed_lines_carry_their_reason_as_comments(tmp_path: Path) -> None:
    project = copy_fixture("init_phoenix", tmp_path)
    assert beamkube("init", str(project)).returncode == 0
    lines = (project / "beamkube.yaml").read_text().splitlines()

    def line(start: str) -> str:
        return next(item for item in lines if item.strip().startswith(start))

    assert "# config/runtime.exs" in line("port: 4040")
    assert "# lib/shop_web/router.ex" in line("readiness:")
    assert "# ecto_sql dep; lib/shop/release.ex" in line("eval:")
    assert "# first entry of `releases:` in mix.exs" in line("name: shop_web")
    assert "dns: dns_cluster dep" in line("# cluster.discovery stays the default")


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    project = copy_fixture("mix_app", tmp_path)
    (project / "beamkube.yaml").write_text("# mine\n")
    refused = beamkube("init", str(project))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "use --force" in refused.stderr
    assert (project / "beamkube.yaml").read_text() == "# mine\n"
    forced = beamkube("init", str(project), "--force", "--image", "ghcr.io/acme/mix-app:1.0")
    assert forced.returncode == 0, forced.stderr
    assert load_spec(project / "beamkube.yaml").image == "ghcr.io/acme/mix-app:1.0"
    assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []


def test_output_is_deterministic(tmp_path: Path) -> None:
    project = copy_fixture("init_phoenix", tmp_path)
    assert beamkube("init", str(project)).returncode == 0
    first = (project / "beamkube.yaml").read_bytes()
    assert beamkube("init", str(project), "--force").returncode == 0
    assert (project / "beamkube.yaml").read_bytes() == first


def test_not_a_project_is_one_line(tmp_path: Path) -> None:
    result = beamkube("init", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "no mix.exs or rebar.config" in result.stderr
    assert not (tmp_path / "beamkube.yaml").exists()


def _files(**texts: str) -> ProjectFiles:
    return ProjectFiles(root="p", texts=texts, entries=frozenset())


def test_detection_reads_code_shapes_not_comments() -> None:
    mix = """
    def project, do: [app: :pay, version: "1.0.0", deps: deps(), releases: releases()]
    defp releases, do: [pay_node: [applications: [pay: :permanent]]]
    defp deps do
      [
        # {:libcluster, "~> 3.3"},
        {:phoenix, "~> 1.7"}
      ]
    end
    """
    router = """
    scope "/api" do
      pipe_through :api
      post "/health", H, :post
      get "/orders/status-report", O, :report
      scope "/internal" do
        get "/ping", H, :ping
      end
    end
    get "/healthz", H, :root
    """
    project = detect(_files(**{"mix.exs": mix, "lib/pay_web/router.ex": router}))
    assert project.release == "pay_node"  # a `releases()` helper, not the app name
    assert project.discovery is None  # the libcluster line is a comment
    assert project.health_path == "/api/internal/ping"  # scopes nest; POST and status-report are not probes
    assert project.web_port == 4000  # Phoenix default, said so
    assert any("Phoenix default" in g.why for g in project.guesses)


def test_rebar_detection_ignores_erlang_comments() -> None:
    config = '%% {relx, [{release, {ghost, "9"}, [ghost]}]}.\n{minimum_otp_vsn, "26.1"}.\n'
    app_src = "{application, real_app, [{vsn, \"1\"}]}."
    project = detect(_files(**{"rebar.config": config, "src/real_app.app.src": app_src}))
    assert (project.release, project.release_configured, project.otp_minimum) == ("real_app", False, "26.1")
    with pytest.raises(DetectError, match="no relx release and no src"):
        detect(_files(**{"rebar.config": "{deps, []}.\n"}))


def test_libcluster_names_that_beamkube_would_not_render_are_flagged() -> None:
    mix = 'def project, do: [app: :chat, deps: [{:libcluster, "~> 3.3"}]]'
    config = """
    config :libcluster, topologies: [k8s: [strategy: Cluster.Strategy.Kubernetes.DNS,
      config: [service: "chat-nodes", application_name: "chat_app"]]]
    """

    def warnings_for(text: str) -> list[Guess]:
        guesses = detect(_files(**{"mix.exs": mix, "config/runtime.exs": text})).guesses
        return [g for g in guesses if g.what == "warning"]

    warnings = warnings_for(config)
    assert [g.value for g in warnings] == ["service name", "node basename"]
    assert "beamkube renders chat-headless" in warnings[0].why and "start with chat@" in warnings[1].why
    matching = config.replace("chat-nodes", "chat-headless").replace("chat_app", "chat")
    assert warnings_for(matching) == []
