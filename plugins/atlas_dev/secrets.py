"""``make secrets``: write the ``.env`` that ``docker compose`` reads, with fresh random secrets.

``docker-compose.yaml`` defaults no secret: it refuses to start until each of :data:`NAMES` is
set, and ``.env`` next to it (ignored by git and by the image build) is where compose finds
them. This writes that file with mode 0600: a Fernet key for Airflow's encrypted connections, a
JWT secret for its API and execution tokens, and a random password for every login. It never
replaces an existing file unless asked (``--force``, ``make secrets FORCE=1``): PostgreSQL
keeps the passwords it was initialised with and Airflow cannot decrypt what the old Fernet key
encrypted, so new values also need new volumes (``docker compose down -v`` drops the data).

Run as ``python -m atlas_dev.secrets [--path FILE] [--force]``. Only the standard library is
needed; ``cryptography`` (installed with Airflow) makes the Fernet key when it is there.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import string
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parents[2] / ".env"
"""The ``.env`` next to ``docker-compose.yaml``, at the repository root."""
PASSWORD_ALPHABET = string.ascii_letters + string.digits
"""Letters and digits only: a password goes into connection URLs, JSON and psql arguments as is."""
PASSWORD_LENGTH = 32
"""About 190 bits of randomness."""
MINIO_ROOT_USER = "atlas-admin"
"""MinIO's root user name (an access key id, not a secret; compose still wants it set)."""
NAMES = (
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_ADMIN_PASSWORD",
    "POSTGRES_PASSWORD",
    "AIRFLOW_DB_PASSWORD",
    "ATLAS_OWNER_PASSWORD",
    "ATLAS_PIPELINE_PASSWORD",
    "ATLAS_ANALYST_PASSWORD",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "MARQUEZ_DB_PASSWORD",
    "ATLAS_PSEUDONYM_KEY_CONNECTION",
)
"""Every variable docker-compose.yaml requires, in the order ``.env`` lists them."""
_HEADER = """\
# Secrets of the local Docker setup (docker-compose.yaml), written by `make secrets`.
# Never commit this file (.gitignore and .dockerignore keep it out). PostgreSQL takes the
# passwords when its volume is created, Airflow encrypts connections with the Fernet key:
# new values need new volumes (`docker compose down -v` drops the local data).
"""


def fernet_key() -> str:
    """A new Fernet key: 32 random bytes, url-safe base64 (what ``Fernet.generate_key()`` returns)."""
    try:
        from cryptography.fernet import Fernet
    except ImportError:  # a machine with Docker only, no `make setup`: the same 32 bytes by hand
        return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
    return Fernet.generate_key().decode("ascii")


def password(length: int = PASSWORD_LENGTH) -> str:
    """A random password of ``length`` letters and digits."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def generate() -> dict[str, str]:
    """Fresh values for every name of :data:`NAMES`."""
    values = {
        "AIRFLOW_FERNET_KEY": fernet_key(),
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(64),
        "MINIO_ROOT_USER": MINIO_ROOT_USER,
        # the connection atlas_pseudonym_key: its password keys navigate's pseudonyms (sql/V023)
        "ATLAS_PSEUDONYM_KEY_CONNECTION": f"generic://:{password(48)}@",
    }
    values.update({name: password() for name in NAMES if name.endswith("_PASSWORD")})
    return {name: values[name] for name in NAMES}


def render(values: Mapping[str, str]) -> str:
    """The text of a ``.env`` file holding ``values``."""
    return _HEADER + "".join(f"{name}={value}\n" for name, value in values.items())


def write_env(path: Path = ENV_FILE, *, force: bool = False) -> Path:
    """Write fresh secrets to ``path`` with mode 0600; refuse an existing file unless ``force``.

    Raises :class:`FileExistsError` when ``path`` exists and ``force`` is false. The file is
    created with its final mode (never readable by others, not even for a moment) and, when
    replacing, renamed over the old one so a reader never sees half a file.
    """
    text = render(generate())
    if not force:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        _write(fd, text)
        return path
    fd, temporary = tempfile.mkstemp(prefix=".env.", dir=path.parent)  # mode 0600
    try:
        _write(fd, text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _write(fd: int, text: str) -> None:
    os.fchmod(fd, 0o600)  # whatever the umask
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m atlas_dev.secrets",
        description="Write the .env docker compose reads, with a fresh Fernet key, JWT secret and passwords.",
    )
    parser.add_argument("--path", type=Path, default=ENV_FILE, help=f"file to write (default: {ENV_FILE})")
    parser.add_argument(
        "--force", action="store_true", help="replace an existing file (its volumes need recreating)"
    )
    args = parser.parse_args(argv)
    try:
        path = write_env(args.path, force=args.force)
    except FileExistsError:
        print(
            f"{args.path} exists: kept as it is. To replace it run `make secrets FORCE=1` "
            "(python -m atlas_dev.secrets --force), then recreate the volumes initialised with "
            "the old values: `docker compose down -v` (drops the local data).",
            file=sys.stderr,
        )
        return 1
    print(f"wrote {path} (mode 0600): {', '.join(NAMES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
