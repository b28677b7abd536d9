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
        # scrypt cost for new password hashes (2**15: what Werkzeug uses); tests lower it.
        PASSWORD_SCRYPT_N=2**15,
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

    # HTML error pages (kettle's default error body is JSON, for APIs).
    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(405)
    def error_page(exc: HTTPException) -> tuple[str, int, Mapping[str, str]]:
        # The exception's headers (a 405's Allow) are kept.
        headers = exc.headers or {}
        if not has_request_context():
            # kettle answers a URL no route matches (404) or a method the route does not
            # take (405) outside any request context, so templates, url_for and g cannot
            # be used there (see the xfail test): a page without the layout.
            return _bare_error_page(exc), exc.status_code, headers
        return render_template("error.html", error=exc), exc.status_code, headers

    return app


def _bare_error_page(exc: HTTPException) -> str:
    detail = escape(str(exc.detail))
    return (
        f'<!doctype html>\n<html lang="en">\n<meta charset="utf-8">\n'
        f"<title>{exc.status_code} · kettle blog</title>\n"
        f'<h1>{exc.status_code}</h1>\n<p class="error">{detail}</p>\n'
        '<p><a href="/">Back to the posts</a></p>\n'
    )


app = create_app()
