"""Live updates: every change to a task is published on the ``tasks`` channel, and each
open board listens to it as Server-Sent Events (``static/live.js``).

The channels are :class:`kettle.channels.Channels`: in this process by default, through
Redis when ``REDIS_URL`` is set, so a change made on one worker or host reaches the
boards connected to every other. A browser that reconnects sends the last event id it
saw (``Last-Event-ID``) and gets what it missed from the channel's history.
"""

from __future__ import annotations

from typing import Annotated, Any

from kettle import Blueprint, Header, current_app
from kettle.channels import Channels
from kettle.login import login_required
from kettle.sse import EventSourceResponse

CHANNEL = "tasks"

bp = Blueprint("live", __name__, include_in_schema=False)


def channels() -> Channels:
    found: Channels = current_app.state.channels
    return found


async def publish(change: dict[str, Any]) -> None:
    """Tell every open board about ``change`` (``{"action": ..., "id": ...}``)."""
    await channels().publish(CHANNEL, change)


@bp.get("/events")
@login_required
async def events(
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> EventSourceResponse:
    return EventSourceResponse(channels().events(CHANNEL, last_event_id, history=0), ping=15)
