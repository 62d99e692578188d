"""DAG-parse benchmark: the whole dags/ folder with 50 generated sources, Cosmos groups included.

    python bench/bench_parse.py [--sources 50] [--repeat 1] [--keep]

Method. Builds disposable project roots (``ATLAS_ROOT``) whose ``dags/``, ``plugins/`` and
``include/sql`` link to this repository, whose ``include/sources`` holds N copies of the sample
sources under new names (``crm_001`` …), and whose dbt manifest gives every copy clones of the
dbt nodes (models, snapshots, their tests) of the sample it copies, tagged ``source_<copy>``: the
manifest grows with the sources as a real project's does, and each generated DAG renders its own
Cosmos navigate group exactly as the samples do. Then ``python -m atlas.dbt.manifest split`` cuts
it per source, as ``make setup`` does. Each case is one DagBag fill over dags/ in a fresh
interpreter:

a) baseline: an empty sources folder (the global DAGs only);
b) factory_1 / factory: one / N sources with the repository's manifest (the copies own no dbt
   nodes, so no Cosmos group: the factory alone; factory_1 isolates the one-off import cost);
c) cosmos: the N sources, each with its Cosmos navigate group, rendered from its slice;
d) cosmos_nosplit: the same without the split (setup skipped it): the full manifest is sliced
   in memory once per process.

Then, in one more interpreter, the per-DAG Cosmos render cost: the navigate group of each of the
N sources built alone from its slice, and of the first few from the full N-source manifest (what
every group paid before the split; N of them is what the whole folder paid).

Prints the seconds of the DagBag fill and of the whole subprocess (interpreter start and imports
included), and the ms per generated DAG ((case - baseline) / N). Target: (c) < 5 s in total.
Airflow's import timeout (``dagbag_import_timeout``, 30 s by default) is lifted in the children so
a slow case is measured rather than cut off; the report says when a case would exceed it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ("crm", "shop", "support")
TARGET_SECONDS = 5.0
DAGBAG_IMPORT_TIMEOUT = 30.0

_CHILD = """
import json, sys, time
started = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
imported = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
filled = time.perf_counter()
print(json.dumps({
    "import_s": imported - started,
    "fill_s": filled - imported,
    "dags": len(bag.dags),
    "tasks": sum(len(d.tasks) for d in bag.dags.values()),
    "errors": {k: v[-300:] for k, v in bag.import_errors.items()},
    "placeholders": sorted(d for d, dag in bag.dags.items() if "config-error" in dag.tags),
}))
"""


_RENDER_CHILD = """
import datetime as dt, json, sys, time
from pathlib import Path
from airflow.sdk import DAG
from atlas.config.loader import load_source, source_files
from atlas.dbt.project import manifest_path
from atlas.dbt.task_group import build_navigate_group, render_navigate_group, source_tag
configs = [load_source(p) for p in source_files(Path(sys.argv[1]))]
full_count = int(sys.argv[2])
start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
def timed(make):
    with DAG(f"render_{time.perf_counter_ns()}", schedule=None, start_date=start) as dag:
        started = time.perf_counter()
        make(dag)
        return time.perf_counter() - started, len(dag.tasks)
slice_s, tasks = zip(*(timed(lambda dag, c=c: build_navigate_group(c, dag=dag)) for c in configs))
full_s = [
    timed(lambda dag, c=c: render_navigate_group(source_tag(c), dag=dag, manifest=manifest_path()))[0]
    for c in configs[:full_count]
]
print(json.dumps({"slice_s": slice_s, "full_s": full_s, "tasks": sum(tasks), "groups": len(configs),
                  "manifest_mb": manifest_path().stat().st_size / 1e6}))
