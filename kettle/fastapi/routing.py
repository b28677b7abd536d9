"""``fastapi.routing``: kettle's router, and its one route class for HTTP and WebSocket.

A custom ``route_class`` (a subclass of ``APIRoute`` overriding ``get_route_handler``) wraps
every request of its routes: ``APIRouter(route_class=...)`` or ``app.router.route_class``.
"""

from kettle.routing import Route as APIRoute
from kettle.routing import Route as APIWebSocketRoute
from kettle.routing import Router as APIRouter

__all__ = ["APIRoute", "APIRouter", "APIWebSocketRoute"]
