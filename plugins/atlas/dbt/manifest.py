"""The dbt manifest cut into one small manifest per source, so each DAG renders only its own.

Cosmos (``LoadMode.DBT_MANIFEST``) parses the whole manifest and builds every node for each
task group it renders: with one group per source DAG, parsing ``dags/`` costs sources². At setup,
right after ``dbt parse``, :func:`split_manifest` writes ``target/manifests/<source_tag>.json``
(and ``index.json``)::

    PYTHONPATH=plugins .venv/bin/python -m atlas.dbt.manifest split

A slice holds what Cosmos 1.15 reads from a manifest (``metadata``, ``nodes``, ``sources``,
``exposures``, ``selectors``; see ``DbtGraph.load_from_dbt_manifest``) restricted to the tag's
nodes, the tests on them, and the direct parents of both; Cosmos renders the same tasks from it
as from the full manifest. ``parent_map`` / ``child_map`` are restricted alike; macros, docs and
the rest, which Cosmos never reads, are left out.

At DAG-parse time :func:`resolve_slices` uses the slices when their index names the sha256 of the
current full manifest. A missing or stale split falls back to slicing the full manifest in
memory, once per process, into a temporary folder; neither file raises
:class:`~atlas.exceptions.DbtProjectError`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from atlas.dbt.project import PARSE_COMMAND, manifest_path, require_manifest
from atlas.exceptions import DbtProjectError

log = logging.getLogger(__name__)

SLICES_DIRNAME = "manifests"
"""Folder of the slices, next to the full manifest (``target/manifests``)."""
INDEX_NAME = "index.json"
TAG_PREFIX = "source_"
RENDERED_TYPES = ("model", "snapshot")
"""Resource types that make a navigate group (tests follow them)."""
SPLIT_COMMAND = "PYTHONPATH=plugins .venv/bin/python -m atlas.dbt.manifest split"
"""What ``make setup`` runs after ``dbt parse`` (quoted in log messages)."""
_RESOURCE_KEYS = ("nodes", "sources", "exposures")


@dataclass(frozen=True)
class Slices:
    """The per-tag manifests of one full manifest: their folder and each tag's models/snapshots."""

    directory: Path
    tags: dict[str, tuple[str, ...]]

    def path(self, tag: str) -> Path:
        """The slice of ``tag`` (exists only when ``tag`` is in :attr:`tags`)."""
        return self.directory / f"{tag}.json"


def slices_dir(manifest: Path | None = None) -> Path:
    """``target/manifests`` next to the full manifest (default :func:`atlas.dbt.project.manifest_path`)."""
    return (manifest or manifest_path()).parent / SLICES_DIRNAME