"""
FULL_RENDERS = 5
"""Groups rendered from the full manifest in the per-DAG measure (each costs what N did before)."""


def render_costs(root: Path, sources: Path, base: Path) -> dict:
    """Per-group Cosmos render times from slices and from the full manifest, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _RENDER_CHILD, str(sources), str(FULL_RENDERS)],
        env=_env(root, sources, base),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"render failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_root(base: Path, count: int, *, dbt: str) -> tuple[Path, Path]:
    """A project root with ``count`` generated sources; returns (root, its sources folder).

    ``dbt``: ``none`` (the repository's manifest: the copies own no dbt node), ``full`` (cloned
    nodes, no split) or ``split`` (cloned nodes, split per source as ``make setup`` does).
    """
    root = base / f"root_{dbt}"
    (root / "include").mkdir(parents=True)
    for name in ("dags", "plugins"):
        (root / name).symlink_to(ROOT / name)
    if (ROOT / "include" / "sql").exists():
        (root / "include" / "sql").symlink_to(ROOT / "include" / "sql")
    sources = root / "include" / "sources"
    sources.mkdir()
    copies: dict[str, list[str]] = {s: [] for s in SAMPLES}
    for i in range(count):
        sample = SAMPLES[i % len(SAMPLES)]
        name = f"{sample}_{i:03d}"
        text = (ROOT / "include" / "sources" / f"{sample}.yaml").read_text(encoding="utf-8")
        text = text.replace(f"\nname: {sample}\n", f"\nname: {name}\n", 1)
        (sources / f"{name}.yaml").write_text(text, encoding="utf-8")
        copies[sample].append(name)
    _copy_dbt_project(root, copies if dbt != "none" else {})
    if dbt in ("none", "split"):
        split = subprocess.run(
            [sys.executable, "-m", "atlas.dbt.manifest", "split"],
            env=_env(root, sources, base),
            capture_output=True,
            text=True,
            check=False,
        )
        if split.returncode != 0:
            sys.exit(f"split failed:\n{split.stderr[-3000:]}")
    return root, sources


def _copy_dbt_project(root: Path, copies: dict[str, list[str]]) -> None:
    """The dbt project with a manifest in which every copy owns clones of its sample's nodes."""
    project = ROOT / "include" / "atlas_dbt"
    target = root / "include" / "atlas_dbt"
    shutil.copytree(project, target, ignore=shutil.ignore_patterns("target", "logs"), symlinks=True)
    manifest_file = project / "target" / "manifest.json"
    if not manifest_file.is_file():
        sys.exit(f"no dbt manifest at {manifest_file}: run `make setup` first")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    clones: dict[str, dict] = {}
    for sample, names in copies.items():
        tag = f"source_{sample}"
        own = {uid: node for uid, node in nodes.items() if tag in node.get("tags", ())}
        for name in names:
            renamed = {uid: f"{uid}__{name}" for uid in own}
            for uid, node in own.items():
                clone = json.loads(json.dumps(node))
                clone["unique_id"] = renamed[uid]
                clone["name"] = f"{node['name']}__{name}"
                clone["tags"] = [f"source_{name}" if t == tag else t for t in node.get("tags", ())]
                deps = clone.get("depends_on", {}).get("nodes", [])
                clone.setdefault("depends_on", {})["nodes"] = [renamed.get(d, d) for d in deps]
                clones[renamed[uid]] = clone
            for uid, node in nodes.items():  # tests attached to the sample's nodes follow them
                if (
                    node.get("resource_type") == "test"
                    and set(node.get("depends_on", {}).get("nodes", [])) & own.keys()
                ):
                    clone = json.loads(json.dumps(node))
                    clone["unique_id"] = f"{uid}__{name}"
                    clone["depends_on"]["nodes"] = [renamed.get(d, d) for d in node["depends_on"]["nodes"]]
                    clones[clone["unique_id"]] = clone
    nodes.update(clones)
    (target / "target").mkdir(exist_ok=True)
    (target / "target" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _env(root: Path, sources: Path, base: Path) -> dict[str, str]:
    """The environment of a child interpreter: isolated homes, the generated root and sources."""
    home = Path(tempfile.mkdtemp(dir=base, prefix="run-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {
        # bytecode cached as a deployed image has it, in a folder of the bench (see warm-up)
        "PYTHONPYCACHEPREFIX": str(base / "pycache"),
        "TMPDIR": str(home),  # the in-memory split of cosmos_nosplit lands here, removed with the bench
        "ATLAS_ROOT": str(root),
        "ATLAS_SOURCES_DIR": str(sources),
        "ATLAS_STRICT_SOURCES": "1",
        "HOME": str(home),
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "600",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), str(ROOT / "dags")]),
    }


def parse_once(root: Path, sources: Path, base: Path) -> dict:
    """One DagBag fill over dags/ in a fresh interpreter; adds the subprocess wall time."""
    env = _env(root, sources, base)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root / "dags")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"parse failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["errors"] or result["placeholders"]:
        sys.exit(f"parse reported errors: {result['errors']} placeholders: {result['placeholders']}")
    result["wall_s"] = wall
    return result


