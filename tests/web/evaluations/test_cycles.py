"""Cycles and frameworks: the coordinator's pages, pinned frameworks, participants."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cityeval.engine import load_framework
from cityeval.engine.framework import builtin_source
from cityeval.web.evaluations.models import Cycle, FrameworkVersion, Participation
from cityeval.web.evaluations.services import framework_version_builtin, framework_version_store
from cityeval.web.regions.models import Province, Region

TINY = (__import__("pathlib").Path(__file__).parents[2] / "engine" / "data" / "tiny.yaml").read_text(
    encoding="utf-8"
)


def _pages(world) -> list[str]:
    slug = world.cycle.slug
    return [
        reverse("evaluations:cycle_list"),
        reverse("evaluations:cycle_new"),
        reverse("evaluations:framework_upload"),
        reverse("evaluations:cycle_detail", kwargs={"cycle": slug}),
    ]


def test_cycle_pages_are_for_the_coordinator(world, coordinator, admin_a, opd_a, nobody, as_user):
    for url in _pages(world):
        assert as_user(coordinator).get(url).status_code == 200, url
        for other in (admin_a, opd_a, nobody):
            assert as_user(other).get(url).status_code == 403, url
        assert Client().get(url).status_code == 302, url


def test_cycle_writes_are_for_the_coordinator(world, admin_a, as_user):
    slug = world.cycle.slug
    posts = [
        reverse("evaluations:cycle_change", kwargs={"cycle": slug, "action": "close"}),
        reverse("evaluations:participants_import", kwargs={"cycle": slug}),
        reverse("evaluations:cycle_detail", kwargs={"cycle": slug}),
    ]
    for url in posts:
        assert as_user(admin_a).post(url, {}).status_code == 403
        assert Client().post(url, {}).status_code == 302
    assert Cycle.objects.get(slug=slug).status == Cycle.Status.OPEN


def test_a_new_cycle_pins_the_built_in_framework_by_content_hash(coordinator, as_user):
    response = as_user(coordinator).post(
        reverse("evaluations:cycle_new"),
        {
            "name": "GMSC 2023", "slug": "gmsc-2023", "year": 2023, "framework": "builtin:gmsc-2023",
            "self_assessment_deadline": "2023-09-30T23:59", "stage_1_starts": "2023-08-01",
            "stage_1_ends": "2023-08-31", "stage_2_starts": "2023-10-01", "stage_2_ends": "2023-11-30",
        },
    )  # fmt: skip
    assert response.status_code == 302
    cycle = Cycle.objects.get(slug="gmsc-2023")
    assert cycle.framework.digest == load_framework("gmsc-2023").hash
    assert cycle.status == Cycle.Status.DRAFT and cycle.stages.count() == 2


def test_a_stage_cannot_end_before_it_starts(coordinator, as_user):
    response = as_user(coordinator).post(
        reverse("evaluations:cycle_new"),
        {
            "name": "X", "slug": "x", "year": 2023, "framework": "builtin:gmsc-2023",
            "self_assessment_deadline": "2023-09-30T23:59", "stage_1_starts": "2023-08-31",
            "stage_1_ends": "2023-08-01", "stage_2_starts": "2023-10-01", "stage_2_ends": "2023-11-30",
        },
    )  # fmt: skip
    assert response.status_code == 200 and "cannot end before it starts" in response.content.decode()
    assert not Cycle.objects.filter(slug="x").exists()


def test_an_uploaded_framework_is_validated_by_the_engine_and_stored_once(coordinator, as_user):
    client = as_user(coordinator)
    url = reverse("evaluations:framework_upload")
    bad = TINY.replace("{A: 40, B: 50}", "{A: 45, B: 50}")
    response = client.post(url, {"file": SimpleUploadedFile("tiny.yaml", bad.encode())})
    assert response.context["problems"] == [
        "components[*].weights.A: weights sum to 105, not 100 (first 45 + second 60)"
    ]
    assert not FrameworkVersion.objects.filter(code="tiny").exists()
    for _ in range(2):
        assert client.post(url, {"file": SimpleUploadedFile("tiny.yaml", TINY.encode())}).status_code == 302
    assert FrameworkVersion.objects.filter(code="tiny").count() == 1


def test_a_binary_framework_upload_is_refused(coordinator, as_user):
    response = as_user(coordinator).post(
        reverse("evaluations:framework_upload"), {"file": SimpleUploadedFile("x.yaml", b"\xff\xfe\x00")}
    )
    assert response.context["problems"] == ["The file is not UTF-8 text."]


def test_close_and_reopen_go_through_confirmation(world, coordinator, as_user):
    client = as_user(coordinator)
    close = reverse("evaluations:cycle_change", kwargs={"cycle": world.cycle.slug, "action": "close"})
    reopen = reverse("evaluations:cycle_change", kwargs={"cycle": world.cycle.slug, "action": "reopen"})
    assert client.post(close).status_code == 200  # without confirm=yes: the confirmation page only
    assert Cycle.objects.get(pk=world.cycle.pk).status == Cycle.Status.OPEN
    client.post(close, {"confirm": "yes"})
    assert Cycle.objects.get(pk=world.cycle.pk).status == Cycle.Status.CLOSED
    client.post(close, {"confirm": "yes"})  # closing a closed cycle: refused with a message, no change
    assert Cycle.objects.get(pk=world.cycle.pk).status == Cycle.Status.CLOSED
    assert client.post(reopen, {"confirm": "yes", "reason": "  "}).status_code == 400  # reason required
    assert Cycle.objects.get(pk=world.cycle.pk).status == Cycle.Status.CLOSED
    client.post(reopen, {"confirm": "yes", "reason": "Kota Medan's evidence arrived late"})
    assert Cycle.objects.get(pk=world.cycle.pk).status == Cycle.Status.OPEN


def test_participants_import_is_all_or_nothing(world, coordinator, as_user):
    bali = Province.objects.create(name="Bali")
    Region.objects.create(name="Kab. Badung", slug="kab-badung", kind="kabupaten", province=bali)
    url = reverse("evaluations:participants_import", kwargs={"cycle": world.cycle.slug})
    before = Participation.objects.count()
    bad = SimpleUploadedFile(
        "p.csv", b"region,group\nKab. Badung,KPPN_IKN\nKab. Nowhere,REGULER\nKota Medan,XYZ\n"
    )
    response = as_user(coordinator).post(url, {"file": bad}, follow=True)
    text = response.content.decode()
    assert "row 3, column &#x27;region&#x27;: no region &#x27;Kab. Nowhere&#x27;" in text
    assert "row 4, column &#x27;group&#x27;: unknown group &#x27;XYZ&#x27;" in text
    assert Participation.objects.count() == before
    good = SimpleUploadedFile("p.csv", b"region,group\nKab. Badung,KPPN_IKN\n")
    as_user(coordinator).post(url, {"file": good})
    assert Participation.objects.get(region__slug="kab-badung").group == "KPPN_IKN"


@pytest.mark.parametrize("group", ["REGULER", "KPPN_IKN"])
def test_a_region_is_added_with_a_group_of_the_pinned_framework(world, coordinator, as_user, group):
    bali = Province.objects.create(name="Bali")
    Region.objects.create(name="Kab. Badung", slug="kab-badung", kind="kabupaten", province=bali)
    url = reverse("evaluations:cycle_detail", kwargs={"cycle": world.cycle.slug})
    assert as_user(coordinator).post(url, {"region": "kab-badung", "group": group}).status_code == 302
    assert Participation.objects.get(region__slug="kab-badung").group == group
    assert as_user(coordinator).post(url, {"region": "kab-badung", "group": "NOPE"}).status_code == 200


def test_a_published_cycle_cannot_be_reopened_even_from_a_stale_copy(world):
    from cityeval.web.evaluations.phases import CycleClosed
    from cityeval.web.evaluations.services import cycle_transition

    stale = Cycle.objects.get(pk=world.cycle.pk)  # still "open" in memory
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.PUBLISHED)
    with pytest.raises(CycleClosed):
        cycle_transition(cycle=stale, action="close")
    assert Cycle.objects.get(pk=world.cycle.pk).status == Cycle.Status.PUBLISHED


def test_regions_cannot_change_once_the_cycle_is_closed(world, coordinator, as_user):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    url = reverse("evaluations:cycle_detail", kwargs={"cycle": world.cycle.slug})
    response = as_user(coordinator).post(url, {"region": "kota-medan", "group": "KPPN_IKN"}, follow=True)
    assert "can no longer change" in response.content.decode()
    assert Participation.objects.get(pk=world.participation_b.pk).group == "REGULER"
    upload = SimpleUploadedFile("p.csv", b"region,group\nKota Medan,KPPN_IKN\n")
    imported = reverse("evaluations:participants_import", kwargs={"cycle": world.cycle.slug})
    as_user(coordinator).post(imported, {"file": upload})
    assert Participation.objects.get(pk=world.participation_b.pk).group == "REGULER"


# The same weights written once with an anchor: what a framework stored before aliases were
# refused may look like (each component weighs A and B at 50, as tiny.yaml's do in sum).
ANCHORED = TINY.replace("weights: {A: 40, B: 50}", "weights: &half {A: 50, B: 50}").replace(
    "weights: {A: 60, B: 50}", "weights: *half"
)


def test_a_stored_version_using_an_anchor_still_yields_its_framework(coordinator, as_user):
    """A cycle pinned to a version stored before the alias ban keeps its framework; uploading
    the same text now is refused."""
    stored = FrameworkVersion.objects.create(digest="d" * 64, code="tiny", title="Tiny", source=ANCHORED)
    framework = FrameworkVersion.objects.get(pk=stored.pk).framework
    assert [c.weights for c in framework.components[:2]] == [{"A": 50, "B": 50}] * 2
    response = as_user(coordinator).post(
        reverse("evaluations:framework_upload"), {"file": SimpleUploadedFile("tiny.yaml", ANCHORED.encode())}
    )
    assert any("aliases (*name) are not allowed" in p for p in response.context["problems"])


def test_a_deeply_nested_framework_upload_is_a_problem_not_a_server_error(coordinator, as_user):
    """5,000 nested lists exhaust the YAML parser's recursion (a 500 before the fix)."""
    text = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    response = as_user(coordinator).post(
        reverse("evaluations:framework_upload"), {"file": SimpleUploadedFile("deep.yaml", text.encode())}
    )
    assert response.status_code == 400
    assert response.context["problems"] == ["invalid YAML: nested too deeply"]


@pytest.mark.parametrize("name", ["gmsc-2022", "gmsc-2023", "gmsc-2024"])
def test_a_builtin_version_is_the_one_its_text_uploaded_would_store(db, name):
    """The built-in is stored from the cached (libyaml) parse; uploading the same text goes
    through the strict parser: both must name one version, with the text as its source."""
    builtin = framework_version_builtin(name)
    uploaded = framework_version_store(text=builtin_source(name))
    assert uploaded.pk == builtin.pk and builtin.source == builtin_source(name)
    assert FrameworkVersion.objects.count() == 1
