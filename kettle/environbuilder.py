"""Flask's description of a test request: :class:`EnvironBuilder`.

The test client (:class:`~kettle.flasktesting.FlaskClient`) sends one per request; a test
may build one itself and pass it to ``client.open()``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes, urlencode, urlsplit

from kettle.datastructures import MutableHeaders
from kettle.types import Scope

__all__ = ["EnvironBuilder", "as_bytes", "request_scope"]

_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
#: the WSGI keys that are not headers (``HTTP_*`` keys are headers)
_UNPREFIXED = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


class EnvironBuilder:
    """One test request, described as Flask's test client takes it, with the app's
    defaults: ``SERVER_NAME``, ``APPLICATION_ROOT``, ``PREFERRED_URL_SCHEME`` and its JSON
    provider for ``json=``.

    ``path`` may be a whole URL (``"https://example.com/a?b=1"``); otherwise ``base_url``
    (``"http://example.com:8080/root"``), else the app's config, says where it is sent.
    ``data`` is the body: ``bytes``/``str`` as they are, a mapping as a form (multipart
    when a value is a file, ``(file, filename[, content_type])`` or an open file).

    Example:
        >>> from kettle import Kettle
        >>> from kettle.flasktesting import EnvironBuilder
        >>> app = Kettle(__name__)
        >>> app.config["SERVER_NAME"] = "example.com"
        >>> builder = EnvironBuilder(app, "/search", query_string={"q": "tea"})
        >>> builder.url
        'http://example.com/search?q=tea'
        >>> EnvironBuilder(app, json={"a": 1}).headers["content-type"]
        'application/json'
    """

    def __init__(
        self,
        app: Any = None,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *,
        query_string: str | bytes | Mapping[str, Any] | None = None,
        method: str = "GET",
        input_stream: Any = None,
        content_type: str | None = None,
        content_length: int | None = None,
        errors_stream: Any = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        data: Any = None,
        environ_base: Mapping[str, Any] | None = None,
        environ_overrides: Mapping[str, Any] | None = None,
        mimetype: str | None = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
        files: Any = None,
    ) -> None:
        self.app = app
        #: where the app's errors would go: kettle logs through :mod:`logging` instead
        self.errors_stream = errors_stream
        self.method = method.upper()
        url = urlsplit(path)
        if url.scheme or url.netloc:
            if base_url is not None or subdomain is not None:
                raise ValueError("give base_url or subdomain, or a whole URL as the path")
            base_url = f"{url.scheme or 'http'}://{url.netloc}"
            path = url.path or "/"
            if url.query and query_string is None:
                query_string = url.query
        elif "?" in path:
            path, _, query = path.partition("?")
            if query_string is not None:
                raise ValueError("the query string is in the path already")
            query_string = query
        if base_url is None:
            base_url = self._base_url_from_config(subdomain, url_scheme)
        elif subdomain is not None:
            raise ValueError("give either base_url or subdomain")
        base = urlsplit(base_url)
        self.url_scheme = url_scheme or base.scheme or "http"
        self.host = base.netloc or "localhost"
        self.script_root = base.path.rstrip("/")
        self.path = path if path.startswith("/") else f"/{path}"
        self.query_string = _query(query_string)
        self.headers = MutableHeaders()
        for key, value in _pairs(headers):
            self.headers.append(key, value)
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            self.headers["authorization"] = f"Basic {token}"
        self.environ_base = dict(environ_base or {})
        self.environ_overrides = dict(environ_overrides or {})
        self._files: list[Any] = []
        body, body_type = self._body(data, json, input_stream, files, content_type or mimetype)
        #: the body, as bytes
        self.input_stream = io.BytesIO(body)
        self.body = body
        given = content_type or mimetype
        if given and body_type and given.split(";")[0].strip() == _MULTIPART:
            given = body_type  # "multipart/form-data" as asked, with the boundary written
        if given or body_type:
            self.headers["content-type"] = str(given or body_type)
        self.content_length = len(body) if content_length is None else content_length

    def _base_url_from_config(self, subdomain: str | None, url_scheme: str | None) -> str:
        config: Mapping[str, Any] = getattr(self.app, "config", None) or {}
        host = config.get("SERVER_NAME") or "localhost"
        if subdomain:
            host = f"{subdomain}.{host}"
        root = str(config.get("APPLICATION_ROOT") or "/").rstrip("/")
        scheme = url_scheme or config.get("PREFERRED_URL_SCHEME") or "http"
        return f"{scheme}://{host}{root}/"

    def _body(
        self,
        data: Any,
        json: Any,
        input_stream: Any,
        files: Any,
        content_type: str | None,
    ) -> tuple[bytes, str | None]:
        given = [x for x in (data, json, input_stream) if x is not None]
        if len(given) > 1:
            raise TypeError("give one of data, json and input_stream")
        if json is not None:
            return self._json_dumps(json).encode(), "application/json"
        if input_stream is not None:
            return as_bytes(input_stream.read()), None
        if data is None and files is None:
            return b"", None
        if isinstance(data, str | bytes | bytearray | memoryview):
            return as_bytes(data), None
        if hasattr(data, "read"):
            return as_bytes(data.read()), None
        fields: list[tuple[str, Any]] = []
        uploads: list[tuple[str, Any]] = list(_pairs(files))
        for key, value in _pairs(data):
            for item in value if isinstance(value, list) else [value]:
                upload = _upload(item)
                if upload is None:
                    fields.append((key, str(item)))
                else:
                    self._files.append(upload[1])
                    uploads.append((key, upload))
        if not uploads and not (content_type or "").startswith(_MULTIPART):
            return urlencode(fields).encode(), _FORM
        boundary = secrets.token_hex(16)
        return _multipart(fields, uploads, boundary), f"{_MULTIPART}; boundary={boundary}"

    def _json_dumps(self, value: Any) -> str:
        provider = getattr(self.app, "json", None)
        if provider is not None and hasattr(provider, "dumps"):
            return str(provider.dumps(value))
        from kettle.jsonprovider import dumps

        return dumps(value)

    @property
    def base_url(self) -> str:
        """Scheme, host and root path: ``"http://localhost/"``."""
        return f"{self.url_scheme}://{self.host}{self.script_root}/"

    @property
    def url(self) -> str:
        """The whole URL the request goes to."""
        query = f"?{self.query_string}" if self.query_string else ""
        return f"{self.url_scheme}://{self.host}{self.script_root}{self.path}{query}"

    @property
    def server_name(self) -> str:
        return self.host.rpartition(":")[0] if _has_port(self.host) else self.host

    @property
    def server_port(self) -> str:
        if _has_port(self.host):
            return self.host.rpartition(":")[2]
        return "443" if self.url_scheme == "https" else "80"

    def get_environ(self) -> dict[str, Any]:
        """The request as a WSGI environ: ``environ_base``, then the request's own keys,
        then ``environ_overrides``."""
        environ = dict(self.environ_base)
        environ.update(
            {
                "REQUEST_METHOD": self.method,
                # WSGI's strings: the UTF-8 bytes of the path, read as latin-1
                "SCRIPT_NAME": _wsgi_string(self.script_root),
                # percent-escapes decoded, as a server does ("%20" reaches the view as " ")
                "PATH_INFO": unquote_to_bytes(self.path.encode("utf-8")).decode("latin-1"),
                "QUERY_STRING": self.query_string,
                "SERVER_NAME": self.server_name,
                "SERVER_PORT": self.server_port,
                "HTTP_HOST": self.host,
                "SERVER_PROTOCOL": "HTTP/1.1",
                "wsgi.url_scheme": self.url_scheme,
                "wsgi.input": io.BytesIO(self.body),
                "wsgi.errors": self.errors_stream,
                "CONTENT_LENGTH": str(self.content_length) if self.body else "",
            }
        )
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            environ[name if name in _UNPREFIXED else f"HTTP_{name}"] = value
        environ.update(self.environ_overrides)
        return environ

    def close(self) -> None:
        """Close the files given in ``data``."""
        for file in self._files:
            with contextlib.suppress(Exception):
                file.close()
        self._files = []


def request_scope(app: Any, *args: Any, **kwargs: Any) -> tuple[Scope, bytes]:
    """The ASGI scope and the body of the request :class:`EnvironBuilder` describes with
    these arguments (``app.test_request_context``'s request: the app's ``SERVER_NAME``,
    ``APPLICATION_ROOT`` and ``PREFERRED_URL_SCHEME`` unless given).

    Example:
        >>> from kettle import Kettle
        >>> app = Kettle(__name__)
        >>> app.config["SERVER_NAME"] = "example.com"
        >>> scope, body = request_scope(app, "/a?b=1", url_scheme="https", data="hi")
        >>> scope["scheme"], scope["path"], scope["query_string"], scope["server"], body
        ('https', '/a', b'b=1', ('example.com', 443), b'hi')
    """
    from kettle.aswsgi import build_scope

    builder = EnvironBuilder(app, *args, **kwargs)
    try:
        scope = build_scope(builder.get_environ())
        body = builder.body
    finally:
        builder.close()
    scope["client"] = ("127.0.0.1", 0)
    scope["app"] = app
    return scope, body


def _wsgi_string(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


def _has_port(host: str) -> bool:
    return ":" in host and not host.endswith("]")


def as_bytes(value: Any) -> bytes:
    """``value`` as bytes (a ``str`` encoded as UTF-8)."""
    return value.encode() if isinstance(value, str) else bytes(value)


def _query(value: str | bytes | Mapping[str, Any] | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, str):
        return value.lstrip("?")
    return urlencode(list(_pairs(value)), doseq=True)


def _pairs(value: Any) -> Iterator[tuple[str, Any]]:
    """``(key, value)`` pairs of a mapping (a multi-value one kept whole) or a list."""
    if value is None:
        return
    if isinstance(value, Mapping):
        multi = getattr(value, "multi_items", None) or getattr(value, "items", None)
        lists = getattr(value, "lists", None)
        if lists is not None:
            for key, values in lists():
                yield from ((key, v) for v in values)
            return
        assert multi is not None
        yield from multi()
        return
    yield from value


def _multipart(
    fields: list[tuple[str, str]], uploads: list[tuple[str, Any]], boundary: str
) -> bytes:
    parts: list[bytes] = []
    for name, value in fields:
        head = f'Content-Disposition: form-data; name="{_quoted(name)}"'
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() + value.encode() + b"\r\n")
    for name, upload in uploads:
        if not isinstance(upload, tuple):  # httpx's files= forms: a file or bytes alone
            upload = (getattr(upload, "name", name), upload)
        filename, file = str(upload[0] or "").rsplit("/", 1)[-1], upload[1]
        kind = upload[2] if len(upload) > 2 else "application/octet-stream"
        content = file if isinstance(file, str | bytes) else file.read()
        head = (
            f'Content-Disposition: form-data; name="{_quoted(name)}"; '
            f'filename="{_quoted(filename)}"\r\nContent-Type: {kind}'
        )
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() + as_bytes(content) + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _upload(value: Any) -> tuple[str, Any, str] | None:
    """httpx's ``(filename, file, content_type)`` for a file value of Flask's ``data``."""
    if isinstance(value, tuple) and value and hasattr(value[0], "read"):
        file = value[0]
        name = value[1] if len(value) > 1 else getattr(file, "name", "")
        kind = value[2] if len(value) > 2 else "application/octet-stream"
        return str(name or ""), file, kind
    if hasattr(value, "read"):
        name = getattr(value, "filename", None) or getattr(value, "name", "")
        kind = getattr(value, "content_type", None) or "application/octet-stream"
        file = getattr(value, "file", None) or value
        return str(name).rsplit("/", 1)[-1], file, str(kind)
    return None
