"""The prospect's pages: the inquiry form and what follows it."""

from leads.public.routes import bp

__all__ = ["bp"]
