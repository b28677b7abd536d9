"""The board's pages: the task list (search, status filter, pages), a task's page, the
forms to create, edit and delete one, and attachments.

Every page needs a signed-in team member (others are sent to the login page and back).
Everyone on the team may edit any task; only its author may delete it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from kettle import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from kettle.login import current_user, login_required

from . import tasks
from .db import Session
from .models import Attachment, Status, Task, User
from .uploads import ATTACHMENT_TYPES, UploadRefused, save_upload, upload_dir

bp = Blueprint("pages", __name__, include_in_schema=False)

MAX_SEARCH = 100


def _page_number(raw: str | None) -> int:
    return max(1, int(raw)) if raw and raw.isdigit() and len(raw) < 7 else 1


async def _task_or_404(session: Session, task_id: int) -> Task:
    task = await tasks.get_task(session, task_id)
    if task is None:
        abort(404, "There is no such task.")
    return task


@bp.get("/")
@login_required
async def board(session: Session) -> str:
    search = (request.args.get("q") or "").strip()[:MAX_SEARCH]
    raw_status = request.args.get("status") or ""
    status = Status(raw_status) if raw_status in Status.__members__ else None
    page = await tasks.list_tasks(
        session,
        search=search or None,
        status=status,
        page=_page_number(request.args.get("page")),
        per_page=current_app.state.settings.page_size,
    )
    return render_template(
        "tasks/list.html", page=page, search=search, status=status, statuses=list(Status)
    )


def _fields(form: Any) -> tuple[str, str, Status | None]:
    raw_status = str(form.get("status", "todo"))
    status = Status(raw_status) if raw_status in Status.__members__ else None
    return (
        str(form.get("title", "")),
        str(form.get("description", "")).replace("\r\n", "\n"),
        status,
    )


@bp.route("/tasks/new", methods=["GET", "POST"])
@login_required
async def create(session: Session) -> str | Response | tuple[str, int]:
    if request.method == "POST":
        form = await request.form()
        title, description, status = _fields(form)
        problems = tasks.check(title, description) + ([] if status else ["Pick a status."])
        if not problems:
            author = await session.get(User, current_user.id)
            assert author is not None
            assert status is not None
            task = await tasks.create_task(session, author, title, description, status)
            flash(f"Task “{task.title}” created.", "success")
            return redirect(url_for("pages.detail", task_id=task.id))
        for problem in problems:
            flash(problem, "error")
        return render_template("tasks/form.html", task=None, form=form, statuses=list(Status)), 422
    return render_template("tasks/form.html", task=None, form={}, statuses=list(Status))


@bp.get("/tasks/<int:task_id>")
@login_required
async def detail(session: Session, task_id: int) -> str:
    task = await _task_or_404(session, task_id)
    return render_template("tasks/detail.html", task=task)


@bp.route("/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@login_required
async def edit(session: Session, task_id: int) -> str | Response | tuple[str, int]:
    task = await _task_or_404(session, task_id)
    if request.method == "POST":
        form = await request.form()
        title, description, status = _fields(form)
        problems = tasks.check(title, description) + ([] if status else ["Pick a status."])
        conflict = str(form.get("version")) != str(task.version)
        if conflict:
            problems.append("Someone changed this task while you were editing: check it below.")
        if not problems:
            try:
                await tasks.update_task(
                    session, task, title=title, description=description, status=status
                )
            except StaleDataError:
                await session.rollback()
                conflict = True
                problems.append("Someone changed this task while you were saving: try again.")
            else:
                flash("Task saved.", "success")
                return redirect(url_for("pages.detail", task_id=task.id))
        for problem in problems:
            flash(problem, "error")
        page = render_template("tasks/form.html", task=task, form=form, statuses=list(Status))
        return page, 409 if conflict else 422
    return render_template("tasks/form.html", task=task, form=None, statuses=list(Status))


@bp.route("/tasks/<int:task_id>/delete", methods=["GET", "POST"])
@login_required
async def delete(session: Session, task_id: int) -> str | Response:
    task = await _task_or_404(session, task_id)
    if task.author_id != current_user.id:
        abort(403, "Only the task's author can delete it.")
    if request.method == "POST":
        await tasks.delete_task(session, task)
        flash(f"Task “{task.title}” deleted.", "info")
        return redirect("/")
    return render_template("tasks/delete.html", task=task)


@bp.post("/tasks/<int:task_id>/attachments")
@login_required
async def attach(session: Session, task_id: int) -> Response | tuple[str, int]:
    task = await _task_or_404(session, task_id)
    form = await request.form()
    try:
        stored = await save_upload(form.get("file"), ATTACHMENT_TYPES, text=True)
    except UploadRefused as refused:
        flash(str(refused), "error")
        return render_template("tasks/detail.html", task=task), refused.status
    session.add(
        Attachment(
            task_id=task.id,
            filename=stored.filename,
            stored_name=stored.stored_name,
            content_type=stored.content_type,
            size=stored.size,
        )
    )
    await session.commit()
    await tasks.publish("updated", task)
    flash(f"Attached {stored.filename}.", "success")
    return redirect(url_for("pages.detail", task_id=task.id))


@bp.get("/files/<name>")
@login_required
async def download(session: Session, name: str) -> Response:
    from sqlalchemy import select

    found = await session.scalar(select(Attachment).where(Attachment.stored_name == name))
    if found is not None:
        # Served as what we sniffed, as a download unless it is an image: a text file
        # is never rendered as a page of ours.
        inline = found.content_type.startswith("image/")
        return send_from_directory(
            upload_dir(),
            name,
            mimetype=found.content_type,
            as_attachment=not inline,
            download_name=found.filename,
        )
    owner = await session.scalar(select(User).where(User.avatar == name))
    if owner is None:
        abort(404)
    return send_from_directory(upload_dir(), name)
