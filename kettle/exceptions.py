"""Every exception kettle raises, in one tree.

Mistakes in how an app is *declared* are found at startup; problems with a *request*
become an HTTP response; the rest report what happened on a connection::

    Exception
    ├── FastAPIError                      a mistake in how the app is written (a
    │   │                                 RuntimeError; FastAPI's name, caught by its users)
    │   └── ConfigurationError            a declaration kettle cannot serve: raised while
    │                                     compiling, never an HTTP 500
    ├── FastAPIDeprecationWarning         a UserWarning: an API kept for FastAPI code
    │                                     (shown by default, unlike DeprecationWarning)
    ├── HTTPException                     a request error, answered with its status code
    │   ├── RequestValidationError        422: input did not match the declared types
    │   │   └── WebSocketRequestValidationError  the same, on a WebSocket: closed with 1008
    │   ├── RequestRedirect               308 to ``new_url``: the URL lives elsewhere
    │   │   the named HTTP errors (abort(code) raises them; a handler registered for
    │   │   the class or for the code answers both):
    │   ├── BadRequest                    400
    │   │   └── BadRequestKeyError        400, and a KeyError: request.form["missing"]
    │   ├── Unauthorized                  401
    │   ├── Forbidden                     403
    │   ├── NotFound                      404
    │   ├── MethodNotAllowed              405
    │   ├── NotAcceptable                 406
    │   ├── RequestTimeout                408
    │   ├── Conflict                      409
    │   ├── Gone                          410
    │   ├── LengthRequired                411
    │   ├── PreconditionFailed            412
    │   ├── RequestEntityTooLarge         413
    │   ├── RequestURITooLarge            414
    │   ├── UnsupportedMediaType          415
    │   ├── RequestedRangeNotSatisfiable  416
    │   ├── ExpectationFailed             417
    │   ├── ImATeapot                     418
    │   ├── UnprocessableEntity           422
    │   ├── Locked                        423
    │   ├── FailedDependency              424
    │   ├── PreconditionRequired          428
    │   ├── TooManyRequests               429
    │   ├── RequestHeaderFieldsTooLarge   431
    │   ├── UnavailableForLegalReasons    451
    │   ├── InternalServerError           500
    │   ├── NotImplemented                501 (import it by name: it shadows the builtin)
    │   ├── BadGateway                    502
    │   ├── ServiceUnavailable            503
    │   ├── GatewayTimeout                504
    │   └── HTTPVersionNotSupported       505
    ├── ResponseValidationError           a return value broke its response model: a 500
    ├── ClientDisconnect                  the client left before its body was read
    ├── WebSocketDisconnect               the peer closed the socket (or it was lost)
    └── WebSocketClose                    kettle closes a socket: a message broke a limit
        └── WebSocketException            the app closes a socket with its own code
    ValueError
    └── PatternError                      a route template cannot be parsed (reported as
                                          a ConfigurationError naming the route)
    LookupError
    └── NoMatchFound                      url_for/url_path_for: no such route, or values
                                          missing (lives in kettle.routing.urls)
    click.ClickException
    └── AppLoadError                      the command line cannot load the app (lives in
                                          kettle.loading, also kettle.cli's: this module
                                          never imports click)

Every class here can also be imported from where it was first defined
(``kettle.requests.ClientDisconnect``, ``kettle.websockets.WebSocketClose``...): those
names are this module's objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, ClassVar, NoReturn

from kettle.connectionerrors import (
    ClientDisconnect,
    WebSocketClose,
    WebSocketDisconnect,
    WebSocketException,
)

__all__ = [
    "NAMED_ERRORS",
    "BadGateway",
    "BadRequest",
    "BadRequestKeyError",
    "ClientDisconnect",
    "ConfigurationError",
    "Conflict",
    "ExpectationFailed",
    "FailedDependency",
    "FastAPIDeprecationWarning",
    "FastAPIError",
    "Forbidden",
    "GatewayTimeout",
    "Gone",
    "HTTPException",
    "HTTPVersionNotSupported",
    "ImATeapot",
    "InternalServerError",
    "LengthRequired",
    "Locked",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    # "NotImplemented" is left out on purpose: `import *` would shadow the builtin.
    "PatternError",
    "PreconditionFailed",
    "PreconditionRequired",
    "RequestEntityTooLarge",
    "RequestHeaderFieldsTooLarge",
    "RequestRedirect",
    "RequestTimeout",
    "RequestURITooLarge",
    "RequestValidationError",
    "RequestedRangeNotSatisfiable",
    "ResponseValidationError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnavailableForLegalReasons",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "WebSocketClose",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketRequestValidationError",
    "abort",
]


class FastAPIError(RuntimeError):
    """A mistake in how the app is written, under the name FastAPI code catches.

    Every :class:`ConfigurationError` is one, so ``except FastAPIError`` in code moved
    from FastAPI catches kettle's startup errors.

    Example:
        >>> from kettle.exceptions import ConfigurationError, FastAPIError
        >>> issubclass(ConfigurationError, FastAPIError)
        True
    """


class ConfigurationError(FastAPIError):
    """A route, handler or setting was declared in a way kettle cannot serve.

    Raised while the app compiles (at startup or on the first request), naming the
    handler and where it was defined, so the mistake is fixed before any request fails.
    """


class FastAPIDeprecationWarning(UserWarning):
    """Warns of an API kept only for code moved from FastAPI (``on_event``, ...).

    A ``UserWarning`` rather than a ``DeprecationWarning``, as in FastAPI, so that it is
    shown by default.

    Example:
        >>> import warnings
        >>> from kettle.exceptions import FastAPIDeprecationWarning
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warnings.warn("use lifespan", FastAPIDeprecationWarning, stacklevel=1)
        >>> caught[0].category is FastAPIDeprecationWarning
        True
    """


class PatternError(ValueError):
    """A route template could not be parsed (wrapped into ConfigurationError by the caller)."""


# -- request errors ---------------------------------------------------------------------------


class HTTPException(Exception):
    """Stop handling the request and answer with ``status_code``.

    ``detail`` becomes the body (``{"detail": ...}``); it defaults to the status phrase.
    As in Werkzeug, ``code`` is another name for ``status_code``, and ``description`` is
    the text given as ``detail`` (else the named error's own sentence, else ``None``).

    Example:
        >>> from kettle import HTTPException
        >>> def read_item(item_id: int) -> dict[str, int]:
        ...     if item_id != 1:
        ...         raise HTTPException(404, "Item not found", headers={"X-Error": "missing"})
        ...     return {"id": item_id}
        >>> HTTPException(418)
        HTTPException(status_code=418, detail="I'm a Teapot")
    """

    #: A sentence for people about this kind of error (set by the named errors, or by a
    #: ``detail`` given as text).
    description: str | None = None
    #: a response sent as it is instead of the error's own (Werkzeug's ``abort(response)``)
    response: Any = None
    #: raised by ``abort(response)`` (a response in place of a code): the response is the
    #: answer, no error handler sees it (Werkzeug's code-less ``HTTPException``)
    answers_as_is: bool = False

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            detail = _phrase(status_code)
        elif isinstance(detail, str):
            self.description = detail
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None
        super().__init__(status_code, detail)

    @property
    def code(self) -> int:
        """The status code (Werkzeug's name for ``status_code``)."""
        return self.status_code

    @property
    def name(self) -> str:
        """The status's name: ``"Not Found"`` (Werkzeug's)."""
        return _phrase(self.status_code)

    def get_response(self, *args: Any) -> Any:
        """The response kettle answers this error with, to change before sending it
        (Werkzeug's): the ``response`` given to ``abort``, else ``{"detail": ...}``."""
        if self.response is not None:
            return self.response
        return error_response(self)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the attributes rather than by calling the constructor again: the
        # subclasses' constructors take other arguments than ``args`` holds.
        return (_rebuild, (type(self), self.args), self.__dict__)


def _rebuild(cls: type[BaseException], args: tuple[Any, ...]) -> BaseException:
    return cls.__new__(cls, *args)


def error_response(error: HTTPException) -> Any:  # replaced by kettle.responses
    """The default answer to ``error``; :mod:`kettle.responses`, which this module may not
    import, puts its own here when it loads."""
    raise RuntimeError("kettle.responses is not loaded")  # pragma: no cover


class RequestValidationError(HTTPException):
    """The request's input did not match what the handler declared (HTTP 422).

    ``errors`` is a list of dicts shaped like pydantic's: ``type``, ``loc``, ``msg``,
    ``input`` and optionally ``ctx``; ``loc`` starts with where the value came from
    (``path``, ``query``, ``header``, ``cookie`` or ``body``). ``body`` is the request body
    whose validation failed (FastAPI's keyword): kettle's body reader passes it, parsed
    when it is JSON, so a custom handler can show it; it is ``None`` for errors elsewhere
    in the request, and the default 422 answer never includes it.

    Example:
        >>> from kettle.exceptions import RequestValidationError
        >>> exc = RequestValidationError([{"type": "missing", "loc": ["body", "name"]}],
        ...                              body={"price": 1})
        >>> exc.status_code, exc.errors()[0]["loc"], exc.body
        (422, ['body', 'name'], {'price': 1})
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]], *, body: Any = None) -> None:
        self._errors = [dict(e) for e in errors]
        self.body = body
        super().__init__(422, self._errors)

    def errors(self) -> list[dict[str, Any]]:
        """The validation errors, one dict per problem."""
        return self._errors


class WebSocketRequestValidationError(RequestValidationError):
    """A WebSocket's input did not match what its handler declared.

    A socket has no 422: it is closed with code 1008 (policy violation), whose reason is
    the first error's message. A handler registered for :class:`RequestValidationError`
    also receives it.

    Example:
        >>> from kettle.exceptions import WebSocketRequestValidationError
        >>> exc = WebSocketRequestValidationError([{"type": "missing", "loc": ["query", "token"],
        ...                                         "msg": "Field required", "input": None}])
        >>> exc.errors()[0]["loc"]
        ['query', 'token']
    """


class _NamedHTTPException(HTTPException):
    """What the named errors share: their status code is the class's own ``code``."""

    code: ClassVar[int]
    description: str

    def __init__(self, detail: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(self.code, detail, headers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(detail={self.detail!r})"


# The named HTTP errors, one per status code that Werkzeug names (so that kettle.flask can
# offer werkzeug.exceptions' names as these very classes). Each is constructible with no
# argument (`NotFound()`, detail: the status phrase) or with a detail and headers.


class BadRequest(_NamedHTTPException):
    code = 400
    description = "The request is malformed or lacks something the server needs."


class Unauthorized(_NamedHTTPException):
    code = 401
    description = "The request needs valid credentials (log in, or send Authorization)."


class Forbidden(_NamedHTTPException):
    code = 403
    description = "The credentials are understood but do not allow this."


class NotFound(_NamedHTTPException):
    code = 404
    description = "Nothing exists at this URL."


class MethodNotAllowed(_NamedHTTPException):
    code = 405
    description = "The URL exists but does not accept this method."


class NotAcceptable(_NamedHTTPException):
    code = 406
    description = "No representation the client accepts (Accept headers) is available."


class RequestTimeout(_NamedHTTPException):
    code = 408
    description = "The client took too long to send its request."


class Conflict(_NamedHTTPException):
    code = 409
    description = "The request conflicts with the current state of the resource."


class Gone(_NamedHTTPException):
    code = 410
    description = "The resource was here and has been removed for good."


class LengthRequired(_NamedHTTPException):
    code = 411
    description = "The request must declare the size of its body (Content-Length)."


class PreconditionFailed(_NamedHTTPException):
    code = 412
    description = "A condition in the request's headers (If-Match...) does not hold."


class RequestEntityTooLarge(_NamedHTTPException):
    code = 413
    description = "The request body is larger than the server accepts."


class RequestURITooLarge(_NamedHTTPException):
    code = 414
    description = "The URL is longer than the server accepts."


class UnsupportedMediaType(_NamedHTTPException):
    code = 415
    description = "The body's media type (Content-Type) is not one this URL accepts."


class RequestedRangeNotSatisfiable(_NamedHTTPException):
    code = 416
    description = "The requested range lies outside the resource."


class ExpectationFailed(_NamedHTTPException):
    code = 417
    description = "The server cannot meet the request's Expect header."


class ImATeapot(_NamedHTTPException):
    code = 418
    description = "The server is a teapot: it refuses to brew coffee (RFC 2324)."


class UnprocessableEntity(_NamedHTTPException):
    code = 422
    description = "The request is well-formed but what it says cannot be processed."


class Locked(_NamedHTTPException):
    code = 423
    description = "The resource is locked."


class FailedDependency(_NamedHTTPException):
    code = 424
    description = "The request depended on another one, which failed."


class PreconditionRequired(_NamedHTTPException):
    code = 428
    description = "The request must be conditional (If-Match...) so no update is lost."


class TooManyRequests(_NamedHTTPException):
    code = 429
    description = "Too many requests in too short a time: retry later."


class RequestHeaderFieldsTooLarge(_NamedHTTPException):
    code = 431
    description = "The request's headers are larger than the server accepts."


class UnavailableForLegalReasons(_NamedHTTPException):
    code = 451
    description = "The resource cannot be served for legal reasons."


class InternalServerError(_NamedHTTPException):
    """What a 500 handler gets for an error no handler answered: ``original_exception``."""

    code = 500
    description = "The server failed while handling the request."

    def __init__(self, *args: Any, original_exception: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.original_exception: BaseException | None = original_exception


# Werkzeug's name, which shadows the builtin constant inside this module (nothing here uses
# the builtin) and in any module importing it by name; `import *` does not, see __all__.
class NotImplemented(_NamedHTTPException):
    code = 501
    description = "The server does not support what the request asks for."


class BadGateway(_NamedHTTPException):
    code = 502
    description = "A server upstream answered with something invalid."


class ServiceUnavailable(_NamedHTTPException):
    code = 503
    description = "The server cannot handle the request right now: retry later."


class GatewayTimeout(_NamedHTTPException):
    code = 504
    description = "A server upstream did not answer in time."


class HTTPVersionNotSupported(_NamedHTTPException):
    code = 505
    description = "The server does not support the request's HTTP version."


class BadRequestKeyError(BadRequest, KeyError):
    """A missing form or query key read with ``[...]``: a 400 whose answer hides the key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__("A field the request needs is missing.")

    def get_description(self) -> str:
        return f"Missing field {self.key!r}"  # Werkzeug's name; for tests and logs


#: The named error of each status code, as :func:`abort` raises it.
NAMED_ERRORS: Mapping[int, type[_NamedHTTPException]] = MappingProxyType(
    {cls.code: cls for cls in sorted(_NamedHTTPException.__subclasses__(), key=lambda c: c.code)}
)


def abort(
    status_code: Any,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
    *,
    description: Any = None,
    response: Any = None,
) -> NoReturn:
    """Raise the named error for ``status_code`` (:class:`HTTPException` for others);
    ``description`` is ``detail``, ``response`` (or in place of the code) is sent as is.

    Example:
        >>> from kettle import NotFound, abort
        >>> try:
        ...     abort(404)
        ... except NotFound as exc:
        ...     exc.status_code, exc.detail
        (404, 'Not Found')
    """
    raise error_for(status_code, NAMED_ERRORS, detail, headers, description, response)


def error_for(
    code: Any,
    mapping: Mapping[int, type[HTTPException]],
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
    description: Any = None,
    response: Any = None,
) -> HTTPException:
    """The error ``abort(code, ...)`` raises, its class looked up in ``mapping`` (a
    ``LookupError`` for a code in neither it nor 100-599)."""
    if detail is None:
        detail = description
    as_is = False
    if not isinstance(code, int) and isinstance(getattr(code, "status_code", None), int):
        response, code, as_is = code, code.status_code, True  # abort(response): sent as it is
    if not isinstance(code, int) or isinstance(code, bool):
        raise TypeError(f"abort() takes a status code or a response, not {code!r}")
    error = mapping.get(code)
    if error is not None and issubclass(error, _NamedHTTPException):
        exc: HTTPException = error(detail, headers)
    elif error is not None:  # a class of the app's own, for a code of its own
        exc = error(code, detail, headers)
    elif 100 <= code <= 599:
        exc = HTTPException(code, detail, headers)
    else:
        raise LookupError(f"no exception for {code!r}")
    if response is not None:
        exc.response = response
        exc.answers_as_is = as_is
    return exc


class RequestRedirect(HTTPException):
    """The URL asked for lives elsewhere (a slash added or removed): a 308 to ``new_url``."""

    #: the status sent (308 keeps the method and body, where 301 may turn POST into GET)
    code_sent: ClassVar[int] = 308

    def __init__(self, new_url: str) -> None:
        self.new_url = new_url
        super().__init__(self.code_sent, None, {"Location": new_url})


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


# -- outside the request/response cycle --------------------------------------------------------


class ResponseValidationError(Exception):
    """The handler returned something its response model does not accept.

    A bug in the server, not the client: it is logged with its traceback and answered
    with the app's 500 (never with the details, which may hold private data).
    """

    def __init__(self, errors: list[Any], *, body: Any = None) -> None:
        self._errors = errors
        #: the value the handler returned (never sent to the client)
        self.body = body
        super().__init__(f"{len(errors)} validation error(s) in the response: {errors!r}")

    def errors(self) -> list[Any]:
        return self._errors

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args), self.__dict__)
