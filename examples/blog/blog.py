"""Posts: the index (newest first) for everyone; create, update and delete when logged in."""

from __future__ import annotations

import sqlite3
from typing import Any

from kettle import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from kettle.login import current_user, login_required

from .auth import submitted_form
from .db import get_db

bp = Blueprint("blog", __name__)

MAX_TITLE = 200
MAX_BODY = 20_000

_SELECT = (
    "SELECT p.id, p.title, p.body, p.created, p.author_id, u.username"
    " FROM posts p JOIN users u ON p.author_id = u.id"
)


@bp.route("/")
def index() -> str:
    posts = get_db().execute(f"{_SELECT} ORDER BY p.created DESC, p.id DESC").fetchall()
    return render_template("blog/index.html", posts=posts)


@bp.route("/posts.json")
def posts_json() -> list[dict[str, Any]]:
    """The same list as JSON (newest first)."""
    rows = get_db().execute(f"{_SELECT} ORDER BY p.created DESC, p.id DESC").fetchall()
    return [dict(row) for row in rows]


def get_post(id: int, check_author: bool = True) -> sqlite3.Row:
    """The post ``id``: 404 if there is none, 403 if it is not the current user's."""
    post: sqlite3.Row | None = get_db().execute(f"{_SELECT} WHERE p.id = ?", (id,)).fetchone()
    if post is None:
        abort(404, f"There is no post {id}.")
    if check_author and post["author_id"] != current_user.id:
        abort(403, "Only its author can change a post.")
    return post


def _read_form() -> tuple[str, str, str | None]:
    """The title and body posted, and what is wrong with them (None if nothing)."""
    title = request.form["title"].strip()
    body = request.form["body"]
    error = None
    if not title:
        error = "Title is required."
    elif len(title) > MAX_TITLE:
        error = f"Titles have at most {MAX_TITLE} characters."
    elif len(body) > MAX_BODY:
        error = f"Posts have at most {MAX_BODY} characters."
    return title, body, error


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create() -> str | Response:
    if request.method == "POST":
        title, body, error = _read_form()
        if error is None:
            db = get_db()
            db.execute(
                "INSERT INTO posts (title, body, author_id) VALUES (?, ?, ?)",
                (title, body, current_user.id),
            )
            db.commit()
            flash("Your post is published.", "info")
            return redirect(url_for("blog.index"))
        flash(error, "error")
    return render_template("blog/create.html", form=submitted_form())


@bp.route("/<int:id>/update", methods=("GET", "POST"))
@login_required
def update(id: int) -> str | Response:
    post = get_post(id)
    if request.method == "POST":
        title, body, error = _read_form()
        if error is None:
            db = get_db()
            db.execute("UPDATE posts SET title = ?, body = ? WHERE id = ?", (title, body, id))
            db.commit()
            flash("Your post is updated.", "info")
            return redirect(url_for("blog.index"))
        flash(error, "error")
    return render_template("blog/update.html", post=post, form=submitted_form())


@bp.route("/<int:id>/delete", methods=("POST",))
@login_required
def delete(id: int) -> Response:
    get_post(id)
    db = get_db()
    db.execute("DELETE FROM posts WHERE id = ?", (id,))
    db.commit()
    flash("Your post is deleted.", "info")
    return redirect(url_for("blog.index"))
