"""Every page carries the Content-Security-Policy, and no page needs more than it allows.

The policy forbids inline script and inline style, so the pages are crawled as each demo login
(and anonymously): each HTML page must carry the header and contain no ``<script>`` without
``src`` (JSON data blocks aside), no ``<style>`` element, no ``style=`` attribute and no
``on…=`` event handler, all of which a browser would block under the policy.
"""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cityeval.web.demo import load_demo
from cityeval.web.security import CONTENT_SECURITY_POLICY, carries_nul
from cityeval.web.surveys.models import SurveyForm

MAX_PAGES_PER_LOGIN = 40  # enough to reach every kind of page a login sees; keeps the test short


_DOWNLOADS = (".pdf", ".xlsx", ".csv", ".zip", ".json", ".png", ".svg")


class _Inline(HTMLParser):
    """Collects what the policy would block, and the same-site links to follow."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self.links: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and not named.get("src") and named.get("type") != "application/json":
            self.blocked.append("inline <script>")
        if tag == "style":
            self.blocked.append("<style> element")
        for name, _value in attrs:
            if name == "style" or name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=…>")
        if tag == "a" and named.get("href"):
            self.links.append(named["href"] or "")
        if tag == "script" and named.get("src"):
            self.assets.append(named["src"] or "")
        if tag == "link" and named.get("href"):
            self.assets.append(named["href"] or "")


def _parse(html: str) -> _Inline:
    parser = _Inline()
    parser.feed(html)
    return parser


def _crawl(client: Client, starts: list[str], done: dict[str, list[str]]) -> None:
    """GET same-site pages breadth-first from ``starts``, skipping those already in ``done``
    (crawled as another login); record {url: problems} per page in ``done``."""
    seen, queue, crawled = set(starts), deque(starts), 0
    while queue and crawled < MAX_PAGES_PER_LOGIN:
        url = queue.popleft()
        response = client.get(url)
        crawled += 1
        problems = []
        if response.headers.get("Content-Security-Policy") != CONTENT_SECURITY_POLICY:
            problems.append(f"header {response.headers.get('Content-Security-Policy')!r}")
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            done[url] = problems
            continue
        page = _parse(response.content.decode())
        done[url] = problems + page.blocked
        for href in page.links:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc or not parts.path.startswith("/") or "logout" in parts.path:
                continue
            if parts.path.endswith(_DOWNLOADS):  # files, not pages: slow to make, no markup
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen and target not in done:
                seen.add(target)
                queue.append(target)


@pytest.mark.django_db
def test_every_page_carries_the_policy_and_needs_nothing_it_forbids():
    """Crawled as every demo login and anonymously, from the home page and the public pages."""
    logins = load_demo()
    clients = [Client()]
    for login in logins:
        client = Client()
        client.force_login(get_user_model().objects.get(username=login.username))
        clients.append(client)
    survey = {"region": "kab-deli-serdang", "cycle": "gmsc-2024"}
    form = SurveyForm.objects.filter(is_open=True).first()
    starts = [
        "/",
        reverse("results:index"),
        reverse("surveys:overview", kwargs=survey),
        reverse("surveys:statistics", kwargs=survey),
        reverse("surveys:public", kwargs={"token": form.token}),
    ]
    crawled: dict[str, list[str]] = {}
    for client in clients:
        _crawl(client, starts, crawled)
    assert len(crawled) > 40  # the crawl reached the app's pages, not only the log-in page
    assert any("/statistics/" in url for url in crawled), "the survey statistics were not crawled"
    assert {url: problems for url, problems in crawled.items() if problems} == {}


def test_error_pages_and_the_api_carry_the_policy(db, client):
    for url in ("/no-such-page/", "/api/regions", "/api/openapi.json", "/static/cityeval/site.css"):
        assert client.get(url).headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url


def test_a_nul_character_in_a_path_query_or_form_is_refused_with_400(db, client):
    """PostgreSQL cannot store U+0000 in text, and a search with it failed there with a 500."""
    login = reverse("accounts:login")
    for response in (
        client.get("/results/?q=a%00b"),
        client.get("/r/a%00b/"),
        client.post(login, "username=a%00&password=x", content_type="application/x-www-form-urlencoded"),
    ):
        assert response.status_code == 400
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    api = client.get("/api/regions?q=%00")
    assert (api.status_code, api.json()["detail"]) == (400, "Text cannot contain the NUL character (U+0000).")
    # A file may hold any byte: multipart bodies are left to the forms (the log-in form answers).
    upload = SimpleUploadedFile("a.bin", b"\x00\x01", content_type="application/octet-stream")
    assert client.post(login, {"username": "x", "password": "y", "file": upload}).status_code == 200


def test_the_policy_forbids_inline_script_framing_and_other_sites():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"
    assert directives["base-uri"] == "'none'" and directives["object-src"] == "'none'"


def test_the_api_docs_load_nothing_from_another_host_and_their_assets_are_served(db, client):
    """Before the fix /api/docs loaded Swagger UI from cdn.jsdelivr.net (blank offline, and
    blocked by the policy)."""
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn." not in html and "//" not in html.replace("http://www.w3.org", "")
    page = _parse(html)
    assert page.blocked == []
    scripts = [a for a in page.assets if a.endswith(".js")]
    assert any("swagger-ui-bundle" in a for a in scripts), page.assets
    for asset in page.assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")) is not None, asset
        served = client.get(asset)
        assert served.status_code == 200, asset


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("q=a%00b", True),
        ("a=1&q=%00", True),
        ("q=a\x00b", True),
        ("q=%00&q=a", True),  # not only the last of a repeated parameter (getlist reads them all)
        ("q%00=a", True),  # nor only values
        ("q=%2500", False),  # the text "%00", not a NUL
        ("q=a+b&r=%C3%A9", False),
        ("", False),
    ],
)
def test_a_nul_in_the_query_is_found_without_parsing_every_query(rf, query, refused):
    request = rf.get("/results/", QUERY_STRING=query)
    assert carries_nul(request) is refused
    everything = [text for key, values in request.GET.lists() for text in (key, *values)]
    assert any("\x00" in text for text in everything) is refused  # what a full parse finds


@pytest.mark.parametrize(
    ("query", "charset"),
    [
        ("q=%2BAAA-", "utf-7"),  # UTF-7 writes U+0000 as +AAA-
        ("q=+AAA-", "utf-7"),
        ("q=%5Cx00", "unicode_escape"),  # \x00
    ],
)
def test_a_nul_the_query_decodes_to_in_the_requests_charset_is_found(rf, query, charset):
    """Django decodes ``request.GET`` in the charset the request's Content-Type names, even on
    a GET; such a query holds no %00 and is parsed all the same (found by a review)."""
    request = rf.get("/results/", QUERY_STRING=query, CONTENT_TYPE=f"text/plain; charset={charset}")
    assert request.GET["q"] == "\x00"  # what the view would read
    assert carries_nul(request) is True


def test_a_query_in_utf7_with_a_nul_is_refused_with_400(db, client):
    response = client.get("/api/regions?q=%2BAAA-", CONTENT_TYPE="text/plain; charset=utf-7")
    assert (response.status_code, response.json()["detail"]) == (
        400,
        "Text cannot contain the NUL character (U+0000).",
    )


def test_a_repeated_form_field_with_a_nul_in_any_of_its_values_is_refused(db, client):
    response = client.post("/accounts/login/", "username=a%00&username=b&password=x",
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 400
