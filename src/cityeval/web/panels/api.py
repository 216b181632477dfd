"""JSON API routes of this app (filled in by its feature work)."""

from ninja import Router

router = Router()
