"""``flask.testing``: the test client, its request builder and the CLI runner."""

from kettle.commands import AppCliRunner as FlaskCliRunner
from kettle.environbuilder import EnvironBuilder
from kettle.flasktesting import FlaskClient

__all__ = ["EnvironBuilder", "FlaskCliRunner", "FlaskClient"]
