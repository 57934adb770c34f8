// The console page's script: follows the server's stream of rows (server-sent events; the server
// renders and escapes every row), filters the tables to one id in place, and posts a dead letter's
// redrive, showing its result. Without it the page still works: the filter and the redrive are
// plain forms.
"use strict";

(function () {
  const filterInput = document.getElementById("filter");
  const live = document.getElementById("live");
  const result = document.getElementById("redrive-result");

  function currentFilter() {
    return filterInput.value.trim();
  }

  function shows(row) {
    const id = currentFilter();
    if (!id || row.closest("#rows-queues")) return true;
    return (row.dataset.ids || "").split(" ").includes(id);
  }

  function refreshCounts() {
    for (const tbody of document.querySelectorAll("tbody[id^='rows-']")) {
      const section = tbody.id.slice("rows-".length);
      const rows = tbody.querySelectorAll(":scope > tr");
      let shown = 0;
      for (const row of rows) if (!row.hidden) shown++;
      const count = document.querySelector(`[data-count-for='${section}']`);
      if (count)
        count.textContent =
          shown === rows.length ? `(${rows.length})` : `(${shown} of ${rows.length})`;
      const empty = document.querySelector(`[data-empty-for='${section}']`);
      if (empty) empty.hidden = shown > 0;
    }
  }

  function applyFilter() {
    for (const row of document.querySelectorAll("tbody[id^='rows-'] > tr"))
      row.hidden = !shows(row);
    refreshCounts();
  }

  function follow(id) {
    filterInput.value = id;
    const url = id ? `/?id=${encodeURIComponent(id)}` : "/";
    history.replaceState(null, "", url);
    applyFilter();
  }

  function parseRows(html) {
    const template = document.createElement("template");
    template.innerHTML = `<table><tbody>${html}</tbody></table>`;
    return [...template.content.querySelectorAll("tbody > tr")];
  }

  function applyUpdate(u) {
    const existing = document.getElementById(u.id);
    if (u.html === undefined) {
      if (existing) existing.remove();
      return;
    }
    const [row] = parseRows(u.html);
    if (!row) return;
    row.hidden = !shows(row);
    if (existing) existing.replaceWith(row);
    else document.getElementById(`rows-${u.section}`).prepend(row);
  }

  function reset(sections) {
    for (const [section, html] of Object.entries(sections)) {
      const tbody = document.getElementById(`rows-${section}`);
      if (!tbody) continue;
      tbody.replaceChildren(...parseRows(html));
    }
    applyFilter();
  }

  const stream = new EventSource(`/stream?since=${encodeURIComponent(document.body.dataset.seq)}`);
  stream.addEventListener("open", () => {
    live.textContent = "Live: new events appear as they happen.";
  });
  stream.addEventListener("error", () => {
    live.textContent = "Reconnecting to the local run…";
  });
  stream.addEventListener("rows", (m) => {
    for (const u of JSON.parse(m.data)) applyUpdate(u);
    refreshCounts();
  });
  stream.addEventListener("reset", (m) => reset(JSON.parse(m.data)));

  document.getElementById("filter-form").addEventListener("submit", (e) => {
    e.preventDefault();
    follow(currentFilter());
  });
  document.getElementById("clear").addEventListener("click", (e) => {
    e.preventDefault();
    follow("");
  });

  document.addEventListener("click", (e) => {
    const link = e.target instanceof Element ? e.target.closest("a[data-follow]") : null;
    if (!link) return;
    e.preventDefault();
    follow(link.dataset.follow);
    filterInput.focus();
  });

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("redrive")) return;
    e.preventDefault();
    const button = form.querySelector("button");
    const id = new FormData(form).get("id");
    button.disabled = true;
    result.textContent = `Redriving ${id}…`;
    try {
      const res = await fetch("/dlq/redrive", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ id }),
      });
      const body = await res.json();
      result.textContent =
        body.results && body.results.length
          ? body.results.map((r) => `${r.outcome}: ${r.detail}`).join("; ")
          : body.message || `HTTP ${res.status}`;
      result.dataset.outcome = res.ok ? "ok" : "failed";
    } catch (err) {
      result.textContent = `The redrive could not be sent: ${err.message}`;
      result.dataset.outcome = "failed";
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });

  applyFilter();
})();
