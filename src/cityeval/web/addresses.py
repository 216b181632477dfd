"""Where a request comes from: the client's address behind our proxy, and the network it sits
in (what the survey limits count and what the audit trail keeps: not the person's own address)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind our reverse proxy, the last X-Forwarded-For hop (the one
    the proxy added; earlier hops are whatever the client claimed)."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or ""


def network_of(ip: str) -> str:
    """The /24 of an IPv4 address (also written IPv4-mapped, ``::ffff:a.b.c.d``) or the /64 of an
    IPv6 one; anything else as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket's IPv4 client: not one shared /64
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
