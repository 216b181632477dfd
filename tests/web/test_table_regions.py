"""A table too wide for the screen scrolls inside its frame (``.table-wrap``); keyboard users
reach and scroll the frame only if it is focusable, and a screen reader announces it by name
(axe-core's rule scrollable-region-focusable; WCAG 2.1.1). The served HTML itself carries
tabindex="0", role="region" and the table's heading as aria-label, so no JavaScript is needed."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).parents[2]


class _Frames(HTMLParser):
    """The attributes of every element whose class list holds ``table-wrap``."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "table-wrap" in (found.get("class") or "").split():
            self.frames.append(found)


def _frames(html: str) -> list[dict[str, str | None]]:
    parser = _Frames()
    parser.feed(html)
    return parser.frames


def _assert_named_regions(html: str) -> list[str]:
    frames = _frames(html)
    assert frames, "the page shows no wide table"
    for frame in frames:
        assert frame.get("tabindex") == "0" and frame.get("role") == "region", frame
        assert (frame.get("aria-label") or "").strip(), frame
    return [str(f["aria-label"]) for f in frames]


def test_the_cycle_page_names_its_participants_frame_in_indonesian(world, as_user, coordinator, settings):
    """In Indonesian (the site's default language) the name is the heading's Indonesian text."""
    settings.LANGUAGE_CODE = "id"
    page = as_user(coordinator).get(reverse("evaluations:cycle_detail", args=[world.cycle.slug]))
    assert _assert_named_regions(page.content.decode()) == ["Daerah peserta"]


def test_pages_of_two_roles_serve_focusable_named_frames(world, as_user, coordinator, admin_a):
    regions = as_user(coordinator).get(reverse("regions:region_list")).content.decode()
    assert _assert_named_regions(regions) == ["Regions"]
    cycles = as_user(coordinator).get(reverse("evaluations:cycle_list")).content.decode()
    assert _assert_named_regions(cycles) == ["Evaluation cycles"]
    overview = reverse(
        "assessments:overview", kwargs={"region": world.region_a.slug, "cycle": world.cycle.slug}
    )
    names = _assert_named_regions(as_user(admin_a).get(overview).content.decode())
    # The claimed index, then one table per component, named after the component.
    assert names[0] == "Claimed index" and "Baseline" in names


def test_no_template_writes_a_bare_frame():
    """Every frame goes through the ``tablewrap`` tag, which adds the attributes."""
    templates = (ROOT / "src" / "cityeval" / "web").rglob("*.html")
    bare = [
        str(p.relative_to(ROOT)) for p in templates if 'class="table-wrap"' in p.read_text(encoding="utf-8")
    ]
    assert bare == []
