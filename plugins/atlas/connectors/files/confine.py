"""Where a files source may read: the source roots, and the checks that keep it inside them.

A local source reads only below the **source roots**: ``$ATLAS_SOURCE_ROOT`` (read at call time;
one folder or several separated by ``os.pathsep`` like ``PATH``, relative ones under the project
root), by default the repository's ``include/``. The roots and every path are compared resolved
(symlinks followed), and ``/proc``, ``/sys`` and ``/dev`` are never read whatever the roots say.

Checked twice: when the YAML is loaded (:func:`location_problem`, :func:`path_problem`, from the
models of ``config.py``), and when the files are read (:func:`confined_folder`,
:func:`confined_file`, :func:`open_confined`, from ``reader.py``), because a worker's roots and
the files themselves may differ from what the DAG processor saw: a symlink inside the location
that points out of it is refused by name, and a file is opened without following a symlink and
checked again through its descriptor.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from atlas.constants import INCLUDE_DIR, ROOT
from atlas.exceptions import ConnectorError

SOURCE_ROOT_ENV = "ATLAS_SOURCE_ROOT"
"""The folders local sources may read below (``os.pathsep``-separated); default ``include/``."""

NEVER_READ = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Kernel and device file systems: never a source, whatever ``$ATLAS_SOURCE_ROOT`` says."""

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
"""No symlink as the last component, and no wait on a FIFO swapped in after listing."""


def source_roots() -> list[Path]:
    """The source roots now, resolved: ``$ATLAS_SOURCE_ROOT``'s folders, else ``include/``.

    Raises ``ValueError`` for a root that is the file system's root or one of :data:`NEVER_READ`.
    """
    entries = [e.strip() for e in os.environ.get(SOURCE_ROOT_ENV, "").split(os.pathsep) if e.strip()]
    roots = []
    for entry in entries or [str(INCLUDE_DIR)]:
        root = local_path(entry).resolve()
        if root == Path(root.anchor) or _never_read(root):
            raise ValueError(
                f"{SOURCE_ROOT_ENV} names {entry!r}, which would let a source read system files: "
                "name the folders that hold source files"
            )
        roots.append(root)
    return roots


def local_path(location: str) -> Path:
    """A local location as written: absolute, or relative to the project root (not resolved)."""
    path = Path(location)
    return path if path.is_absolute() else ROOT / path


def location_problem(location: str) -> str | None:
    """Why a local ``location`` leaves the source roots, or ``None`` when it stays inside."""
    if ".." in PurePosixPath(location).parts:
        return "has a '..' segment: a location names a folder below the source roots, without '..'"
    try:
        roots = source_roots()
    except ValueError as exc:
        return str(exc)
    real = local_path(location).resolve()
    if not _inside(real, roots):
        shown = ", ".join(str(r) for r in roots)
        return (
            f"resolves to {real}, outside the source roots ({shown}): a source reads only below "
            f"them; move its files there or add their folder to {SOURCE_ROOT_ENV}"
        )
    return None


def path_problem(pattern: str) -> str | None:
    """Why a (formatted) ``path`` glob could leave its location or bucket prefix, or ``None``."""
    if not pattern:
        return "is empty: name the files below the location, e.g. 'orders/*.csv'"
    if pattern.startswith("/"):
        return "is absolute: a path is a glob below the connector's location; write it relative to it"
    if ".." in PurePosixPath(pattern).parts:
        return "has a '..' segment, which would leave the connector's location: remove it"
    return None


def confined_folder(location: str) -> Path:
    """The resolved folder of a local ``location``; ``ConnectorError`` if it leaves the roots now."""
    problem = location_problem(location)
    if problem:
        raise ConnectorError(f"files location {location!r} {problem}")
    return local_path(location).resolve()


def confined_file(path: Path, folder: Path, name: str) -> Path:
    """``path`` resolved; ``ConnectorError`` naming ``name`` when it lies outside ``folder``."""
    real = path.resolve()
    if not _inside(real, [folder]):
        raise ConnectorError(
            f"{name} resolves to {real}, outside the source's location {folder}: a file reached "
            "through a symlink out of the location is never read; remove the link"
        )
    return real


def open_confined(path: Path, folder: Path, name: str) -> BinaryIO:
    """Open the resolved ``path`` for reading, refusing what is not a regular file in ``folder``.

    The last component is not followed if it became a symlink since listing, and where the
    system shows a descriptor's target (``/proc/self/fd``) the opened file is checked again.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise ConnectorError(f"cannot open {name}: {exc}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConnectorError(f"{name} is not a regular file: only files are read")
        opened = _descriptor_target(fd)
        if opened is not None and not _inside(opened, [folder]):
            raise ConnectorError(f"{name} opened {opened}, outside the source's location {folder}")
        return os.fdopen(fd, "rb", buffering=1 << 20)
    except BaseException:
        os.close(fd)
        raise


def _descriptor_target(fd: int) -> Path | None:
    link = Path(f"/proc/self/fd/{fd}")
    try:
        return Path(os.readlink(link))
    except OSError:
        return None


def _never_read(path: Path) -> bool:
    return any(path.is_relative_to(system) for system in NEVER_READ)


def _inside(path: Path, roots: list[Path]) -> bool:
    return not _never_read(path) and any(path.is_relative_to(root) for root in roots)
