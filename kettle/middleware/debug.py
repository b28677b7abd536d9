"""The debug-mode error page: the traceback with source context, as static HTML.

Only used when the app is in debug mode (``Kettle(debug=True)`` or ``kettle run --debug``,
which binds to loopback). It shows code and local variable *names* but runs nothing: there
is no console, so a page left open in a browser cannot execute code on the server.

How the server was started is not trusted: ``KETTLE_DEBUG=1 uvicorn app:app --host
0.0.0.0`` must not hand tracebacks to the network. Each request is checked when it
fails: the page is shown only to a loopback client that also names a loopback ``Host``
(a DNS-rebinding page in the developer's browser reaches a loopback server under its own
host name). Every other request gets the app's ordinary 500.
"""

from __future__ import annotations

import html
import ipaddress
import linecache
import re
import traceback
from typing import TYPE_CHECKING

from kettle.responses import HTMLResponse, PlainTextResponse, Response

if TYPE_CHECKING:
    from kettle.requests import Request

# ``localhost`` and its subdomains (RFC 6761: they never leave the machine), an IPv4
# literal or a bracketed IPv6 literal, each with an optional port.
_HOST = re.compile(
    r"(?:(localhost|[a-z0-9.-]+\.localhost)|(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-f:.]+)\])"
    r"(?::\d{1,5})?"
)

_CONTEXT_LINES = 5
_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; color: #a00; } h2 { font-size: 1em; color: #555; }
.frame { border: 1px solid #ddd; margin: 1em 0; border-radius: 4px; }
.frame .where { background: #f5f5f5; padding: .4em .8em; font-family: monospace; }
.frame.app .where { background: #fff4e0; }
pre { margin: 0; padding: .5em .8em; overflow-x: auto; font-size: 13px; }
.line.current { background: #ffe0e0; display: block; }
.locals { padding: .2em .8em .6em; color: #666; font-family: monospace; font-size: 12px; }
"""


def render_traceback(exc: BaseException, request: Request | None = None) -> str:
    """The HTML page for ``exc``: one block per frame, newest last."""
    frames = traceback.extract_tb(exc.__traceback__)
    blocks = []
    for frame in frames:
        lineno = frame.lineno or 0
        start = max(1, lineno - _CONTEXT_LINES)
        lines = []
        for number in range(start, lineno + _CONTEXT_LINES + 1):
            text = linecache.getline(frame.filename, number)
            if not text and number > lineno:
                break
            css = "line current" if number == lineno else "line"
            lines.append(f'<span class="{css}">{number:>5}  {html.escape(text.rstrip())}</span>')
        in_app = "site-packages" not in frame.filename and "/kettle/" not in frame.filename
        names = ", ".join(sorted((frame.locals or {}).keys()))
        blocks.append(
            f'<div class="frame{" app" if in_app else ""}">'
            f'<div class="where">{html.escape(frame.filename)}:{lineno} in '
            f"<b>{html.escape(frame.name)}</b></div>"
            f"<pre>{''.join(lines) or html.escape(frame.line or '')}</pre>"
            + (f'<div class="locals">locals: {html.escape(names)}</div>' if names else "")
            + "</div>"
        )
    title = f"{type(exc).__name__}: {exc}"
    where = f"{request.method} {request.path}" if request is not None else ""
    chain = "".join(
        f"<h2>{html.escape(type(e).__name__)}: {html.escape(str(e))}</h2>" for e in _causes(exc)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(where)} (debug mode: never run "
        f"this in production)</p>{chain}{''.join(blocks)}</body></html>"
    )


def _causes(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current = exc.__cause__ or exc.__context__
    while current is not None and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _is_loopback_ip(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def is_local_request(request: Request) -> bool:
    """Whether ``request`` came from this machine *and* was addressed to it by name.

    Example:
        >>> from kettle.requests import Request
        >>> def make(client, host):
        ...     scope = {"type": "http", "headers": [(b"host", host)], "client": client}
        ...     return Request(scope)
        >>> is_local_request(make(("127.0.0.1", 5000), b"localhost:8000"))
        True
        >>> is_local_request(make(("127.0.0.1", 5000), b"attacker.example"))
        False
        >>> is_local_request(make(("192.0.2.7", 5000), b"127.0.0.1:8000"))
        False
    """
    client = request.scope.get("client")
    if not client or not _is_loopback_ip(str(client[0])):
        return False
    headers = request.scope["headers"]
    hosts = [value for name, value in headers if name == b"host"]
    if len(hosts) != 1:
        return False
    raw = hosts[0].decode("latin-1").lower()
    found = _HOST.fullmatch(raw)
    if found is None:
        return False
    name, ipv4, ipv6 = found.groups()
    return name is not None or _is_loopback_ip(ipv4 or ipv6)


async def debug_response(request: Request, exc: BaseException) -> Response | None:
    """A 500 with the traceback: HTML for browsers, plain text for everything else.

    ``None`` for a request that is not local (see :func:`is_local_request`): the caller
    answers it with the ordinary 500.
    """
    if not is_local_request(request):
        return None
    accept = request.headers.get("accept", "")
    if "text/html" in accept:
        return HTMLResponse(render_traceback(exc, request), 500)
    text = "".join(traceback.format_exception(exc))
    return PlainTextResponse(text, 500)
