"""Every exception Atlas raises. Messages say what failed, where, and what to do about it."""

from __future__ import annotations


class AtlasError(Exception):
    """Base class of all Atlas errors."""


class ConfigProblem(ValueError):
    """A validation error raised by a config model validator that knows which nested key is wrong.

    A ``ValueError`` so that pydantic reports it as a validation error; ``at`` is the key path
    below the model that raised it (``("key", 1)``), which the YAML loader appends to pydantic's
    location so the error names ``entities[0].key[1]`` rather than ``entities[0]``.
    """

    def __init__(self, message: str, *, at: tuple[int | str, ...] = ()) -> None:
        super().__init__(message)
        self.at = at


class RegistryError(AtlasError):
    """A connector or stage is unknown, registered twice, or its stages cannot be ordered."""


class SourceConfigError(AtlasError):
    """A source YAML file is invalid; the message names the file, the key path and the value."""

    def __init__(self, path: str, problems: list[tuple[str, object, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path}: invalid source configuration ({len(problems)} problem(s))"]
        for key, value, message in problems:
            lines.append(f"  - {key or '<root>'} = {value!r}: {message}")
        super().__init__("\n".join(lines))

    @classmethod
    def from_message(cls, path: str, message: str) -> SourceConfigError:
        """Re-raise a reported error from its full text (the placeholder DAG of a broken source)."""
        error = cls.__new__(cls)
        Exception.__init__(error, message)
        error.path = path
        error.problems = []
        return error

    def __reduce__(self) -> tuple[object, ...]:
        return (SourceConfigError.from_message, (self.path, str(self)))


class DagBuildError(AtlasError):
    """A valid source file could not be built into a DAG (a bug or a missing part of Atlas)."""


class MigrationError(AtlasError):
    """A warehouse migration could not be applied."""


class MigrationChecksumError(MigrationError):
    """An already-applied migration file changed on disk."""


class ConnectorError(AtlasError):
    """A connector could not read its source (connection, listing, HTTP status …)."""


class IngestError(AtlasError):
    """Landing a batch into explore failed; the batch was rolled back whole."""


class LockTimeoutError(AtlasError):
    """A pipeline lock was not granted within lock_timeout; the message names who holds it."""


class PartitionError(AtlasError):
    """A partition the interval needs could not be created."""


class PromotionError(AtlasError):
    """Promoting a batch from one layer to the next failed."""


class RunError(AtlasError):
    """A source cannot be run for a day: unknown source, no warehouse connection, Airflow not ready."""


class DbtProjectError(AtlasError):
    """The dbt project cannot be rendered (missing or unreadable manifest): run ``make setup``."""


class QualityError(AtlasError):
    """A quality check could not run: a bad hand-written SodaCL file, Soda missing or erroring."""


class QualityGateFailed(AtlasError):
    """A ``fail`` quality check failed: the interval stops before ``navigate``."""


class ArchiveError(AtlasError):
    """Archiving, snapshotting or restoring a table failed; the partition is left where it was."""


class SubjectRequestError(AtlasError):
    """A data-subject request is malformed, conflicts with an earlier one of its id, or failed."""


class PseudonymKeyMissing(AtlasError):
    """The Airflow connection holding the key of navigate's pseudonyms is missing or has no password."""
