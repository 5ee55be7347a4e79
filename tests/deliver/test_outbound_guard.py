"""The guarded client for user-given URLs (webhooks): no requests to this host,
its network or cloud metadata, in any spelling; pinned to the vetted address."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from paperwire.deliver.subscriptions import DeliveryError, add_webhook
from paperwire.outbound import OutboundPolicy, OutboundRefused, check_url, guarded_client
from paperwire.settings import get_settings

#: Every spelling the attack used, plus the other non-public ranges.
REFUSED = [
    "http://127.0.0.1/hook", "http://127.1/hook", "http://2130706433/hook", "http://0x7f000001/hook",
    "http://0177.0.0.1/hook", "http://127.0.0.1.:8000/", "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook",
    "http://[0:0:0:0:0:ffff:7f00:1]/", "http://localhost/hook", "http://LOCALHOST./hook", "http://api.localhost/",
    "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/computeMetadata/v1/", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/",
    "http://100.64.0.1/", "http://0.0.0.0/", "http://0/", "http://224.0.0.1/", "http://240.0.0.1/",
    "http://255.255.255.255/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[ff02::1]/", "http://[::]/",
    "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://printer.local/", "http://db.internal/",
]


def _no_dns(host, port, *args, **kwargs):
    raise AssertionError(f"a refused spelling must not even be resolved: {host}")


@pytest.mark.parametrize("url", REFUSED)
def test_every_spelling_of_a_private_address_is_refused(url):
    with pytest.raises(OutboundRefused):
        check_url(url, OutboundPolicy(), resolve=_no_dns)


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://example.com/",
                                 "http:///nohost", "http://user:pw@example.com/", "javascript:alert(1)"])
def test_other_schemes_credentials_and_garbage_are_refused(url):
    with pytest.raises(OutboundRefused):
        check_url(url, OutboundPolicy(), resolve=_no_dns)


def _resolver(table: dict[str, list[str]]):
    def resolve(host, port, *args, **kwargs):
        import socket

        if host not in table:
            raise socket.gaierror(f"unknown host {host}")
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in table[host]]
    return resolve


def test_a_public_name_that_resolves_to_a_private_address_is_refused():
    resolve = _resolver({"rebind.example": ["93.184.216.34", "127.0.0.1"], "ok.example": ["93.184.216.34"]})
    with pytest.raises(OutboundRefused, match="127.0.0.1"):
        check_url("https://rebind.example/hook", OutboundPolicy(), resolve=resolve)
    target = check_url("https://ok.example/hook", OutboundPolicy(), resolve=resolve)
    assert str(target.address) == "93.184.216.34" and target.host == "ok.example"


def test_unresolvable_name_is_refused_with_a_clear_reason():
    with pytest.raises(OutboundRefused, match="resolve"):
        check_url("https://no-such-host.invalid/hook", OutboundPolicy(), resolve=_resolver({}))


def test_allow_list_admits_hosts_and_networks():
    policy = OutboundPolicy.parse("hooks.intranet, 10.1.0.0/16, 127.0.0.1")
    resolve = _resolver({"hooks.intranet": ["10.9.9.9"], "other.intranet": ["10.2.0.1"]})
    assert str(check_url("http://hooks.intranet/x", policy, resolve=resolve).address) == "10.9.9.9"
    assert str(check_url("http://10.1.2.3/x", policy, resolve=resolve).address) == "10.1.2.3"
    assert str(check_url("http://127.0.0.1:9/x", policy, resolve=resolve).address) == "127.0.0.1"
    with pytest.raises(OutboundRefused):
        check_url("http://other.intranet/x", policy, resolve=resolve)
    with pytest.raises(OutboundRefused):
        check_url("http://127.1/x", OutboundPolicy.parse("10.1.0.0/16"), resolve=_no_dns)


def test_allow_list_setting_rejects_garbage_with_a_clear_message():
    with pytest.raises(ValueError, match="PAPERWIRE_OUTBOUND_ALLOW"):
        OutboundPolicy.parse("10.0.0.0/99")


class _Server:
    """A real local HTTP server that records Host headers and can redirect."""

    def __init__(self):
        self.hosts: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                owner.hosts.append(self.headers["Host"])
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                else:
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def local_server():
    server = _Server()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_client_connects_to_the_vetted_address_and_keeps_the_host_name(local_server):
    """DNS is asked once; the connection goes to that address, Host names the original host."""
    calls: list[str] = []
    table = _resolver({"hooks.example.test": ["127.0.0.1"]})

    def resolve(host, port, *args, **kwargs):
        calls.append(host)
        return table(host, port)

    policy = OutboundPolicy.parse("127.0.0.0/8")
    with guarded_client(policy, timeout=5, resolve=resolve) as client:
        response = client.post(f"http://hooks.example.test:{local_server.port}/hook", content=b"{}")
    assert response.status_code == 200
    assert calls == ["hooks.example.test"]
    assert local_server.hosts == [f"hooks.example.test:{local_server.port}"]


def test_client_refuses_private_targets_and_never_follows_redirects(local_server):
    with guarded_client(OutboundPolicy(), timeout=5) as client:
        with pytest.raises(OutboundRefused):
            client.post(f"http://127.0.0.1:{local_server.port}/hook", content=b"{}")
    assert local_server.hosts == []
    with guarded_client(OutboundPolicy.parse("127.0.0.1"), timeout=5) as client:
        response = client.post(f"http://127.0.0.1:{local_server.port}/redirect", content=b"{}")
    assert response.status_code == 302 and len(local_server.hosts) == 1


def test_refusal_is_an_httpx_error_so_callers_handle_it_like_a_network_failure():
    assert issubclass(OutboundRefused, httpx.HTTPError) or issubclass(OutboundRefused, httpx.TransportError)


@pytest.mark.parametrize("url", ["http://127.1/hook", "http://2130706433/", "http://0x7f000001/",
                                 "http://[::1]/", "http://localhost/", "http://169.254.169.254/",
                                 "http://metadata.google.internal/"])
def test_adding_a_webhook_to_a_private_address_is_refused(db, url, monkeypatch):
    monkeypatch.delenv("PAPERWIRE_OUTBOUND_ALLOW", raising=False)
    get_settings.cache_clear()
    with db.session() as session, pytest.raises(DeliveryError, match="not allowed|private|local"):
        add_webhook(session, None, url)
