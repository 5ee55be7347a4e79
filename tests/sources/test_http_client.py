"""The polite HTTP client against a real local server with injected faults."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from paperwire.sources.http import HarvestError, PoliteClient, parse_retry_after
from tests.sources.upstream_server import FakePaper, UpstreamServer


@pytest.fixture
def server():
    with UpstreamServer([FakePaper("2401.00001", "A paper")]) as running:
        yield running


class Sleeps(list):
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_retry_after_seconds_and_http_date():
    now = datetime(2024, 3, 6, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_503_with_retry_after_is_honoured(server):
    server.add_fault("503", retry_after="7")
    sleeps = Sleeps()
    with PoliteClient(delay=0, sleep=sleeps) as client:
        response = client.get(server.api_url, {"id_list": "2401.00001"})
    assert response.status_code == 200 and b"2401.00001" in response.content
    assert sleeps == [7.0]
    assert [r.params["id_list"] for r in server.requests] == ["2401.00001", "2401.00001"]


def test_retry_after_http_date_is_capped(server):
    later = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    server.add_fault("503", retry_after=later)
    sleeps = Sleeps()
    with PoliteClient(delay=0, sleep=sleeps, max_wait=5) as client:
        client.get(server.api_url)
    assert sleeps == [5]


def test_dropped_connection_is_retried_with_backoff(server):
    server.add_fault("drop", times=2)
    sleeps = Sleeps()
    with PoliteClient(delay=0, backoff=0.5, sleep=sleeps) as client:
        assert client.get(server.api_url).status_code == 200
    assert sleeps == [0.5, 1.0]
    assert len(server.requests) == 3


def test_gives_up_with_a_clear_error(server):
    server.add_fault("500", times=100)
    sleeps = Sleeps()
    with PoliteClient(delay=0, retries=2, backoff=1, sleep=sleeps) as client:
        with pytest.raises(HarvestError, match=r"gave up on .*/api/query after 3 attempts: HTTP 500"):
            client.get(server.api_url)
    assert len(server.requests) == 3
    assert sleeps == [1, 2]


def test_client_error_is_not_retried(server):
    with PoliteClient(delay=0, sleep=Sleeps()) as client:
        with pytest.raises(HarvestError, match="HTTP 404") as info:
            client.get(server.base_url + "/nowhere")
    assert info.value.status == 404
    assert len(server.requests) == 1


def test_unreachable_host_raises_harvest_error():
    with UpstreamServer() as gone:
        url = gone.api_url
    with PoliteClient(delay=0, retries=1, sleep=Sleeps()) as client:
        with pytest.raises(HarvestError, match="ConnectError"):
            client.get(url)


def test_user_agent_names_paperwire(server):
    with PoliteClient(delay=0) as client:
        client.get(server.api_url)
    assert server.requests[0].headers["User-Agent"].startswith("paperwire/")


def test_requests_are_spaced_by_the_delay(server):
    with PoliteClient(delay=0.15) as client:
        started = time.monotonic()
        for _ in range(3):
            client.get(server.api_url)
        elapsed = time.monotonic() - started
    assert elapsed >= 0.3


def test_default_delay_comes_from_settings(monkeypatch):
    from paperwire.settings import get_settings

    monkeypatch.setenv("PAPERWIRE_HARVEST_DELAY", "1.5")
    get_settings.cache_clear()
    with PoliteClient() as client:
        assert client.delay == 1.5


def test_negative_settings_are_rejected():
    with pytest.raises(ValueError, match="must not be negative"):
        PoliteClient(delay=-1)
