// Live updates: the board listens to /events (Server-Sent Events). On the board, a change
// reloads the list in place; on a task's page, a change to that task reloads the page.
// The browser reconnects by itself and sends the last event id it saw.
(function () {
  "use strict";
  const status = document.getElementById("live-status");
  const events = new EventSource("/events");
  events.onopen = () => status && status.classList.add("on");
  events.onerror = () => status && status.classList.remove("on");

  function toast(text) {
    const note = document.createElement("div");
    note.className = "toast";
    note.setAttribute("role", "status");
    note.textContent = text;
    document.body.appendChild(note);
    setTimeout(() => note.remove(), 3000);
  }

  async function refreshList(changedId) {
    const list = document.getElementById("task-list");
    const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("task-list");
    if (!fresh) return;
    list.replaceWith(fresh);
    const row = fresh.querySelector(`[data-task-id="${changedId}"]`);
    if (row) row.classList.add("fresh");
  }

  events.onmessage = (event) => {
    const change = JSON.parse(event.data);
    if (document.getElementById("task-list")) {
      refreshList(change.id);
      if (change.action === "created") toast(`New task: ${change.title}`);
      return;
    }
    const shown = document.querySelector("article[data-task-id]");
    if (shown && Number(shown.dataset.taskId) === change.id) {
      if (change.action === "deleted") toast("This task was deleted.");
      else if (String(change.version) !== shown.dataset.taskVersion) window.location.reload();
    }
  };
})();
