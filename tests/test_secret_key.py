"""No well-known signing key: generated once (0600) and reused, placeholders refused at start."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from paperwire.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "paperwire.cli", *args], capture_output=True, text=True,
                          env=full, timeout=120)


def test_settings_have_no_default_secret_literal():
    assert Settings.model_fields["secret_key"].default is None
    assert "change-me-in-production" not in (ROOT / "src" / "paperwire" / "settings.py").read_text()


def test_init_generates_a_private_key_file_and_reuses_it(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("PAPERWIRE_HOME", str(home))
    monkeypatch.delenv("PAPERWIRE_SECRET_KEY", raising=False)
    first = _cli("init")
    assert first.returncode == 0, first.stderr
    key_file = home / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 40
    assert _cli("init").returncode == 0
    assert key_file.read_text().strip() == key
    get_settings.cache_clear()
    assert get_settings().signing_key() == key  # the web process signs with the same key


def test_default_home_is_the_data_dir(tmp_path):
    get_settings.cache_clear()
    settings = get_settings()
    settings.signing_key()
    assert (Path(os.environ["PAPERWIRE_DATA_DIR"]) / "secret_key").exists()


@pytest.mark.parametrize("command, value", [
    (["init"], "change-me-in-production"), (["init"], ""), (["init"], "   "), (["init"], "changeme"),
    (["init"], "short"), (["serve", "--port", "1"], "change-me-in-production"),
    (["demo", "--no-serve"], "change-me-in-production"), (["worker", "--once"], ""),
])
def test_a_known_or_empty_secret_is_refused_at_start_without_traceback(command, value):
    result = _cli(*command, env={"PAPERWIRE_SECRET_KEY": value})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "PAPERWIRE_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_tokens_signed_with_the_old_default_are_not_accepted(monkeypatch):
    from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

    from paperwire.deliver.tokens import InvalidToken, read_confirm_token, read_unsubscribe_token

    forged_confirm = URLSafeTimedSerializer("change-me-in-production", salt="paperwire.subscribe.confirm").dumps(
        {"s": 1, "e": "victim@example.org"})
    forged_unsubscribe = URLSafeSerializer("change-me-in-production", salt="paperwire.subscribe.unsubscribe").dumps(
        {"s": 1})
    with pytest.raises(InvalidToken):
        read_confirm_token(forged_confirm)
    with pytest.raises(InvalidToken):
        read_unsubscribe_token(forged_unsubscribe)


def test_a_strong_explicit_key_is_used(monkeypatch):
    monkeypatch.setenv("PAPERWIRE_SECRET_KEY", "x" * 8 + "-a-long-random-value")
    get_settings.cache_clear()
    assert get_settings().signing_key() == "x" * 8 + "-a-long-random-value"


class _Killed(BaseException):
    """Stands in for SIGKILL: nothing after the raise point runs."""


def _die(*_args, **_kwargs):
    raise _Killed


@pytest.mark.parametrize("crash_point", ["secrets.token_urlsafe", "os.link"])
def test_a_process_killed_while_creating_the_key_leaves_no_empty_key_file(tmp_path, monkeypatch, crash_point):
    """Seen in CI: ``worker`` killed -9 half a second after start left an empty
    ``secret_key``, and every later start refused to run."""
    from paperwire import secret_key

    module, name = crash_point.split(".")
    monkeypatch.setattr({"secrets": secret_key.secrets, "os": secret_key.os}[module], name, _die)
    with pytest.raises(_Killed):
        secret_key.load_or_create(tmp_path)
    monkeypatch.undo()
    assert not (tmp_path / "secret_key").exists()
    key = secret_key.load_or_create(tmp_path)
    assert len(key) >= 40 and secret_key.load_or_create(tmp_path) == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no temporary files left behind


def test_processes_starting_at_once_share_one_key(tmp_path):
    code = "import sys; from paperwire.secret_key import load_or_create; print(load_or_create(sys.argv[1]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    starts = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                               env=env) for _ in range(6)]
    keys = {p.communicate(timeout=60)[0].strip() for p in starts}
    assert len(keys) == 1 and len(keys.pop()) >= 40


def test_temporary_files_of_killed_creators_are_cleared_once_they_are_old(tmp_path):
    from paperwire import secret_key

    old, fresh = tmp_path / ".secret_key.1.aa.tmp", tmp_path / ".secret_key.2.bb.tmp"
    for leftover in (old, fresh):
        leftover.write_text("x" * 64)
    os.utime(old, (0, 0))
    secret_key.load_or_create(tmp_path)
    assert not old.exists() and fresh.exists()  # a fresh one may belong to a process about to link it