def _load() -> str:
    """The 1/5/15-minute load averages, to read the figures against."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case; the median is shown")
    parser.add_argument("--keep", action="store_true", help="keep the generated project root")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="atlas-bench-parse-"))
    try:
        factory_root, factory_sources = build_root(base, args.sources, dbt="none")
        cosmos_root, cosmos_sources = build_root(base, args.sources, dbt="split")
        nosplit_root, nosplit_sources = build_root(base, args.sources, dbt="full")
        empty = base / "empty_sources"
        empty.mkdir()
        single = base / "single_source"
        single.mkdir()
        first = sorted(factory_sources.glob("*.yaml"))[0]
        shutil.copy(first, single / first.name)
        print(
            f"generated {args.sources} sources (copies of {', '.join(SAMPLES)}) under {base}; each copy owns "
            "clones of its sample's dbt nodes (tag source_<copy>) in the generated manifest, split per source"
        )
        print(f"load average at start: {_load()}")
        parse_once(cosmos_root, cosmos_sources, base)  # warm-up, untimed: compiles the bytecode
        print(
            "bytecode: compiled by one untimed warm-up run into a cache of the bench (PYTHONPYCACHEPREFIX), "
            "as an image ships .pyc; without it every child compiles ~750 modules from source"
        )
        cases = {
            "baseline": (factory_root, empty),
            "factory_1": (factory_root, single),
            "factory": (factory_root, factory_sources),
            "cosmos": (cosmos_root, cosmos_sources),
            "cosmos_nosplit": (nosplit_root, nosplit_sources),
        }
        runs = {case: [parse_once(r, f, base) for _ in range(args.repeat)] for case, (r, f) in cases.items()}
        keys = ("fill_s", "wall_s", "import_s")
        med = {case: {k: statistics.median(r[k] for r in rs) for k in keys} for case, rs in runs.items()}
        print(f"{'case':<16}{'dags':>6}{'tasks':>7}{'DagBag fill s':>15}{'subprocess s':>14}{'ms/DAG':>9}")
        for case, rs in runs.items():
            generated = rs[0]["dags"] - runs["baseline"][0]["dags"]
            per_dag = (
                (med[case]["fill_s"] - med["baseline"]["fill_s"]) / generated * 1000 if generated else 0.0
            )
            print(
                f"{case:<16}{rs[0]['dags']:>6}{rs[0]['tasks']:>7}{med[case]['fill_s']:>15.2f}"
                f"{med[case]['wall_s']:>14.2f}{per_dag:>9.1f}"
            )
        fixed = med["factory_1"]["fill_s"] - med["baseline"]["fill_s"]
        marginal = (med["factory"]["fill_s"] - med["factory_1"]["fill_s"]) / max(args.sources - 1, 1) * 1000
        print(
            f"factory: one-off cost of the first source DAG (imports) {fixed:.2f} s, then {marginal:.1f} ms per DAG"
        )
        print(f"airflow import before the fill: {med['baseline']['import_s']:.2f} s (not in the fill)")
        render = render_costs(cosmos_root, cosmos_sources, base)
        per_slice = statistics.median(render["slice_s"]) * 1000
        per_full = statistics.median(render["full_s"]) * 1000
        print(
            f"Cosmos navigate group alone ({render['groups']} groups, {render['tasks']} tasks, full manifest "
            f"{render['manifest_mb']:.1f} MB): {per_slice:.1f} ms per group from its slice (median; the first, "
            f"which imports, {render['slice_s'][0] * 1000:.0f} ms), {per_full:.1f} ms from the full manifest "
            f"(median of {len(render['full_s'])}) -> {args.sources} groups: {per_slice * args.sources / 1000:.2f} s "
            f"sliced vs {per_full * args.sources / 1000:.2f} s unsliced"
        )
        total = med["cosmos"]["fill_s"]
        verdict = "OK" if total < TARGET_SECONDS else "OVER TARGET"
        print(
            f"target: {args.sources} source DAGs with Cosmos groups parse in < {TARGET_SECONDS:.0f} s -> {total:.2f} s {verdict}"
        )
        if max(m["fill_s"] for m in med.values()) >= DAGBAG_IMPORT_TIMEOUT:
            print(
                f"WARNING: a case is over Airflow's default dagbag_import_timeout ({DAGBAG_IMPORT_TIMEOUT:.0f} s): "
                "no DAG would load"
            )
        print(f"load average at end: {_load()}")
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
