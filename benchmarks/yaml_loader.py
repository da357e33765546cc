"""Benchmark: the cost of beamkube's safe YAML loader (`beamkube.safe_yaml`) against the libraries it could use.

Role: benchmark script (pure computation plus subprocesses for import times; writes nothing). Reports
1. import time of PyYAML, ruamel.yaml and beamkube.safe_yaml (median of 5 fresh interpreters, `-X importtime`);
2. seconds to load a ~10 MB manifest stream (the bundled examples' golden renders, repeated) with PyYAML's C
   SafeLoader, beamkube.kube_yaml (what audit reads with: libyaml events straight to data), beamkube.safe_yaml
   (the reference: kube schema for audit, core schema for specs, both with the limit checks), and ruamel.yaml's
   YAML 1.2 safe loader;
3. seconds to refuse a 9x9 alias bomb and 3,000-deep nesting. Usage:

    .venv/bin/python benchmarks/yaml_loader.py [--megabytes 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def import_ms(module: str) -> float:
    """Cumulative import time of `module` in a fresh interpreter (median of 5)."""
    runs = []
    for _ in range(5):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, check=True
        )
        last = [line for line in result.stderr.splitlines() if line.rstrip().endswith(f" {module}")][-1]
        runs.append(int(last.split("|")[1]) / 1000)
    return statistics.median(runs)


def timed(label: str, action: object) -> None:
    start = time.perf_counter()
    outcome = action()  # type: ignore[operator]
    print(f"  {label:<44} {time.perf_counter() - start:6.2f} s  {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=10.0)
    args = parser.parse_args()

    print("import time (ms, median of 5, cumulative):")
    for module in ("yaml", "ruamel.yaml", "beamkube.safe_yaml"):
        try:
            print(f"  {module:<20} {import_ms(module):6.1f}")
        except (subprocess.CalledProcessError, IndexError):
            print(f"  {module:<20} not installed")

    import yaml

    from beamkube.safe_yaml import MANIFEST_LIMITS, YamlLoadError, load_documents

    unit = "".join(p.read_text() + "---\n" for p in sorted((ROOT / "tests" / "golden").glob("*.yaml")))
    stream = unit * max(1, int(args.megabytes * 1e6 // len(unit)))
    print(f"load a {len(stream) / 1e6:.1f} MB stream of manifests:")
    timed("PyYAML CSafeLoader (no limits)", lambda: sum(1 for _ in yaml.load_all(stream, Loader=yaml.CSafeLoader)))
    from beamkube.kube_yaml import load_manifest_documents

    timed(
        "beamkube.kube_yaml (audit's fast path, limits)",
        lambda: sum(1 for _ in load_manifest_documents(stream, "bench", MANIFEST_LIMITS)),
    )
    for schema in ("kube", "core"):
        timed(
            f"beamkube.safe_yaml {schema} (with limits)",
            lambda schema=schema: sum(1 for _ in load_documents(stream, "bench", schema, MANIFEST_LIMITS)),
        )
    try:
        from ruamel.yaml import YAML

        reference = YAML(typ="safe", pure=True)
        timed("ruamel.yaml safe, YAML 1.2 (pure Python)", lambda: sum(1 for _ in reference.load_all(stream)))
    except ImportError:
        print("  ruamel.yaml not installed")

    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join(["*" + chr(97 + i)] * 9) + "]\n" for i in range(8)
    )
    deep = "x: " + "[" * 3000 + "]" * 3000 + "\n"
    print("refuse hostile input:")
    for label, text in (("9x9 alias bomb", bomb), ("3,000-deep nesting", deep)):

        def refuse(text: str = text) -> str:
            try:
                list(load_documents(text, "bench", "kube", MANIFEST_LIMITS))
            except YamlLoadError as exc:
                return str(exc)
            return "accepted?!"

        timed(label, refuse)


if __name__ == "__main__":
    main()
