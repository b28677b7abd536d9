"""The middleware an app's own settings ask for, added when the app is compiled.

- ``app.wsgi_app = ProxyFix(app.wsgi_app, ...)``: its layers (:mod:`kettle.middleware.proxyfix`);
- ``TRUSTED_HOSTS`` (Flask's setting): a :class:`TrustedHostMiddleware` refusing other
  ``Host`` headers with a 400.

Nothing is added for settings left unset: an app that uses neither pays nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kettle.middleware.base import Middleware
from kettle.middleware.proxyfix import wsgi_app_layers
from kettle.middleware.trustedhost import TrustedHostMiddleware

__all__ = ["configured_layers", "trusted_host_patterns"]


def trusted_host_patterns(hosts: Iterable[str]) -> list[str]:
    """``TRUSTED_HOSTS`` entries as :class:`TrustedHostMiddleware` patterns: a leading dot
    (``".example.com"``) stands for the domain and all its subdomains, as in Flask.

    Example:
        >>> trusted_host_patterns(["example.test", ".other.test"])
        ['example.test', 'other.test', '*.other.test']
    """
    patterns: list[str] = []
    for host in hosts:
        if host.startswith("."):
            patterns += [host[1:], f"*{host}"]
        else:
            patterns.append(host)
    return patterns


def configured_layers(app: Any) -> list[Middleware]:
    """The layers ``app``'s settings ask for, outermost first: ProxyFix's (so a forwarded
    ``Host`` is the one checked), then the ``TRUSTED_HOSTS`` check."""
    layers = wsgi_app_layers(app)
    config = getattr(app, "config", None)
    hosts = config.get("TRUSTED_HOSTS") if config is not None else None
    if hosts:
        if isinstance(hosts, str):
            raise TypeError("TRUSTED_HOSTS must be a list of host names, not a string")
        layers.append(Middleware(TrustedHostMiddleware, allowed_hosts=trusted_host_patterns(hosts)))
    return layers