def source_tags(data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each ``source_*`` tag of the manifest's models and snapshots, with their unique ids."""
    found: dict[str, list[str]] = {}
    for unique_id, node in data.get("nodes", {}).items():
        if node.get("resource_type") in RENDERED_TYPES:
            for tag in node.get("tags") or ():
                if tag.startswith(TAG_PREFIX):
                    found.setdefault(tag, []).append(unique_id)
    return {tag: tuple(sorted(ids)) for tag, ids in sorted(found.items())}


def built_relations(data: dict[str, Any], tag: str) -> list[tuple[str, str]]:
    """(schema, table) of every model and snapshot tagged ``tag`` that dbt materialises (not
    ephemeral), sorted: the tables a source's build writes (a slice also holds parents it refs)."""
    return sorted(
        {
            (node["schema"], node.get("alias") or node["name"])
            for node in data.get("nodes", {}).values()
            if node["resource_type"] in ("model", "snapshot")
            and node["config"].get("materialized") != "ephemeral"
            and tag in node.get("tags", [])
        }
    )


def slice_manifest(data: dict[str, Any], tag: str) -> dict[str, Any]:
    """The part of a manifest Cosmos needs to render ``select=["tag:<tag>"]``.

    Kept: every resource carrying ``tag`` (a test across sources carries the tag of the source
    it is defined on, see :func:`check_cross_source_tests`), every test all of whose models and
    snapshots carry it, the direct parents of all those, and the exposures built on them. A test
    of another source's child on one of this source's models is not kept: the child's DAG runs it.
    """
    resources = {key: data.get(key) or {} for key in _RESOURCE_KEYS}
    everything = {uid: res for key in _RESOURCE_KEYS for uid, res in resources[key].items()}
    own = {uid for uid, res in everything.items() if tag in (res.get("tags") or ())}
    kept = set(own)
    for uid, res in everything.items():
        if _follows(res, own, everything):
            kept.add(uid)
    kept |= {parent for uid in list(kept) for parent in _parents(everything[uid]) if parent in everything}
    sliced: dict[str, Any] = {"metadata": data.get("metadata", {})}
    for key in _RESOURCE_KEYS:
        sliced[key] = {uid: res for uid, res in resources[key].items() if uid in kept}
    sliced["selectors"] = data.get("selectors") or {}
    for key in ("parent_map", "child_map"):
        sliced[key] = {
            uid: [o for o in others if o in kept]
            for uid, others in (data.get(key) or {}).items()
            if uid in kept
        }
    return sliced


def _follows(resource: dict[str, Any], own: set[str], everything: dict[str, Any]) -> bool:
    """An exposure on one of ``own``, or a test whose models and snapshots are all in ``own``."""
    kind = resource.get("resource_type")
    if kind == "exposure":
        return bool(own & set(_parents(resource)))
    built = set(_built_parents(resource, everything))
    return kind == "test" and bool(built) and built <= own


def check_cross_source_tests(data: dict[str, Any]) -> None:
    """Every test on two sources' models carries the tag of the source of the model it is defined on.

    The tag is what selects the test (``dbt build --select tag:source_<name>`` with cautious
    indirect selection leaves out a test whose parents are not all selected): untagged, it would
    run in no DAG; tagged with the parent's source, it would make that source's DAG check a child
    it does not build. Raises :class:`~atlas.exceptions.DbtProjectError` naming the test, its
    file and the tag to add.
    """
    nodes = data.get("nodes") or {}
    problems = []
    for _, node in sorted(nodes.items()):
        if node.get("resource_type") != "test":
            continue
        sources = {tag for p in _built_parents(node, nodes) if (tag := _source_tag(nodes[p])) is not None}
        if len(sources) < 2:
            continue
        child = nodes.get(node.get("attached_node") or "")
        want = _source_tag(child) if child else None
        tags = {t for t in node.get("tags") or () if t.startswith(TAG_PREFIX)}
        if want is None or tags != {want}:
            problems.append(
                f"{node.get('original_file_path')}: test {node.get('name')} spans {', '.join(sorted(sources))}: "
                f"give it `config: {{tags: [{want or 'source_<child>'}]}}` (the source of the model it is "
                f"defined on, whose DAG runs it), it has {sorted(tags) or 'none'}"
            )
    if problems:
        raise DbtProjectError("tests across sources without their child's tag:\n" + "\n".join(problems))


def _source_tag(node: dict[str, Any]) -> str | None:
    tags = [t for t in node.get("tags") or () if t.startswith(TAG_PREFIX)]
    return tags[0] if len(tags) == 1 else None


def _built_parents(resource: dict[str, Any], everything: dict[str, Any]) -> list[str]:
    """The models and snapshots ``resource`` depends on."""
    return [p for p in _parents(resource) if (everything.get(p) or {}).get("resource_type") in RENDERED_TYPES]


def _parents(resource: dict[str, Any]) -> list[str]:
    return (resource.get("depends_on") or {}).get("nodes") or []


def write_slices(data: dict[str, Any], out_dir: Path, digest: str) -> dict[str, Path]:
    """Write each tag's slice and the index into ``out_dir``; unchanged files are not rewritten.

    Slices of tags gone from the manifest are removed; the index is written last, so a reader
    that finds an index matching the manifest finds its slices complete.
    """
    check_cross_source_tests(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    tags = source_tags(data)
    written: dict[str, Path] = {}
    for tag in tags:
        written[tag] = out_dir / f"{tag}.json"
        write_if_changed(written[tag], json.dumps(slice_manifest(data, tag), separators=(",", ":")))
    for stale in out_dir.glob(f"{TAG_PREFIX}*.json"):
        if stale.stem not in tags:
            log.info("removing the slice of %s: no dbt node carries that tag any more", stale.stem)
            stale.unlink()
    index = {"manifest_sha256": digest, "tags": {tag: list(ids) for tag, ids in tags.items()}}
    write_if_changed(out_dir / INDEX_NAME, json.dumps(index, indent=1, sort_keys=True) + "\n")
    return written


def split_manifest(manifest: Path | None = None, out_dir: Path | None = None) -> dict[str, Path]:
    """Cut the full manifest into ``target/manifests/<tag>.json`` (idempotent); the files by tag."""
    manifest = require_manifest(manifest)
    raw = manifest.read_bytes()
    written = write_slices(_parse(raw, manifest), out_dir or slices_dir(manifest), _sha256(raw))
    log.info("split %s into %s slice(s)", manifest, len(written))
    return written


def resolve_slices(manifest: Path | None = None) -> Slices:
    """The slices to render from: the split of ``make setup``, else an in-memory split (cached).

    Cached per process on the size and mtime of the manifest and of the index, so a rebuilt
    manifest or a new split is picked up, and the full manifest is read at most once otherwise.
    """
    manifest = manifest or manifest_path()
    index = slices_dir(manifest) / INDEX_NAME
    return _resolve(str(manifest), _stat_key(manifest), str(index), _stat_key(index))


def _stat_key(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=8)
def _resolve(
    manifest: str, manifest_key: tuple[int, int] | None, index: str, index_key: tuple[int, int] | None
) -> Slices:
    full, index_path = Path(manifest), Path(index)
    if index_key is not None:
        try:
            recorded = json.loads(index_path.read_text(encoding="utf-8"))
            tags = {tag: tuple(ids) for tag, ids in recorded["tags"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the unreadable slice index %s (%s)", index_path, exc)
        else:
            if manifest_key is None:
                return Slices(index_path.parent, tags)  # slices shipped without the full manifest
            raw = _read(full)
            if recorded.get("manifest_sha256") == _sha256(raw):
                return Slices(index_path.parent, tags)
            log.warning("the dbt manifest slices in %s are stale: run `%s`", index_path.parent, SPLIT_COMMAND)
            return _split_in_memory(full, raw)
    if manifest_key is None:
        require_manifest(full)  # raises the "run make setup" error
    log.warning(
        "no dbt manifest slices in %s: slicing %s in memory (run `%s`)",
        index_path.parent,
        full,
        SPLIT_COMMAND,
    )
    return _split_in_memory(full, _read(full))


def _split_in_memory(full: Path, raw: bytes) -> Slices:
    """Slices of ``raw`` in a temporary folder named by its digest (shared by processes alike)."""
    digest = _sha256(raw)
    out_dir = Path(tempfile.gettempdir()) / f"atlas-dbt-manifests-{digest[:16]}"
    data = _parse(raw, full)
    write_slices(data, out_dir, digest)
    return Slices(out_dir, source_tags(data))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DbtProjectError(f"dbt manifest {path} is unreadable ({exc}): run `{PARSE_COMMAND}`") from exc


def _parse(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise DbtProjectError(f"dbt manifest {path} is unreadable ({exc}): run `{PARSE_COMMAND}`") from exc
    if not isinstance(data, dict):
        raise DbtProjectError(f"dbt manifest {path} is not a JSON object: run `{PARSE_COMMAND}`")
    return data


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` (and its folders) unless it holds it already; whether it wrote.

    Atomic: a parsing DAG processor or ``dbt parse`` never sees half a file, and an unchanged
    file keeps its mtime (``make`` and dbt's partial parse see no change).
    """
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def main(argv: list[str] | None = None) -> int:
    """``python -m atlas.dbt.manifest split [--manifest PATH] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="atlas.dbt.manifest", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    split = sub.add_parser("split", help="write target/manifests/<source_tag>.json from target/manifest.json")
    split.add_argument(
        "--manifest", type=Path, default=None, help="the full manifest (default: the project's)"
    )
    split.add_argument("--out", type=Path, default=None, help="output folder (default: target/manifests)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        written = split_manifest(args.manifest, args.out)
    except DbtProjectError as exc:
        print(f"atlas.dbt.manifest split: {exc}", file=sys.stderr)
        return 2
    for tag, path in written.items():
        print(f"{tag}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
