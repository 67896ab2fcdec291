"""The client's address for throttling and the audit log: the peer's own, or, when the peer is a
reverse proxy named in `TRUSTED_PROXIES`, the one that proxy put in `X-Forwarded-For`.

Behind a proxy every request comes from the proxy's address, so the header is needed; but anyone
can send the header, so it is believed only from a listed proxy. The header is read from its
right end (the hop nearest to us): the first address that is not itself a trusted proxy is the
client. A malformed entry means the header is not trusted at all.
"""

import ipaddress
from functools import lru_cache

from flask import current_app, request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """Parse the setting (addresses or CIDR networks, separated by commas); raise ValueError for
    an entry that is neither, so a mistyped setting stops the app at start."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in setting.split(",") if part.strip())


def client_address() -> str | None:
    """The address of the client of the current request."""
    peer = request.remote_addr
    trusted = trusted_networks(current_app.config.get("TRUSTED_PROXIES") or "")
    if not _listed(peer, trusted):
        return peer
    hops = [hop.strip() for value in request.headers.getlist("X-Forwarded-For")
            for hop in value.split(",")]
    client = peer
    for hop in reversed(hops):
        if not _address(hop):
            return peer
        client = hop
        if not _listed(hop, trusted):
            break
    return client


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text or "")
    except ValueError:
        return None


def _listed(text: str | None, trusted: tuple[Network, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in trusted)
