"""Behind the reverse proxy, the client address is the last X-Forwarded-For hop."""

from __future__ import annotations

from django.test import RequestFactory

from cityeval.web.surveys.public import client_ip


def test_the_client_address_is_the_proxys_last_hop_only_behind_a_proxy(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    settings.BEHIND_PROXY = False
    assert client_ip(request) == "10.0.0.2"  # a client cannot choose its address by a header
    settings.BEHIND_PROXY = True
    assert client_ip(request) == "203.0.113.9"  # what the proxy saw, not what the client claimed
