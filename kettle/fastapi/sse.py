"""``fastapi.sse``: kettle's server-sent events."""

from kettle.sse import EventSourceResponse, ServerSentEvent, format_event

__all__ = ["EventSourceResponse", "ServerSentEvent", "format_event", "format_sse_event"]


def format_sse_event(
    *,
    data_str: str | None = None,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """FastAPI's helper: one event on the wire from its fields, ``data_str`` sent as is.

    A line break in ``event``, ``id`` or ``comment`` is refused (kettle's
    :class:`ServerSentEvent` rule: it would start another field).

    Example:
        >>> format_sse_event(data_str="hi", event="greeting")
        b'event: greeting\\ndata: hi\\n\\n'
    """
    return ServerSentEvent(
        raw_data=data_str, event=event, id=id, retry=retry, comment=comment
    ).encode()
