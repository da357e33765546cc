"""Real releases built the way the generated Dockerfile builds them, and started the way the pod starts them.

Role: test support with process and file I/O (and, for `run_pod`, mount/network namespaces: needs root).
- `build_release` replays the Dockerfile's builder stage (`beamkube.scaffold.dockerfile.build_plan`) with the
  machine's Debian toolchain: each COPY copies exactly the listed project paths into a scratch dir standing in
  for /build, each RUN runs there with the stage's ENV, in order, so a layer that needs a file copied later
  fails here as it would in `docker build`. Steps marked `tooling` (apt-get, hex/rebar downloads) are skipped:
  the machine already has the tools and there is no network. Results are cached per session.
- `run_pod` starts the rendered container command as the rendered user, inside `unshare -m -n -p -f -u`:
  a private root that is a read-only tmpfs holding read-only binds of /usr (and /dev, a fresh /proc), the
  release read-only at `release.root`, each configMap volume read-only at its mountPath, each emptyDir as a
  writable tmpfs, and nothing else writable. The env is the one the kubelet would give (resolved by
  `tests.support.beam.resolve_env`), the pod IP is on the namespace's loopback, /etc/hosts maps the pod's DNS
  name to it. A shell script inside waits until `bin/<release> pid` answers, records facts, then sends SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beamkube.scaffold.detect import Project
from beamkube.scaffold.dockerfile import BUILD_DIR, Plan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
_CACHE: dict[tuple[str, str], Path] = {}


class BuildError(RuntimeError):
    pass


def _run_env(work: Path, extra: dict[str, str]) -> dict[str, str]:
    home = work.parent / f"{work.name}-home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "MIX_HOME": str(home / ".mix"),
        **extra,
    }


def _copy_into(project: Path, sources: tuple[str, ...], dest: Path) -> None:
    """Docker's COPY: a directory's contents go into dest/; a file goes to dest/<name> (dest ends in /)."""
    dest.mkdir(parents=True, exist_ok=True)
    for source in sources:
        path = project / source
        if path.is_dir():
            shutil.copytree(path, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("_build", "deps"))
        else:
            shutil.copy2(path, dest / path.name)


def replay_builder(project: Path, plan: Plan, work: Path) -> list[str]:
    """Run the builder stage in `work` (standing in for BUILD_DIR). Returns the RUN commands executed."""
    env_extra: dict[str, str] = {}
    executed: list[str] = []
    for step in plan.steps:
        if step.tooling or step.instruction in ("ARG", "WORKDIR"):
            if step.instruction == "WORKDIR":
                assert step.args == BUILD_DIR, step.args
            continue
        if step.instruction == "ENV":
            key, _, value = step.args.partition("=")
            env_extra[key] = value
        elif step.instruction == "COPY":
            _copy_into(project, step.sources, work / step.dest)
        elif step.instruction == "RUN":
            result = subprocess.run(
                ["sh", "-c", step.args], cwd=work, env=_run_env(work, env_extra), capture_output=True, text=True,
                timeout=300,
            )
            if result.returncode != 0:
                raise BuildError(f"RUN {step.args!r} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
            executed.append(step.args)
        else:
            raise BuildError(f"the replay does not know {step.instruction}")
    return executed


def build_release(project_dir: Path, project: Project, plan: Plan, scratch: Path) -> Path:
    """The release directory the Dockerfile's `COPY --from=builder` takes, built once per session."""
    key = (str(project_dir), repr(plan))
    if key in _CACHE:
        return _CACHE[key]
    work = Path(tempfile.mkdtemp(prefix=f"{project_dir.name}-build-", dir=scratch))
    replay_builder(project_dir, plan, work)
    release = work / plan.release_dir
    _CACHE[key] = release
    return release


# --- starting a release as the rendered pod ------------------------------------------------------


@dataclass(frozen=True)
class PodRun:
    returncode: int
    output: str
    facts: dict[str, str]
    seconds: float


_SANDBOX = r"""
set -eu
N=$BK_ROOT
mount --make-rprivate /
mount -t tmpfs -o mode=0755 tmpfs "$N"
mkdir "$N/usr" "$N/dev" "$N/proc" "$N/etc"
mount --rbind /usr "$N/usr"; mount -o remount,bind,ro "$N/usr"
for l in bin sbin lib lib32 lib64 libx32; do if [ -L "/$l" ]; then ln -s "$(readlink "/$l")" "$N/$l"; fi; done
mount --rbind /dev "$N/dev"
mount -t proc proc "$N/proc"
for f in passwd group nsswitch.conf; do cp "/etc/$f" "$N/etc/$f"; done
cp -a /etc/alternatives "$N/etc/"
cp "$BK_HOSTS" "$N/etc/hosts"
: > "$N/etc/resolv.conf"
echo "$BK_HOSTNAME" > "$N/etc/hostname"
hostname "$BK_HOSTNAME"
ip link set lo up
ip addr add "$BK_POD_IP/32" dev lo
# bind mounts: "container_path host_path" per line; ro; tmpfs mounts: container paths
while read -r target source; do
  [ -n "$target" ] || continue
  mkdir -p "$N$target"; mount --bind "$source" "$N$target"; mount -o remount,bind,ro "$N$target"
done < "$BK_BINDS"
for target in $BK_TMPFS; do mkdir -p "$N$target"; mount -t tmpfs -o mode=1777 tmpfs "$N$target"; done
mount -o remount,bind,ro "$N"
cd "$N"
exec chroot "$N" /usr/bin/setpriv --reuid "$BK_UID" --regid "$BK_GID" --clear-groups --no-new-privs \
  /bin/sh -c "$BK_INNER" sh "$@"
"""

