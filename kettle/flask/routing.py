"""``werkzeug.routing``: converters, URL-building errors and redirects, kettle's."""

from kettle.exceptions import RequestRedirect
from kettle.routing.urls import NoMatchFound as BuildError
from kettle.rules import BaseConverter, Map, Rule, Submount, URLMap

__all__ = ["BaseConverter", "BuildError", "Map", "RequestRedirect", "Rule", "Submount", "URLMap"]
