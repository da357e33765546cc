"""Locally made base images for the real image build test (a test fixture, not something beamkube ships).

Role: test support with process I/O (mmdebstrap, podman; needs root). No image registry is reachable here,
so the images the generated Dockerfile's FROM lines name are made from Debian's own packages and stored
under exactly those names:
- `docker.io/library/debian:<DEBIAN_VERSION>`: `mmdebstrap --variant=minbase` of the same Debian release;
- `docker.io/hexpm/elixir:<elixir>-erlang-<otp>-debian-<DEBIAN_VERSION>` and
  `docker.io/hexpm/erlang:<otp>-debian-<DEBIAN_VERSION>`: one image, minbase plus Debian's Erlang and
  Elixir, tagged with both names. The versions in the tags are the ones Debian
  ships (bookworm: Elixir 1.14.0, OTP 25.2.3), passed to `beamkube dockerfile --elixir/--otp`, so the
  names do not lie about the content; what hexpm's real images contain beyond that is not checked.
Each image carries a label with a digest of its recipe: an image already in local storage with the same
recipe is reused (across tests of one run, and across runs on the same machine).
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

RECIPE_LABEL = "io.beamkube.test.recipe"
# No rebar3 package (it drags in common_test, observer and wxWidgets: 1.2 GB): the Dockerfile's own ADD
# fetches rebar3. No compiler or git: the fixtures have no dependencies and no c_src, so their Dockerfile
# installs neither (what hexpm's images really carry is not this test's subject).
BUILDER_PACKAGES = (
    "erlang-base", "erlang-dev", "erlang-syntax-tools", "erlang-tools", "erlang-inets", "erlang-ssl",
    "erlang-public-key", "erlang-crypto", "erlang-asn1", "erlang-parsetools", "erlang-runtime-tools",
    "elixir", "ca-certificates",
)  # fmt: skip
DEBIAN_ELIXIR = "1.14.0"
DEBIAN_OTP = "25.2.3"
PODMAN = ("podman", "--runtime", "/usr/sbin/runc")


@dataclass(frozen=True)
class BaseImages:
    runtime: str
    builder_names: tuple[str, ...]
    seconds_made: float  # 0 when every image was reused


def _recipe(codename: str, packages: tuple[str, ...]) -> str:
    return hashlib.sha256(f"minbase|{codename}|{','.join(packages)}".encode()).hexdigest()[:16]


def _label(name: str) -> str | None:
    result = subprocess.run(
        [*PODMAN, "image", "inspect", "--format", f'{{{{ index .Labels "{RECIPE_LABEL}" }}}}', name],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return result.stdout.strip() if result.returncode == 0 else None


def _make(codename: str, packages: tuple[str, ...], names: tuple[str, ...], scratch: Path) -> None:
    recipe = _recipe(codename, packages)
    if all(_label(name) == recipe for name in names):
        return
    tar = scratch / f"{recipe}.tar"
    command = ["mmdebstrap", "--variant=minbase", "--quiet", '--aptopt=APT::Install-Recommends "false"']
    if packages:
        command.append("--include=" + ",".join(packages))
    result = subprocess.run([*command, codename, str(tar)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"mmdebstrap failed:\n{result.stderr[-3000:]}")
    change = [
        "--change",
        f"LABEL {RECIPE_LABEL}={recipe}",
        "--change",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ]
    result = subprocess.run(
        [*PODMAN, "import", *change, str(tar), names[0]], capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(f"podman import failed: {result.stderr[-2000:]}")
    for name in names[1:]:
        subprocess.run([*PODMAN, "tag", names[0], name], check=True, capture_output=True, timeout=60)
    tar.unlink()


def make_base_images(debian: str) -> BaseImages:
    """The three FROM images for `debian` (a tag like bookworm-20250224-slim), made or reused."""
    import time

    codename = debian.split("-", 1)[0]
    runtime = f"docker.io/library/debian:{debian}"
    builder = (
        f"docker.io/hexpm/elixir:{DEBIAN_ELIXIR}-erlang-{DEBIAN_OTP}-debian-{debian}",
        f"docker.io/hexpm/erlang:{DEBIAN_OTP}-debian-{debian}",
    )
    started = time.monotonic()
    reused = all(_label(n) == _recipe(codename, ()) for n in (runtime,)) and all(
        _label(n) == _recipe(codename, BUILDER_PACKAGES) for n in builder
    )
    with tempfile.TemporaryDirectory(prefix="bk-base-", dir="/var/tmp") as scratch, ThreadPoolExecutor(2) as pool:
        jobs = [
            pool.submit(_make, codename, (), (runtime,), Path(scratch)),
            pool.submit(_make, codename, BUILDER_PACKAGES, builder, Path(scratch)),
        ]
        for job in jobs:
            job.result()
    return BaseImages(runtime, builder, 0.0 if reused else time.monotonic() - started)
