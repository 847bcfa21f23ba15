"""The SSRF-safe HTTP transport of outbound webhooks: one POST, never following
redirects, to an address checked to be public, connected to by that very address (so a
second DNS answer never decides where the request goes)."""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from channels.errors import PermanentError
from core.retry import parse_retry_after

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
# A receiver that drips its answer byte by byte still ends within this.
TOTAL_TIMEOUT = 20.0
READ_CAP = 64 * 1024  # read at most this much of an answer...
LOG_CAP = 1024  # ...and keep the first 1 KB of it

# The cloud metadata services (AWS, GCP, Azure, ...; AWS's IPv6 one) by name, so the
# refusal says what was refused; they are link-local or private anyway.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
}


class UnsafeTarget(PermanentError):
    """The URL may not be delivered to; the message says why, for the API client."""


# Never a webhook target, listed here rather than trusted to `ipaddress`'s is_private /
# is_global, whose tables have changed between Python patch releases.
_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/127", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10",
        "fec0::/10", "ff00::/8",
    )
)  # fmt: skip
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries and may be routed to: IPv4-mapped
    (::ffff:a.b.c.d), 6to4 (2002:AABB:CCDD::), Teredo (server and client), NAT64
    (64:ff9b::a.b.c.d) and the deprecated IPv4-compatible form (::a.b.c.d)."""
    found = []
    if address.ipv4_mapped:
        found.append(address.ipv4_mapped)
    if address.sixtofour:
        found.append(address.sixtofour)
    if address.teredo:
        found.extend(address.teredo)
    if address in _NAT64 or (int(address) >> 32 == 0 and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        for inner in _embedded_ipv4(address):
            reason = _refusal(inner)
            if reason:
                return f"{reason} inside an IPv6 address"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, reason in checks:
        if getattr(address, attribute):
            return reason
    if any(address in network for network in _BLOCKED if network.version == address.version):
        return "a non-public address"
    if not address.is_global:  # shared (CGNAT) space and the like
        return "a non-public address"
    return None


def private_networks_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False))


def target_resolve(host: str, port: int) -> str:
    """The address to connect to: `host` resolved, every address it resolves to checked
    (one bad address among good ones is refused: a resolver may hand out any of them).
    The caller connects to this very address, so a second lookup (DNS rebinding) never
    decides where the request goes."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"The host '{host}' does not resolve.") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeTarget(f"The host '{host}' does not resolve.")
    if not private_networks_allowed():
        for address in addresses:
            reason = _refusal(address)
            if reason:
                raise UnsafeTarget(f"The host '{host}' resolves to {reason} ({address}).")
    return str(addresses[0])


def allowed_ports(scheme: str) -> set[int]:
    """443 (and 80 where plain http is allowed), plus WEBHOOKS_ALLOWED_PORTS."""
    ports = {443} | set(getattr(settings, "WEBHOOKS_ALLOWED_PORTS", []))
    if scheme == "http":
        ports.add(80)
    return ports


def url_check(url: str, *, resolve: bool = True) -> None:
    """At creation and update: characters, the scheme, the port, and (unless private
    networks are allowed) where the host resolves to."""
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        # A space, CR or LF would break the request line or a header.
        raise UnsafeTarget("The URL may not contain spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("The URL must start with https://.")
    if parts.scheme == "http" and not (settings.DEBUG or private_networks_allowed()):
        raise UnsafeTarget("The URL must use https.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeTarget("The URL may not carry credentials.")
    try:
        port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget("The URL's port is invalid.") from exc
    if port == 0:
        raise UnsafeTarget("The URL's port is invalid.")
    # Private networks (development and tests) reach local receivers on any port.
    if not private_networks_allowed() and port not in allowed_ports(parts.scheme):
        allowed = ", ".join(str(p) for p in sorted(allowed_ports(parts.scheme)))
        raise UnsafeTarget(f"The URL's port must be one of {allowed}.")
    if resolve and not private_networks_allowed():
        target_resolve(parts.hostname, port)


# --- HTTP -----------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a given address; the Host header still names the host."""

    def __init__(self, host: str, port: int, *, address: str) -> None:
        super().__init__(host, port, timeout=READ_TIMEOUT)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        self.sock.settimeout(READ_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS to the given address, with SNI and certificate checks against the host name."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


@dataclass
class PostResult:
    status_code: int | None
    body: str
    retry_after: float | None
    error: str
    latency_ms: int


def http_post(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """One POST, never following redirects, to the checked address of the URL's host."""
    started = time.monotonic()

    def result(code: int | None = None, text: str = "", error: str = "", retry=None):
        latency = int((time.monotonic() - started) * 1000)
        return PostResult(code, text, retry, error[:500], latency)

    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        url_check(url, resolve=False)
        address = target_resolve(parts.hostname or "", port)
    except UnsafeTarget as exc:
        return result(error=f"Refused: {exc}")
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(parts.hostname or "", port, address=address)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        chunks: list[bytes] = []
        received = 0
        while received < READ_CAP:
            if time.monotonic() - started > TOTAL_TIMEOUT:
                break
            chunk = response.read1(min(8192, READ_CAP - received))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
        text = b"".join(chunks)[:LOG_CAP].decode("utf-8", errors="replace")
        return result(
            response.status, text, retry=parse_retry_after(response.getheader("retry-after"))
        )
    except TimeoutError:
        return result(error="Timed out.")
    except ssl.SSLError as exc:
        return result(error=f"TLS error: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        return result(error=f"Connection error: {exc.__class__.__name__}: {exc}")
    finally:
        connection.close()
