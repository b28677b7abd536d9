"""``fastapi.sse``: kettle's server-sent events."""

from kettle.sse import EventSourceResponse, ServerSentEvent, format_event, format_sse_event

__all__ = ["EventSourceResponse", "ServerSentEvent", "format_event", "format_sse_event"]
