"""The mailer against a real SMTP server: success, retries, classification."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from paperwire.deliver.config import delivery_config
from paperwire.deliver.mailer import Mailer, PermanentMailError, TemporaryMailError
from tests.deliver.conftest import free_port


def _message(to: str = "reader@example.org") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "paperwire <digest@paperwire.local>"
    message["To"] = to
    message["Subject"] = "Hello"
    message.set_content("plain body")
    return message


def test_delivers_over_one_connection(smtp_server, no_sleep):
    sleep, calls = no_sleep
    with Mailer(sleep=sleep) as mailer:
        assert mailer.send(_message("a@example.org")) == 1
        assert mailer.send(_message("b@example.org")) == 1
    assert [m["To"] for m in smtp_server.messages] == ["a@example.org", "b@example.org"]
    assert calls == []


def test_451_is_retried_with_backoff_then_succeeds(smtp_server, no_sleep):
    sleep, calls = no_sleep
    smtp_server.handler.data_replies.extend(["451 4.3.0 try again later", "451 4.3.0 still busy"])
    with Mailer(sleep=sleep, retries=4, backoff=0.5) as mailer:
        assert mailer.send(_message()) == 3
    assert len(smtp_server.messages) == 1
    assert calls == [0.5, 1.0]


def test_550_is_permanent_and_not_retried(smtp_server, no_sleep):
    sleep, calls = no_sleep
    smtp_server.handler.rcpt_replies["gone@example.org"] = __import__("collections").deque(["550 5.1.1 no such user"])
    with Mailer(sleep=sleep, retries=4) as mailer:
        with pytest.raises(PermanentMailError) as info:
            mailer.send(_message("gone@example.org"))
        assert info.value.code == 550 and not info.value.connection
        mailer.send(_message("ok@example.org"))  # the connection is still usable
    assert calls == []
    assert [m["To"] for m in smtp_server.messages] == ["ok@example.org"]


def test_server_down_is_temporary_connection_error(monkeypatch, no_sleep):
    from paperwire.settings import get_settings

    monkeypatch.setenv("PAPERWIRE_SMTP_PORT", str(free_port()))
    get_settings.cache_clear()
    sleep, calls = no_sleep
    with Mailer(sleep=sleep, retries=3, backoff=1) as mailer:
        with pytest.raises(TemporaryMailError) as info:
            mailer.send(_message())
    assert info.value.connection and info.value.attempts == 3
    assert calls == [1, 2]


def test_persistent_4xx_gives_up_as_temporary(smtp_server, no_sleep):
    sleep, _ = no_sleep
    smtp_server.handler.data_replies.extend(["452 4.2.2 mailbox full"] * 2)
    with Mailer(sleep=sleep, retries=2) as mailer, pytest.raises(TemporaryMailError) as info:
        mailer.send(_message())
    assert info.value.code == 452 and not info.value.permanent


def test_config_comes_from_settings(smtp_server):
    cfg = delivery_config()
    assert (cfg.smtp.host, cfg.smtp.port) == ("127.0.0.1", smtp_server.port)
    assert cfg.base_url == "http://paperwire.test"
