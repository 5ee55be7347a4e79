"""The key that signs cookies, CSRF, confirmation and unsubscribe tokens.

A signing key everybody knows lets anybody forge confirmation links (no
double opt-in) and unsubscribe links (sequential ids). So there is no
default literal: either ``PAPERWIRE_SECRET_KEY`` is set to something strong,
or ``paperwire init`` (and ``serve``/``demo``/``worker``, which init on start)
generates a random key once into ``$PAPERWIRE_HOME/secret_key`` (mode 0600)
and every process reuses it. Known placeholders and short keys are refused
at start with a message saying what to do.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

FILE_NAME = "secret_key"
MIN_LENGTH = 16
#: Placeholders from docs, examples and older versions of paperwire.
KNOWN_WEAK = frozenset({
    "change-me-in-production", "change-me", "changeme", "secret", "secret-key", "secret_key", "password",
    "paperwire", "test", "dev", "development", "default", "insecure", "please-change-me", "xxx",
})


class SecretKeyError(RuntimeError):
    """The configured key is unusable; the message names the setting and the fix."""


def check_configured(value: str) -> str:
    """Return ``value`` if it is a usable explicit key, else raise :class:`SecretKeyError`."""
    key = value.strip()
    if not key:
        raise SecretKeyError("PAPERWIRE_SECRET_KEY is set but empty. Unset it to have paperwire generate "
                             "a random key, or set a long random value.")
    if key.lower() in KNOWN_WEAK:
        raise SecretKeyError(f"PAPERWIRE_SECRET_KEY is the well-known placeholder {key!r}: anyone could forge "
                             "sign-in, confirmation and unsubscribe tokens. Unset it to have paperwire generate "
                             "a random key, or set a long random value, e.g. "
                             "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'")
    if len(key) < MIN_LENGTH:
        raise SecretKeyError(f"PAPERWIRE_SECRET_KEY is only {len(key)} characters; use at least {MIN_LENGTH} "
                             "random characters (or unset it to have paperwire generate one).")
    return key


def key_file(home: Path) -> Path:
    return Path(home) / FILE_NAME


def load_or_create(home: Path) -> str:
    """The key kept in ``home``, created (0600, atomically) on first use.

    Several processes may start at once (web workers, the worker): the first
    one to publish the file wins, the others read what it wrote. The key is
    written and fsynced under a private temporary name and then hard-linked
    to ``secret_key`` (``link`` fails if the name exists), so a process killed
    at any point never leaves an empty or half-written key behind, and no
    reader sees one.
    """
    path = key_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return _read(path)
    key = secrets.token_urlsafe(48)
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, (key + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process published its key first: use that one
    finally:
        temporary.unlink(missing_ok=True)
    _remove_stale_temporaries(path)
    return _read(path)


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary key files of processes killed before they published (never read).

    Only ones a minute old: a live process needs microseconds from writing its
    temporary file to linking it.
    """
    cutoff = time.time() - 60
    for leftover in path.parent.glob(f".{FILE_NAME}.*.tmp"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink(missing_ok=True)
        except OSError:
            pass


def _read(path: Path) -> str:
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyError(f"{path}: cannot read the secret key file ({exc}).") from None
    if len(key) < MIN_LENGTH:
        raise SecretKeyError(f"{path}: the secret key file is empty or too short; delete it to have a new key "
                             "generated (this logs everyone out and voids mailed links).")
    return key


def resolve(configured: str | None, home: Path) -> str:
    """The signing key: the explicit setting when there is one, else the generated file."""
    if configured is not None:
        return check_configured(configured)
    return load_or_create(home)


def startup_problem() -> str | None:
    """What ``init``/``serve``/``demo``/``worker`` print before refusing to start (None: all good).

    Generates the key file when no key is configured, so it exists before
    several worker processes race for it.
    """
    from paperwire.settings import get_settings

    try:
        get_settings().signing_key()
    except SecretKeyError as exc:
        return str(exc)
    return None
