"""JSON API v1: the public inquiry endpoint and the coordinator API."""

from leads.api.routes import bp

__all__ = ["bp"]
