"""``fastapi.testclient``."""

from kettle.testing import TestClient

__all__ = ["TestClient"]
