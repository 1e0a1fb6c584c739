"""The PII salt: the secret that turns customer ids into ``customer_key`` hashes.

The salt comes from an environment variable (``FEEDBACK_PII_SALT`` by default) or,
when that is unset, from a salt file that the first run creates. Without a long
salt, a customer key is a plain hash of the customer id and can be reversed by
trying ids, so a salt shorter than :data:`MIN_SALT_BYTES` is refused. The file is
created atomically (written to a private temporary file, then linked into place
only if no other run created it first), never through a symbolic link, and its
creation is logged as a warning once, saying what to back up.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
from pathlib import Path

from .errors import ConfigError
from .fsutil import SymlinkError, open_nofollow, write_atomic

__all__ = ["pii_salt", "MIN_SALT_BYTES"]

log = logging.getLogger(__name__)

#: The shortest salt accepted, in bytes (a generated salt is 64 hex characters).
MIN_SALT_BYTES = 16
_MAX_SALT_BYTES = 4096
_HOWTO = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def _read(path: Path) -> bytes | None:
    """The salt file's content (stripped), or None when it does not exist."""
    try:
        fd = open_nofollow(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except SymlinkError as exc:
        raise ConfigError(f"The PII salt file {path} {exc.strerror}. Replace it with the salt file itself "
                          "(the one earlier reports used), or set the salt in the environment.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the PII salt file {path}: {exc.strerror}.") from None
    with os.fdopen(fd, "rb") as fh:
        return fh.read(_MAX_SALT_BYTES + 1).strip()


def _create(path: Path, env_name: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = (secrets.token_hex(32) + "\n").encode("ascii")
        try:
            created = write_atomic(path, data, mode=0o600, replace=False)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP):
                raise
            # A file system without hard links: create the name exclusively and write it in place.
            fd = open_nofollow(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            created = True
    except FileExistsError:
        return  # another run created it first: use that one
    except SymlinkError as exc:
        raise ConfigError(f"Cannot create the PII salt file {path}: it {exc.strerror}.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot create the PII salt file {path}: {exc.strerror}. "
                          f"Set {env_name} in the environment instead.") from None
    if created:
        log.warning(
            "Created a new PII salt in %s (mode 0600): customer keys are salted hashes of customer ids, and "
            "they stay comparable across months only with this salt. Back this file up with the reports "
            "(or set %s to its content): if it is lost, every customer key changes and repeat contacts "
            "across months no longer match.", path, env_name)


def pii_salt(salt_file: Path | None, env_name: str) -> bytes:
    """The salt for customer-key hashes: ``$env_name`` first, then ``salt_file`` (created when missing).

    Raises :class:`~feedbacklib.errors.ConfigError` when there is no salt or it is
    shorter than :data:`MIN_SALT_BYTES` bytes.
    """
    value = os.environ.get(env_name)
    if value:
        salt = value.encode("utf-8")
        if len(salt) < MIN_SALT_BYTES:
            raise ConfigError(
                f"The PII salt in the environment variable {env_name} is {len(salt)} bytes long; at least "
                f"{MIN_SALT_BYTES} are needed, or customer keys can be reversed by trying customer ids. "
                f"Set it to a long random secret, e.g. the output of {_HOWTO}.")
        return salt
    if salt_file is None:
        raise ConfigError(f"No PII salt: set the environment variable {env_name} "
                          "or salt_file under [project] in feedback.toml.")
    path = Path(salt_file)
    read = _read(path)
    if read is None:
        _create(path, env_name)
        read = _read(path)
        if read is None:  # pragma: no cover - removed between create and read
            raise ConfigError(f"The PII salt file {path} disappeared while it was being created. Run again.")
    salt = read
    if len(salt) < MIN_SALT_BYTES:
        raise ConfigError(
            f"The PII salt file {path} holds {len(salt)} bytes; at least {MIN_SALT_BYTES} are needed, or customer "
            "keys can be reversed by trying customer ids. If earlier reports used a salt, restore that file from "
            f"your backup; if this is the first run (or a first run was killed), delete {path} and run again "
            f"to create a new one, or set {env_name}.")
    if len(salt) > _MAX_SALT_BYTES:
        raise ConfigError(f"The PII salt file {path} is larger than {_MAX_SALT_BYTES} bytes: it is not a salt "
                          "file. Check salt_file under [project] in feedback.toml.")
    return salt
