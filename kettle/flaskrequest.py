"""Flask's synchronous request API: :class:`FlaskRequest`, the core ``Request`` and more.

``request.form["name"]``, ``request.args``, ``request.get_json()``, ``request.files`` and
``request.data`` read the body synchronously, as Flask code expects, through the core
request's one body reader. A plain ``def`` handler runs in a worker thread, so reading the
body there hops to the event loop and waits (once: the result is cached). An ``async def``
handler must not block the loop: when it takes no body, form or ``Request`` parameter (a
Flask view), kettle reads the body before calling it (:func:`read_ahead`, as a WSGI
server hands Flask a body already there), so the sync accessors find it; a handler that
takes the ``Request`` awaits instead (``await request.form()``, ``await request.json()``)
and may stream the body, and the sync accessors work there only after that (and say so).

``request.form`` and ``request.json`` serve both styles: called (``await
request.form()``) they are the async API; indexed or iterated they are Flask's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from kettle.datastructures import MultiDict, QueryParams

# BadRequestKeyError is defined with every other exception; still importable from here.
from kettle.exceptions import BadRequestKeyError as BadRequestKeyError
from kettle.exceptions import HTTPException
from kettle.http import Accept, Authorization, MIMEAccept
from kettle.mediatypes import is_json
from kettle.requests import Request, decode_json

if TYPE_CHECKING:
    from kettle.forms import FormData

__all__ = [
    "BadRequestKeyError",
    "FilesAccessor",
    "FlaskRequest",
    "FormAccessor",
    "JSONAccessor",
    "UrlRule",
    "UserAgent",
]


def run_sync(request: Request, make: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``make()`` on the event loop from a worker thread and wait for it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        from kettle.concurrency import thread_state

        loop = getattr(thread_state, "loop", None)
        if loop is not None:  # a thread leased by a request (see ThreadPool.acquire_lease)
            return asyncio.run_coroutine_threadsafe(make(), loop).result()  # type: ignore[arg-type]
        import anyio
        import anyio.from_thread

        try:
            return anyio.from_thread.run(make)  # type: ignore[arg-type]
        except anyio.NoEventLoopError:
            # A thread with no event loop of its own (a test reading `request.form` after
            # the test client's request, or in `app.test_request_context()`): the body is
            # at hand, so parsing it on a short-lived loop blocks nothing else.
            return anyio.run(make)
    raise RuntimeError(
        "The request body is not read yet, and an async handler cannot wait for it "
        "synchronously: use `await request.form()`, `await request.json()` or "
        "`await request.body()` first (or make the handler a plain def)."
    )


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_ahead(request: Request) -> None:
    """Read the body (parsed, if it is a form) before an ``async def`` Flask view runs, so
    ``request.form``, ``request.get_json()`` and ``request.data`` find it there: the view
    cannot wait for it synchronously on the event loop. The limits apply as to any body
    (413 past the size limit, 408 when it stops arriving, 400 for a malformed form).
    """
    if request.content_type[0] in _FORMS:
        await request.parse_form()
    else:
        await request.body()


class UrlRule(NamedTuple):
    """What ``request.url_rule`` tells of the route serving a request (Werkzeug's
    ``Rule`` attributes a view reads)."""

    rule: str
    endpoint: str
    methods: frozenset[str]
    arguments: frozenset[str]


class _View:
    """Read-only container access forwarded to the data ``_data()`` returns."""

    __slots__ = ()

    def _data(self) -> Any:
        raise NotImplementedError

    def __contains__(self, key: object) -> bool:
        return key in self._data()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def keys(self) -> Any:
        return self._data().keys()

    def values(self) -> Any:
        return self._data().values()

    def items(self) -> Any:
        return self._data().items()

    def __eq__(self, other: object) -> bool:
        return bool(self._data() == other)

    __hash__ = None  # type: ignore[assignment]

    def __json__(self) -> Any:
        """What the JSON encoders write for it: the data (``jsonify(data=request.json)``)."""
        return self._data()


class _Lookup(_View):
    """Mapping-style access that turns a missing key into a 400 (Flask's behaviour)."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        try:
            return self._data()[key]
        except KeyError:
            raise BadRequestKeyError(key) from None

    def get(self, key: str, default: Any = None, type: Callable[[Any], Any] | None = None) -> Any:
        """``request.form.get("age", type=int)``: a conversion failure gives the default."""
        value = self._data().get(key, default)
        if type is not None and value is not default:
            try:
                return type(value)
            except (TypeError, ValueError):
                return default
        return value

    def getlist(self, key: str, type: Callable[[Any], Any] | None = None) -> list[Any]:
        """Every value of ``key``; with ``type``, those it converts (Werkzeug's rule)."""
        return list(self._data().getlist(key, type=type))

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        data = self._data()
        if flat:
            return {k: data[k] for k in data}
        return {k: data.getlist(k) for k in data}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data()!r})"


