"""Serving files (placeholder)."""

from kettle.responses import Response


class FileResponse(Response):
    """A file from disk."""
