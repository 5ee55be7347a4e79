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