class FormAccessor(_Lookup):
    """``await request.form()`` (async) or ``request.form["field"]`` (Flask, text fields)."""

    __slots__ = ("_request",)

    def __init__(self, request: Request) -> None:
        self._request = request

    def __call__(self) -> Awaitable[FormData]:
        return self._request.parse_form()

    def _form(self) -> FormData:
        request = self._request
        if request.parsed_form is None:
            media = request.content_type[0]
            if media not in _FORMS:
                # Flask's request.form is simply empty when no form was sent (a GET, say);
                # ``await request.form()`` stays strict and answers 415.
                from kettle.forms import FormData

                return FormData()
            run_sync(request, request.parse_form)
        assert request.parsed_form is not None
        return request.parsed_form

    def _data(self) -> Any:
        from kettle.forms import UploadFile

        # Flask keeps files out of request.form: they are in request.files.
        return MultiDict(
            (k, v) for k, v in self._form().multi_items() if not isinstance(v, UploadFile)
        )


class DebugFilesKeyError(KeyError, AssertionError):
    """Debug mode only: ``request.files[name]`` found a text field of that name instead
    of a file, because the form was not sent as ``multipart/form-data``.

    Raised (not answered with a 400) so the developer sees how to fix the form.
    """

    def __init__(self, key: str, submitted: Any, media_type: str) -> None:
        self.key = key
        self.message = (
            f"request.files has no key {key!r}: the form was sent as {media_type!r}, so no "
            'file contents were transmitted. Add enctype="multipart/form-data" to the '
            f"form. This was submitted: {submitted!r}"
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class FilesAccessor(FormAccessor):
    """``request.files["upload"]``: the uploaded files of a multipart form."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        try:
            return super().__getitem__(key)
        except BadRequestKeyError:
            request = self._request
            media = request.content_type[0]
            debug = getattr(request.scope.get("app"), "debug", False)
            if debug and media != "multipart/form-data" and key in self._form():
                raise DebugFilesKeyError(key, self._form()[key], media) from None
            raise

    def _data(self) -> Any:
        from kettle.filestorage import FileStorage
        from kettle.forms import UploadFile

        # Werkzeug's synchronous file API (read(), save()...) over each upload's spool.
        return MultiDict(
            (k, FileStorage.from_upload(v, k))
            for k, v in self._form().multi_items()
            if isinstance(v, UploadFile)
        )


class JSONAccessor(_View):
    """``await request.json()`` (async) or ``request.json["key"]`` (Flask)."""

    __slots__ = ("_request",)

    def __init__(self, request: FlaskRequest) -> None:
        self._request = request

    def __call__(self, *, force: bool = False) -> Awaitable[Any]:
        return self._request.parse_json(force=force)

    def _data(self) -> Any:
        return self._request.get_json()

    def __getitem__(self, key: Any) -> Any:
        return self._data()[key]

    def get(self, key: Any, default: Any = None) -> Any:
        return self._data().get(key, default)

    def __bool__(self) -> bool:
        return bool(self._data())

    def __repr__(self) -> str:
        return repr(self._data())


class FlaskRequest(Request):
    """The request handlers receive: the core :class:`~kettle.Request` with Flask's names.

    Adds no state and no work per request: only properties and methods reading what the
    core request parses (and caches) anyway.

    Example:
        >>> from kettle import Kettle, request
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.route("/greet", methods=["POST"])
        ... def greet() -> str:
        ...     return f"{request.args['greeting']}, {request.form['name']}"
        >>> TestClient(app).post("/greet?greeting=Hello", data={"name": "ada"}).text
        'Hello, ada'
    """

    @property
    def accept_mimetypes(self) -> MIMEAccept:
        """The ``Accept`` header: ``accept_json``, ``best_match([...])``, qualities."""
        return MIMEAccept.from_header(self.headers.get("accept"))

    @property
    def accept_languages(self) -> Accept:
        return Accept.from_header(self.headers.get("accept-language"))

    @property
    def accept_encodings(self) -> Accept:
        return Accept.from_header(self.headers.get("accept-encoding"))

    @property
    def accept_charsets(self) -> Accept:
        return Accept.from_header(self.headers.get("accept-charset"))

    @property
    def authorization(self) -> Authorization | None:
        """The ``Authorization`` header parsed (:class:`kettle.http.Authorization`: Basic
        ``username``/``password``, a Bearer ``token``), ``None`` when missing or malformed."""
        return Authorization.from_header(self.headers.get("authorization"))

    @property
    def environ(self) -> dict[str, Any]:
        """A WSGI environ (PEP 3333) of the request, for code written against Werkzeug's:
        built on first use and kept, so what code stores in it stays; its
        ``werkzeug.request`` is the request itself. The body in ``wsgi.input`` is the one
        read so far (nothing before the body is read)."""
        environ: dict[str, Any] | None = self.scope.get("kettle.environ")
        if environ is None:
            from kettle.wsgienviron import build_environ

            environ = build_environ(self.scope, self._received_body or b"")
            environ["werkzeug.request"] = self
            self.scope["kettle.environ"] = environ
        return environ

    @property
    def args(self) -> QueryParams:
        """The query string (Flask's name for ``query_params``)."""
        return self.query_params

    # Flask's ``form`` and ``json`` are accessors; called, they are still the core's async
    # methods (``await request.form()``), so the override keeps the core's contract.
    @property
    def form(self) -> FormAccessor:  # type: ignore[override]
        """``await request.form()`` for every field and file, or ``request.form["x"]``."""
        return FormAccessor(self)

    @property
    def files(self) -> FilesAccessor:
        """Uploaded files, by field name (Flask)."""
        return FilesAccessor(self)

    @property
    def values(self) -> MultiDict[Any]:
        """Query and form text fields together (Flask)."""
        items = list(self.query_params.multi_items())
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            media = self.content_type[0]
            if media in _FORMS:
                items.extend(self.form.items())
        return MultiDict(items)

    @property
    def json(self) -> Any:
        """``await request.json()`` or Flask's ``request.json["key"]``: on the event loop an
        accessor serving both; in a plain ``def`` view (a worker thread) the parsed body
        itself, as in Flask, so a view may return it or keep it past the request."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.get_json()
        return JSONAccessor(self)

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The raw body (read synchronously, see the module notes)."""
        body = self._sync_body()
        return body.decode("utf-8", "replace") if as_text else body

    def _sync_body(self) -> bytes:
        body = self._received_body
        if body is None:
            if self._stream_consumed and self.parsed_form is not None:
                # The form parser read the body as a stream, as Werkzeug's does: what is
                # left of it is nothing (Flask's get_data() after request.form is b"").
                return b""
            body = run_sync(self, self.body)
        return body

    @property
    def data(self) -> bytes:
        """The raw body as bytes (Flask)."""
        return self.get_data()  # type: ignore[return-value]

    @property
    def is_json(self) -> bool:
        """True when the request declares a JSON body."""
        return is_json(self.content_type[0])

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The body parsed as JSON, synchronously (Flask).

        A non-JSON content type is a 415 and malformed JSON a 400, unless ``force``
        (ignore the type) or ``silent`` (return None instead).
        """
        if self._has_json:
            return self._json
        if not force and not self.is_json:
            if silent:
                return None
            self._expect_json(force)
        raw = self._sync_body()
        try:
            value = self._loads(raw)
        except HTTPException:
            if silent:
                return None
            raise
        if cache:
            self._json = value
            self._has_json = True
        return value

    def _loads(self, raw: bytes) -> Any:
        # app.json decides (a provider subclass may have its own loads); orjson otherwise
        app = self.scope.get("app")
        loads_request = getattr(getattr(app, "json", None), "loads_request", None)
        try:
            return decode_json(raw) if loads_request is None else loads_request(raw)
        except HTTPException as exc:
            if not getattr(app, "debug", False):
                raise
            # Flask's wording in debug mode, where the decoder's reason helps most
            raise HTTPException(400, f"Failed to decode JSON object: {exc.detail}") from None

    @property
    def mimetype(self) -> str:
        """The media type without parameters, lower-cased."""
        return self.content_type[0]

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value and value.isdigit() else None

    @property
    def endpoint(self) -> str | None:
        """The name of the route serving this request."""
        route = self.scope.get("route")
        return route.name if route is not None else None

    @property
    def blueprint(self) -> str | None:
        """The (dotted) name of the blueprint of the route serving this request."""
        route = self.scope.get("route")
        return (route.blueprint or None) if route is not None else None

    @property
    def view_args(self) -> dict[str, Any]:
        """The path values (Flask's name for ``path_params``)."""
        return self.path_params

    @property
    def remote_addr(self) -> str | None:
        client = self.client
        return client.host if client else None

    @property
    def scheme(self) -> str:
        return str(self.scope.get("scheme", "http"))

    @property
    def host_url(self) -> str:
        return str(self.base_url)

    url_root = host_url

    @property
    def full_path(self) -> str:
        query = self.scope.get("query_string", b"").decode("latin-1")
        return f"{self.path}?{query}"

    @property
    def query_string(self) -> bytes:
        """The raw query string, undecoded (Werkzeug's)."""
        return bytes(self.scope.get("query_string", b""))

    @property
    def referrer(self) -> str | None:
        """The ``Referer`` header (Werkzeug's spelling of the attribute)."""
        value: str | None = self.headers.get("referer")
        return value

    @property
    def origin(self) -> str | None:
        """The ``Origin`` header."""
        value: str | None = self.headers.get("origin")
        return value

    @property
    def script_root(self) -> str:
        """Where the app is mounted (the root path), without a trailing slash."""
        return self.root_path.rstrip("/")

    @property
    def access_route(self) -> list[str]:
        """The client's address, as a list (Werkzeug's). kettle takes forwarded addresses
        only from trusted proxies, which set the client itself (``ProxyHeadersMiddleware``,
        ``ProxyFix``): an ``X-Forwarded-For`` the client wrote is never read here."""
        address = self.remote_addr
        return [address] if address else []

    @property
    def url_rule(self) -> UrlRule | None:
        """The rule of the route serving this request (Flask's ``request.url_rule``):
        ``.rule`` its path, ``.endpoint`` its name, ``.methods``, ``.arguments``."""
        route = self.scope.get("route")
        if route is None:
            return None
        from kettle.routing.converters import DEFAULT_CONVERTERS
        from kettle.routing.patterns import parse_pattern

        # the names the route's path declares, as the router parsed them at compile
        pattern = parse_pattern(route.path, getattr(self.app, "converters", DEFAULT_CONVERTERS))
        return UrlRule(route.path, route.name, frozenset(route.methods), frozenset(pattern.params))

    @property
    def user_agent(self) -> UserAgent:
        """The ``User-Agent`` header (a ``str``; ``.string`` is Werkzeug's name for it)."""
        return UserAgent(self.headers.get("user-agent", ""))

    # Werkzeug's per-request limits, read from (and written to) the request's limits:
    # setting one in a view or a before_request hook changes what this request accepts.

    @property
    def max_content_length(self) -> int | None:
        """Bytes of body this request reads (Flask's ``MAX_CONTENT_LENGTH``, else the
        app's ``Limits.max_body_size``); assign to change it for this request."""
        override = self.__dict__.get("_max_content_length")
        if override is not None:
            return int(override)
        from kettle.context import current

        ctx = current.get()
        config = getattr(getattr(ctx, "app", None), "config", None) or {}
        configured = config.get("MAX_CONTENT_LENGTH")
        return int(configured) if configured is not None else self.limits.max_body_size

    @max_content_length.setter
    def max_content_length(self, value: int) -> None:
        self.__dict__["_max_content_length"] = value
        self.limits = self.limits.replace(max_body_size=int(value))

    @property
    def max_form_memory_size(self) -> int:
        """Bytes of one non-file form field (``Limits.max_part_size``); assignable."""
        return self.limits.max_part_size

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int) -> None:
        self.limits = self.limits.replace(max_part_size=int(value))

    @property
    def max_form_parts(self) -> int:
        """Form fields one request may send (``Limits.max_form_fields``); assignable."""
        return self.limits.max_form_fields

    @max_form_parts.setter
    def max_form_parts(self, value: int) -> None:
        self.limits = self.limits.replace(max_form_fields=int(value))


class UserAgent(str):
    """The ``User-Agent`` header: the string itself, and Werkzeug's ``.string``.

    Example:
        >>> UserAgent("curl/8.5").string
        'curl/8.5'
    """

    __slots__ = ()

    @property
    def string(self) -> str:
        return str.__str__(self)