# A Job's container: run to completion, report the exit status and what it wrote.
_ONE_SHOT = r"""
shift
"$@" >/tmp/.pod.log 2>&1
echo "FACT exit=$?"
echo "FACT written=$(cd /tmp && find . -mindepth 1 ! -name .pod.log | sort | tr '\n' ' ')"
echo "--- pod log"; cat /tmp/.pod.log
"""

# Runs as the pod's user inside the private root. $1 is the release script, the rest the container command.
_INNER = r"""
script=$1; shift
"$@" >/tmp/.pod.log 2>&1 &
started=$!
t0=$(date +%s%N)
# Ask nothing until the start script has exec'd into beam.smp: relx's script rewrites
# $RELX_OUT_FILE_PATH/vm.args on every invocation (`pid` included), and a concurrent rewrite while the
# starting script reads it fails the boot ("need to have exactly one of either -name or -sname").
i=0
while [ $i -lt 300 ] && [ "$(cat /proc/$started/comm 2>/dev/null)" != beam.smp ]; do
  kill -0 $started 2>/dev/null || break
  i=$((i+1)); sleep 0.05
done
echo "FACT comm=$(cat /proc/$started/comm 2>/dev/null)"
pid=""
i=0
while [ $i -lt 150 ]; do
  pid=$("$script" pid 2>/dev/null | tr -d '[:space:]') || pid=""
  [ -n "$pid" ] && break
  kill -0 $started 2>/dev/null || break
  i=$((i+1)); sleep 0.1
done
t1=$(date +%s%N)
echo "FACT started=$started"
echo "FACT pid=$pid"
echo "FACT boot_ms=$(( (t1 - t0) / 1000000 ))"
echo "FACT query=$(eval "$BK_NODE_QUERY" 2>&1 | tr -d '[:space:]')"
echo "FACT uid=$(id -u):$(id -g)"
echo "FACT writable_root=$(touch /probe 2>/dev/null && echo yes || echo no)"
echo "FACT writable_release=$(touch "$BK_RELEASE_ROOT/probe" 2>/dev/null && echo yes || echo no)"
echo "FACT written=$(cd /tmp && find . -mindepth 1 ! -name .pod.log | sort | tr '\n' ' ')"
if [ -f "$HOME/.erlang.cookie" ]; then
  if [ "$(cat "$HOME/.erlang.cookie")" = "$RELEASE_COOKIE" ]; then c=secret; else c=other; fi
  echo "FACT home_cookie=$c $(stat -c %Y "$HOME/.erlang.cookie") $(date +%s)"
fi
kill -TERM $started 2>/dev/null || true
set +e
wait $started
echo "FACT exit=$?"
echo "--- pod log"; cat /tmp/.pod.log
"""


def run_pod(
    *,
    release: Path,
    release_root: str,
    command: list[str],
    env: dict[str, str],
    uid: int,
    gid: int,
    config_mounts: dict[str, Path],
    tmpfs_mounts: list[str],
    pod_ip: str,
    hostname: str,
    hosts: dict[str, str],
    node_query: str,
    scratch: Path,
    timeout: float = 60.0,
    one_shot: bool = False,
) -> PodRun:
    """Start `command` as the pod would and return the facts the inner script recorded."""
    binds = scratch / "binds"
    binds.write_text(
        "".join(f"{target} {source}\n" for target, source in [(release_root, release), *config_mounts.items()])
    )
    hosts_file = scratch / "hosts"
    hosts_file.write_text("127.0.0.1 localhost\n" + "".join(f"{ip} {names}\n" for ip, names in hosts.items()))
    script = command[0]
    root = scratch / "pod-root"  # an empty mount point for the private root (a tmpfs while the pod runs)
    root.mkdir()
    full_env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",  # Docker's default
        **env,
        "BK_ROOT": str(root),
        "BK_BINDS": str(binds),
        "BK_HOSTS": str(hosts_file),
        "BK_HOSTNAME": hostname,
        "BK_POD_IP": pod_ip,
        "BK_TMPFS": " ".join(tmpfs_mounts),
        "BK_UID": str(uid),
        "BK_GID": str(gid),
        "BK_INNER": _ONE_SHOT if one_shot else _INNER,
        "BK_NODE_QUERY": node_query,
        "BK_RELEASE_ROOT": release_root,
    }
    started = time.monotonic()
    result = subprocess.run(
        ["unshare", "-m", "-n", "-p", "-f", "-u", "--kill-child", "sh", "-c", _SANDBOX, "sandbox", script, *command],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    facts: dict[str, str] = {}
    for line in result.stdout.splitlines():
        if line.startswith("FACT "):
            key, _, value = line[5:].partition("=")
            facts[key] = value.strip()
    return PodRun(result.returncode, output, facts, seconds)


def rendered_container(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The workload's pod spec and its single container."""
    for obj in objects:
        if obj.get("kind") in ("Deployment", "StatefulSet"):
            pod = obj["spec"]["template"]["spec"]
            return pod, pod["containers"][0]
    raise AssertionError("no workload rendered")
