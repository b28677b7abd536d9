"""``flask.testing``: the test client and the CLI runner."""

from kettle.commands import AppCliRunner as FlaskCliRunner
from kettle.testing import TestClient as FlaskClient

__all__ = ["FlaskCliRunner", "FlaskClient"]
