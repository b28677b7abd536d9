"""The blog's app factory, and the app it makes for ``kettle run examples/blog/app.py:app``.

Settings come from ``KETTLE_*`` environment variables (``KETTLE_SECRET_KEY``,
``KETTLE_DATABASE``...) unless a test passes its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from html import escape
from typing import Any

from kettle import HTTPException, Kettle, render_template
from kettle.globals import has_request_context
from kettle.login import LoginManager
from kettle.middleware.csrf import CSRFError, CSRFMiddleware
from kettle.security.passwords import PasswordHasher

from . import auth, blog, db

logger = logging.getLogger(__name__)

#: Signs session cookies when no KETTLE_SECRET_KEY is set. FOR DEVELOPMENT ONLY: it is
#: public, so anyone could forge a session. In production set KETTLE_SECRET_KEY, e.g. to
#: the output of `python -c "import secrets; print(secrets.token_hex())"`.
DEV_SECRET_KEY = "dev-only-insecure-secret-key"


def create_app(test_config: Mapping[str, Any] | None = None) -> Kettle:
    """A new blog app; ``test_config`` overrides the defaults and the environment."""
    app = Kettle(__name__)
    app.config.from_mapping(
        DATABASE=os.path.join(app.root_path, "instance", "blog.sqlite"),
        # argon2id with kettle's defaults (RFC 9106's second recommendation: 3 passes,
        # 64 MiB). Tests pass PasswordHasher.for_tests(), which is cheap and never for
        # real passwords. Stronger parameters later upgrade each hash at its next login.
        PASSWORD_HASHER=PasswordHasher(),
    )
    app.config.from_prefixed_env()  # KETTLE_SECRET_KEY -> config["SECRET_KEY"], ...
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        logger.warning("KETTLE_SECRET_KEY is not set: using the development key (never deploy so)")
        app.config["SECRET_KEY"] = DEV_SECRET_KEY

    db.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)

    # Sessions for logged-in users: current_user (in views and templates), login_required
    # sending visitors to the login page and back, and the remember-me cookie.
    login_manager = LoginManager(app, login_view="auth.login")
    login_manager.user_loader(auth.load_user)

    # Every form post that carries a cookie must carry the session's CSRF token
    # ({{ csrf_input() }} in the templates); a refusal is a 403 (the error page below).
    app.add_middleware(CSRFMiddleware)

    # HTML error pages (kettle's default error body is JSON, for APIs).
    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(405)
    def error_page(exc: HTTPException) -> tuple[str, int, Mapping[str, str]]:
        # The exception's headers (a 405's Allow) are kept.
        headers = exc.headers or {}
        if not has_request_context():
            # A refusal raised by middleware (CSRFMiddleware's 403) comes before any
            # request context exists, so templates, url_for and current_user cannot be
            # used there: a page without the layout.
            return _bare_error_page(exc), exc.status_code, headers
        page = render_template("error.html", error=exc, hint=_hint(exc))
        return page, exc.status_code, headers

    return app


def _hint(exc: HTTPException) -> str | None:
    if isinstance(exc, CSRFError):
        # An expired token (an hour by default), a form opened before a login or logout,
        # or a post from another site.
        return "Go back, reload the page and send the form again."
    return None


def _bare_error_page(exc: HTTPException) -> str:
    detail = escape(str(exc.detail))
    hint = f"<p>{escape(text)}</p>\n" if (text := _hint(exc)) else ""
    return (
        f'<!doctype html>\n<html lang="en">\n<meta charset="utf-8">\n'
        f"<title>{exc.status_code} · kettle blog</title>\n"
        f'<h1>{exc.status_code}</h1>\n<p class="error">{detail}</p>\n{hint}'
        '<p><a href="/">Back to the posts</a></p>\n'
    )


app = create_app()
