"""``fastapi.routing``: kettle's router, and its one route class for HTTP and WebSocket.

A custom ``route_class`` (a subclass overriding ``get_route_handler``) is not supported:
kettle compiles each route into a plan once, and has no per-route handler to wrap.
"""

from kettle.routing import Route as APIRoute
from kettle.routing import Route as APIWebSocketRoute
from kettle.routing import Router as APIRouter

__all__ = ["APIRoute", "APIRouter", "APIWebSocketRoute"]
