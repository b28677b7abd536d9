"""The hello example: both routing idioms, a router, JSON in and out, a WebSocket echo.

Serve it from the repository root with ``scripts/serve``, or::

    kettle run examples/hello/app.py:app --reload
"""

from __future__ import annotations

from typing import Any

from kettle import HTMLResponse, HTTPException, Kettle, Request, Router, WebSocket

app = Kettle(__name__, title="hello")

INDEX = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>hello, kettle</title></head>
<body>
  <h1>Hello, kettle!</h1>
  <ul>
    <li><a href="/hello">/hello</a>: a JSON greeting</li>
    <li><a href="/items/42">/items/42</a>: a typed path parameter</li>
    <li><a href="/greet/Ada">/greet/Ada</a>: a Flask-style route</li>
    <li><a href="/api/status">/api/status</a>: a route from a router under /api</li>
    <li>POST /api/echo: echoes the JSON body</li>
    <li>/ws: a WebSocket that echoes text</li>
  </ul>
</body>
</html>
"""


@app.get("/")
async def index() -> HTMLResponse:
    return HTMLResponse(INDEX)


@app.route("/hello")
async def hello() -> dict[str, str]:
    return {"message": "Hello, kettle!"}


@app.get("/items/{item_id:int}")
async def read_item(item_id: int) -> dict[str, int]:
    if item_id < 1:
        raise HTTPException(404, "item ids start at 1")
    return {"item_id": item_id}


@app.route("/greet/<name>")
def greet(name: str) -> str:
    return f"Hello, {name}!"


api = Router(prefix="/api", tags=["api"])


@api.get("/status")
async def status() -> dict[str, bool]:
    return {"ok": True}


@api.post("/echo")
async def echo(request: Request) -> dict[str, Any]:
    return {"received": await request.json()}


app.include_router(api)


@app.websocket("/ws")
async def ws_echo(ws: WebSocket) -> None:
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(f"echo: {text}")
