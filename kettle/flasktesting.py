"""Flask's test client: :class:`FlaskClient`, and the :class:`EnvironBuilder` it sends.

``app.test_client()`` returns a :class:`FlaskClient`: kettle's in-process
:class:`~kettle.testing.TestClient` with Flask's calling conventions. A request is
described as Flask describes it (``client.post("/login", data={...})``, ``json=``,
``query_string=``, ``content_type=``, ``base_url=``, ``environ_base=``...); its host, root
path and scheme come from the app's ``SERVER_NAME``, ``APPLICATION_ROOT`` and
``PREFERRED_URL_SCHEME``; redirects are not followed unless asked
(``follow_redirects=True``); and inside ``with client:`` the last request's context stays
pushed, so a test reads ``request``, ``session`` and ``g`` after the response.

``kettle.testing.TestClient(app)`` keeps the FastAPI (Starlette) conventions: it follows
redirects and takes httpx's arguments only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from kettle import __version__
from kettle.context import current, request_class
from kettle.environbuilder import EnvironBuilder, as_bytes
from kettle.testing import TestClient
from kettle.testresponse import TestResponse

__all__ = ["EnvironBuilder", "FlaskClient", "FlaskTestResponse"]


class FlaskTestResponse(TestResponse):
    """A test response whose ``json`` is also Flask's attribute: ``response.json["key"]``
    and ``response.json == {...}`` read the parsed body; ``response.json()`` still calls
    httpx's method."""

    __test__ = False

    @property
    def json(self) -> Any:
        return _JSONBody(self)


class _JSONBody:
    """The parsed body, usable as the value and callable as httpx's ``json()``."""

    __slots__ = ("_response",)

    def __init__(self, response: FlaskTestResponse) -> None:
        self._response = response

    def __call__(self, **kwargs: Any) -> Any:
        return httpx.Response.json(self._response, **kwargs)

    def _value(self) -> Any:
        return self._response.get_json(silent=True)

    def __eq__(self, other: object) -> bool:
        return bool(self._value() == other)

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, key: Any) -> Any:
        return self._value()[key]

    def __contains__(self, item: object) -> bool:
        return item in self._value()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._value())

    def __len__(self) -> int:
        return len(self._value())

    def __bool__(self) -> bool:
        return bool(self._value())

    def get(self, key: Any, default: Any = None) -> Any:
        return self._value().get(key, default)

    def __repr__(self) -> str:
        return repr(self._value())


# httpx's per-request arguments, taken too, so code written for httpx keeps working.
_HTTPX_ONLY = ("params", "content", "files", "cookies", "timeout", "extensions")


