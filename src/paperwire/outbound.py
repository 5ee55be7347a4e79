"""The one HTTP client for URLs that users give us (webhooks), guarded against SSRF.

A signed-up user can type any URL into a webhook form, and the server then
posts to it. Without a guard that reaches this machine (``127.1``,
``2130706433``, ``[::ffff:127.0.0.1]`` …), the private network, or a cloud
metadata service (``169.254.169.254``, ``metadata.google.internal``). So:

* the URL must be plain ``http(s)://host[:port]/…`` without credentials;
* names that only mean something inside a network (``localhost``,
  ``*.local``, ``*.internal``, single-label names) are refused before DNS;
* the host is resolved once, and *every* address it resolves to must be
  public (not loopback, private, link-local, shared 100.64/10, multicast,
  reserved or unspecified, also when wrapped in IPv4-mapped, NAT64 or 6to4
  IPv6); numeric spellings are normalised by the same resolver the socket
  would use, so no spelling slips past;
* the request is then sent to that vetted address (Host header and TLS SNI
  still name the host), so DNS cannot answer differently a second time;
* redirects are never followed and timeouts are short.

Intranet deployments list trusted hosts or networks in
``PAPERWIRE_OUTBOUND_ALLOW`` (``hooks.corp, 10.0.0.0/8``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list]

#: Names that never denote a public service (RFC 6761/6762, cloud metadata).
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp", ".localdomain")
_LOCAL_NAMES = {"localhost", "metadata", "metadata.google.internal", "instance-data"}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(httpx.TransportError, ValueError):
    """A URL the server will not request; the message says why (safe to show the user)."""


@dataclass(frozen=True)
class OutboundPolicy:
    """Hosts and networks exempt from the guard (``PAPERWIRE_OUTBOUND_ALLOW``)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())

    @classmethod
    def parse(cls, value: str | None) -> OutboundPolicy:
        hosts, networks = set(), []
        for item in (value or "").replace(";", ",").split(","):
            item = item.strip().lower().strip("[]")
            if not item:
                continue
            if "/" in item or _ip_or_none(item) is not None:
                try:
                    networks.append(ipaddress.ip_network(item, strict=False))
                except ValueError:
                    raise ValueError(f"PAPERWIRE_OUTBOUND_ALLOW: {item!r} is not a host name or network") from None
            else:
                hosts.add(item.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    @classmethod
    def from_settings(cls) -> OutboundPolicy:
        from paperwire.settings import get_settings

        return cls.parse(get_settings().outbound_allow)

    def allows_host(self, host: str) -> bool:
        return host in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in net for net in self.networks if net.version == address.version)


@dataclass(frozen=True)
class Target:
    """A vetted destination: the name to present and the address to connect to."""

    scheme: str
    host: str
    port: int
    address: IPAddress


def _ip_or_none(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _numeric_ipv4(host: str) -> IPAddress | None:
    """``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``: what inet_aton makes of them."""
    if not host or any(c not in "0123456789abcdefx." for c in host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination (None when it is)."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return refusal_reason(inner)
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private or address.is_reserved or not address.is_global:
        return "a private or reserved address"
    return None


def _refuse_address(address: IPAddress, policy: OutboundPolicy, shown: str) -> None:
    if policy.allows_address(address):
        return
    reason = refusal_reason(address)
    if reason:
        raise OutboundRefused(f"{shown} is {reason}; webhooks must go to a public address "
                              "(intranet targets: PAPERWIRE_OUTBOUND_ALLOW)")


def check_syntax(url: str, policy: OutboundPolicy) -> tuple[str, str, int, IPAddress | None]:
    """Refuse what can be refused without DNS; returns (scheme, host, port, literal address or None)."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise OutboundRefused("This is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("Only http:// and https:// URLs with a host name are allowed.")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("URLs with a user name or password are not allowed.")
    host = parts.hostname.lower().rstrip(".")
    port = port or (443 if parts.scheme == "https" else 80)
    literal = _ip_or_none(host.split("%")[0]) or _numeric_ipv4(host)
    if literal is not None:
        _refuse_address(literal, policy, host)
        return parts.scheme, host, port, literal
    if policy.allows_host(host):
        return parts.scheme, host, port, None
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
        raise OutboundRefused(f"{host} is a local or internal host name; webhooks must go to a public address "
                              "(intranet targets: PAPERWIRE_OUTBOUND_ALLOW)")
    return parts.scheme, host, port, None


def check_url(url: str, policy: OutboundPolicy, *, resolve: Resolver = socket.getaddrinfo) -> Target:
    """Vet ``url`` completely (DNS included) and return where to connect."""
    scheme, host, port, literal = check_syntax(url, policy)
    if literal is not None:
        return Target(scheme, host, port, literal)
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundRefused(f"{host} could not be resolved ({exc}).") from None
    addresses = []
    for info in infos:
        address = _ip_or_none(str(info[4][0]).split("%")[0])
        if address is None:
            continue
        if not policy.allows_host(host):
            _refuse_address(address, policy, f"{host} ({address})")
        addresses.append(address)
    if not addresses:
        raise OutboundRefused(f"{host} could not be resolved.")
    return Target(scheme, host, port, addresses[0])


class GuardedTransport(httpx.BaseTransport):
    """Vets every request's URL, then connects to the vetted address only."""

    def __init__(self, policy: OutboundPolicy, resolve: Resolver = socket.getaddrinfo):
        self._policy = policy
        self._resolve = resolve
        self._inner = httpx.HTTPTransport(retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = check_url(str(request.url), self._policy, resolve=self._resolve)
        if "host" not in request.headers:
            request.headers["Host"] = request.url.netloc.decode("ascii")
        request.url = request.url.copy_with(host=str(target.address))
        if target.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": target.host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def guarded_client(policy: OutboundPolicy | None = None, *, timeout: float = 10.0,
                   resolve: Resolver = socket.getaddrinfo) -> httpx.Client:
    """An httpx client for user-given URLs: guarded, no redirects, no proxies from the environment."""
    return httpx.Client(
        transport=GuardedTransport(policy if policy is not None else OutboundPolicy.from_settings(), resolve),
        follow_redirects=False, trust_env=False,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
    )
