"""JSON API v1: the public inquiry endpoint and the coordinator API."""

from leads.api import coordinator, inquiries, openapi  # noqa: F401  (each attaches its routes)
from leads.api.blueprint import bp

__all__ = ["bp"]
