"""Provinces, regions (kabupaten/kota) and their regional agencies (OPD)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Province(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("province")

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """A regency (kabupaten) or city (kota): the unit that is evaluated."""

    class Kind(models.TextChoices):
        REGENCY = "kabupaten", _("Regency (kabupaten)")
        CITY = "kota", _("City (kota)")

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="regions")
    code = models.CharField(_("official code"), max_length=20, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")

    def __str__(self) -> str:
        return self.name


class Opd(models.Model):
    """A regional agency (organisasi perangkat daerah) of one region."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="opds")
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    slug = models.SlugField(max_length=80)

    class Meta:
        ordering = ["name"]
        verbose_name = _("OPD")
        constraints = [
            models.UniqueConstraint(fields=["region", "slug"], name="opd_slug_unique_in_region"),
            models.UniqueConstraint(fields=["region", "name"], name="opd_name_unique_in_region"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name
