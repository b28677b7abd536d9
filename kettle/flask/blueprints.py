"""``flask.blueprints``."""

from kettle.scaffold import Blueprint

__all__ = ["Blueprint"]
