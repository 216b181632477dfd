"""The navigation's links are reversed once a process (``accounts.context.nav_urls``), per URL
configuration and script prefix: each is the address ``reverse`` gives, a site served under a
sub-path gets its own, and the pages link to them."""

from __future__ import annotations

from django.urls import reverse, set_script_prefix

from cityeval.web.accounts.context import NAV_LINKS, nav_urls


def test_every_link_is_the_address_reverse_gives():
    urls = nav_urls()
    assert {key: urls[key] for key in NAV_LINKS} == {key: reverse(name) for key, name in NAV_LINKS.items()}


def test_each_script_prefix_has_its_own_links():
    assert nav_urls()["notices_list"] == reverse("notices:list")
    set_script_prefix("/cityeval/")
    try:
        assert nav_urls()["notices_list"] == reverse("notices:list")
        assert nav_urls()["notices_list"].startswith("/cityeval/")
    finally:
        set_script_prefix("/")
    assert not nav_urls()["notices_list"].startswith("/cityeval/")


def test_the_coordinators_navigation_links_every_page(world, coordinator, as_user):
    page = as_user(coordinator).get(reverse("accounts:tokens")).content.decode()
    nav = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    for name in NAV_LINKS.values():
        if name in (
            "accounts:outbox",
            "panels:mine",
            "panels:conflicts",
            "assessments:tasks",
            "accounts:logout",
        ):
            continue  # the demo outbox, an assessor's and a region member's links
        assert f'href="{reverse(name)}"' in nav, name
    assert f'action="{reverse("accounts:logout")}"' in nav
