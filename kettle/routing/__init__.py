"""Routing: declarations (routes, routers), path templates, converters and the matcher."""

from kettle.routing.converters import Converter
from kettle.routing.routes import Route, Router

__all__ = ["Converter", "Route", "Router"]
