"""A participants table may write the groups as the ministry's tables do (``K``, ``Reguler``):
they are stored as the framework's codes, which scoring and the pages use."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cityeval.web.evaluations.models import Participation
from cityeval.web.regions.models import Province, Region


def test_participants_import_stores_the_code_of_an_alias(world, coordinator, as_user):
    bali = Province.objects.create(name="Bali")
    Region.objects.create(name="Kab. Badung", slug="kab-badung", kind="kabupaten", province=bali)
    url = reverse("evaluations:participants_import", kwargs={"cycle": world.cycle.slug})
    upload = SimpleUploadedFile("p.csv", b"region,group\nKab. Badung,K\nKota Medan, reguler \n")
    as_user(coordinator).post(url, {"file": upload})
    assert Participation.objects.get(region__slug="kab-badung").group == "KPPN_IKN"
    assert Participation.objects.get(pk=world.participation_b.pk).group == "REGULER"


def test_a_region_given_by_name_and_by_slug_is_refused_as_twice(world, coordinator, as_user):
    """ "Kota Medan" and "kota-medan" are one region: the import keyed duplicates by the cell's
    text, accepted both rows and the last group won. Now the second row is refused, naming both
    rows (header is row 1, so the data rows are 2 and 3), and nothing is saved."""
    before = Participation.objects.get(pk=world.participation_b.pk).group
    url = reverse("evaluations:participants_import", kwargs={"cycle": world.cycle.slug})
    upload = SimpleUploadedFile("p.csv", b"region,group\nKota Medan,REGULER\nkota-medan,KPPN_IKN\n")
    response = as_user(coordinator).post(url, {"file": upload}, follow=True)
    assert "the region Kota Medan appears twice (rows 2 and 3)" in response.content.decode()
    assert Participation.objects.get(pk=world.participation_b.pk).group == before
