"""The one shape of every API refusal, shared by the routers and the API root.

One class, so the OpenAPI document has one ``ApiError`` component: separate ``ErrorOut``
classes in each app shared a name and ninja kept only one of them, so the document described
some refusals wrongly.
"""

from __future__ import annotations

from collections.abc import Mapping

from ninja import Field, Schema


class ApiError(Schema):
    """A refusal: ``detail`` says why; ``errors`` names the fields (a message or a list of them)."""

    detail: str
    errors: Mapping[str, list[str] | str] = Field(default_factory=dict)