class FlaskClient(TestClient):
    """``app.test_client()``: Flask's test client over kettle's in-process client.

    Args:
        app: the app.
        response_wrapper: the class of the responses (a :class:`FlaskTestResponse`).
        use_cookies: keep cookies between requests (and allow ``session_transaction``).
        allow_subdomain_redirects: accepted for Flask's signature; redirects to any host
            the app serves are followed.
        **kwargs: :class:`~kettle.testing.TestClient` options (``raise_server_exceptions``,
            ``headers``, ``follow_redirects``...).

    Example:
        >>> from kettle import Kettle, redirect, request, session
        >>> app = Kettle(__name__)
        >>> app.secret_key = "test"
        >>> @app.route("/login", methods=["POST"])
        ... def login() -> object:
        ...     session["user"] = request.form["user"]
        ...     return redirect("/")
        >>> @app.route("/")
        ... def index() -> str:
        ...     return f"hello {session['user']}"
        >>> client = app.test_client()
        >>> client.post("/login", data={"user": "ada"}).headers["Location"]
        '/'
        >>> with client:
        ...     client.post("/login", data={"user": "ada"}, follow_redirects=True).data
        ...     request.path, session["user"]
        b'hello ada'
        ('/', 'ada')
    """

    __test__ = False

    response_class: type[TestResponse] = FlaskTestResponse

    def __init__(
        self,
        app: Any,
        response_wrapper: type[TestResponse] | None = None,
        use_cookies: bool = True,
        allow_subdomain_redirects: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("follow_redirects", False)
        #: where requests go when they name no host: the app's config unless given here
        self.default_base_url: str | None = kwargs.get("base_url")
        kwargs.setdefault("base_url", "http://localhost")
        kwargs.setdefault("client", ("127.0.0.1", 50000))
        super().__init__(app, **kwargs)
        if response_wrapper is not None:
            self.response_class = response_wrapper
        self.use_cookies = use_cookies
        self.allow_subdomain_redirects = allow_subdomain_redirects
        #: WSGI keys every request starts from (``REMOTE_ADDR``, ``HTTP_USER_AGENT``...)
        self.environ_base: dict[str, Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": f"kettle/{__version__}",
        }
        self.preserve_context = False
        self._preserved: list[Any] = []  # the context token of the last request, if kept

    # -- cookies (Flask 2.3's test client API) -------------------------------------------

    def set_cookie(
        self, key: str, value: str = "", *, domain: str = "localhost", path: str = "/", **_: Any
    ) -> None:
        """Send cookie ``key`` with the following requests (``domain`` and ``path`` as
        in Flask's test client; other cookie attributes are accepted and not needed)."""
        # The jar files a dotless host ("localhost") as "localhost.local" (RFC 2965).
        self.cookies.set(
            key, value, domain=domain if "." in domain else f"{domain}.local", path=path
        )

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Any:
        """The cookie ``key`` the client holds (``.value`` is its value), or None."""
        for cookie in self.cookies.jar:
            if cookie.name == key and cookie.path == path and _same_domain(cookie.domain, domain):
                return cookie
        return None

    def delete_cookie(self, key: str, *, domain: str = "localhost", path: str = "/") -> None:
        """Stop sending cookie ``key``."""
        for cookie in list(self.cookies.jar):
            if cookie.name == key and cookie.path == path and _same_domain(cookie.domain, domain):
                self.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)

    # -- sending ---------------------------------------------------------------------------

    def open(
        self,
        *args: Any,
        buffered: bool = False,
        follow_redirects: bool | None = None,
        **kwargs: Any,
    ) -> TestResponse:
        """Send a request described as Flask does: an :class:`EnvironBuilder`, a WSGI
        environ, or :class:`EnvironBuilder`'s arguments (``client.open("/", method="PUT")``).
        ``buffered`` is accepted: responses are always read whole."""
        extra = {k: kwargs.pop(k) for k in _HTTPX_ONLY if k in kwargs}
        if "params" in extra and "query_string" not in kwargs:
            kwargs["query_string"] = extra.pop("params")
        if "content" in extra and "data" not in kwargs:
            kwargs["data"] = extra.pop("content")
        if "files" in extra:
            kwargs["files"] = extra.pop("files")
        if args and isinstance(args[0], EnvironBuilder):
            environ = args[0].get_environ()
        elif args and isinstance(args[0], Mapping):
            environ = dict(args[0])
        else:
            base = self.default_base_url
            whole = bool(args) and "://" in str(args[0])
            named = "base_url" in kwargs or "subdomain" in kwargs
            if base is not None and not whole and len(args) < 2 and not named:
                kwargs["base_url"] = base
            builder = EnvironBuilder(self.app, *args, **kwargs)
            try:
                environ = builder.get_environ()
            finally:
                builder.close()
        environ = {**self.environ_base, **environ}
        request = self._request_from_environ(environ, extra)
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        try:
            response = self.send(request, follow_redirects=follow)
        finally:
            if not self.use_cookies:
                self.cookies.clear()
        response.read()
        assert isinstance(response, TestResponse)
        return response

    def _request_from_environ(self, environ: Mapping[str, Any], extra: dict[str, Any]) -> Any:
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        host = environ.get("HTTP_HOST")
        if not host:
            host = environ.get("SERVER_NAME", "localhost")
            port = str(environ.get("SERVER_PORT", ""))
            if port and port != ("443" if scheme == "https" else "80"):
                host = f"{host}:{port}"
        script = str(environ.get("SCRIPT_NAME", ""))
        # WSGI strings are the path's bytes as latin-1: quoted back as those bytes (a
        # hand-made environ may hold the text itself: then its UTF-8 bytes).
        raw = script + str(environ.get("PATH_INFO", "/"))
        try:
            path_bytes = raw.encode("latin-1")
        except UnicodeEncodeError:
            path_bytes = raw.encode("utf-8")
        path = quote(path_bytes, "/@:!$&'()*+,;=~")
        query = str(environ.get("QUERY_STRING", ""))
        url = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
        headers: list[tuple[str, str]] = []
        for key, value in environ.items():
            if key.startswith("HTTP_") and key != "HTTP_HOST":
                headers.append((key[5:].replace("_", "-").lower(), str(value)))
            elif key == "CONTENT_TYPE" and value:
                headers.append(("content-type", str(value)))
        stream = environ.get("wsgi.input")
        body = as_bytes(stream.read()) if stream is not None else b""
        remote = environ.get("REMOTE_ADDR")
        extensions: dict[str, Any] = {"kettle.root_path": script}
        if remote:
            port_text = str(environ.get("REMOTE_PORT") or self.client_address[1])
            extensions["kettle.client"] = (str(remote), int(port_text))
        extensions.update(extra.pop("extensions", None) or {})
        return self.build_request(
            str(environ.get("REQUEST_METHOD", "GET")),
            url,
            headers=headers,
            content=body,
            extensions=extensions,
            **extra,
        )

    def get(self, *args: Any, **kwargs: Any) -> TestResponse:
        """``client.get("/path", query_string=..., headers=...)``: see :meth:`open`."""
        return self.open(*args, method="GET", **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> TestResponse:
        """``client.post("/path", data=..., json=..., content_type=...)``."""
        return self.open(*args, method="POST", **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> TestResponse:
        return self.open(*args, method="PUT", **kwargs)

    def patch(self, *args: Any, **kwargs: Any) -> TestResponse:
        return self.open(*args, method="PATCH", **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> TestResponse:
        return self.open(*args, method="DELETE", **kwargs)

    def head(self, *args: Any, **kwargs: Any) -> TestResponse:
        return self.open(*args, method="HEAD", **kwargs)

    def options(self, *args: Any, **kwargs: Any) -> TestResponse:
        return self.open(*args, method="OPTIONS", **kwargs)

    def trace(self, *args: Any, **kwargs: Any) -> TestResponse:
        return self.open(*args, method="TRACE", **kwargs)

    # -- the last request's context ----------------------------------------------------------

    async def settle_context(self, context: Any) -> None:
        # Read the body on the app's loop while the exchange can still deliver it: after
        # the response, `request.form` and `request.get_json()` parse the cached bytes.
        if getattr(context, "scope", None) is None:
            return
        with contextlib.suppress(Exception):
            await context.request.body()

    def exchanged(self, context: Any) -> None:
        self._pop_preserved()
        if getattr(context, "scope", None) is not None:
            self._preserved.append(current.set(context))

    def _pop_preserved(self) -> None:
        while self._preserved:
            current.reset(self._preserved.pop())

    def __enter__(self) -> FlaskClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        super().__enter__()
        self.preserve_context = True
        self.context_probe = current.get  # only now: a request outside costs nothing more
        return self

    def __exit__(self, *exc_info: Any) -> None:
        # Unlike kettle's TestClient, the client stays usable: Flask tests reuse it.
        self.preserve_context = False
        self.context_probe = None
        try:
            self._pop_preserved()
        finally:
            self._stop_lifespan()

    # -- the session -------------------------------------------------------------------------

    @contextlib.contextmanager
    def session_transaction(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Read and change the client's session between requests, as in Flask; the
        arguments describe the request it is opened for (:class:`EnvironBuilder`'s).

        Example:
            >>> from kettle import Kettle, session
            >>> app = Kettle(__name__)
            >>> app.secret_key = "test"
            >>> @app.route("/")
            ... def whoami() -> str:
            ...     return str(session.get("user", "nobody"))
            >>> client = app.test_client()
            >>> with client.session_transaction() as sess:
            ...     sess["user"] = "ada"
            >>> client.get("/").data
            b'ada'
        """
        if not self.use_cookies:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        from kettle.aswsgi import build_scope
        from kettle.responses import Response

        app: Any = self.app
        builder = EnvironBuilder(app, *args, **kwargs)
        environ = {**self.environ_base, **builder.get_environ()}
        outgoing = self._request_from_environ(environ, {})
        self.cookies.set_cookie_header(outgoing)
        scope = build_scope(environ)
        cookie = outgoing.headers.get("cookie")
        scope["headers"] = [(b"cookie", cookie.encode("latin-1"))] if cookie else []
        scope["app"] = app
        request = request_class(app)(scope)
        interface = app.session_interface
        session = interface.open_session(app, request)
        if session is None or interface.is_null_session(session):
            raise RuntimeError(
                "Session backend did not open a session: set app.secret_key (or the "
                "SECRET_KEY setting) first."
            )
        yield session
        response = Response()
        interface.save_session(app, session, response)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
        self.cookies.extract_cookies(httpx.Response(200, headers=headers, request=outgoing))


def _same_domain(stored: str, wanted: str) -> bool:
    # The cookie jar keeps "localhost" as "localhost.local" (RFC 2965's rule for
    # dotless hosts), and a domain cookie with a leading dot.
    bare = stored.lstrip(".")
    return bare == wanted or bare == f"{wanted}.local"
