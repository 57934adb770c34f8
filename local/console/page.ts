// The console's page, rendered on the server from the view: landmarks, one headed section per table,
// each table body a polite live region the script inserts rows into, a filter form that works
// without the script (a GET of /?id=...), and the redrive forms of the dead letters.
import { ConsoleView, esc, SECTIONS } from "./view";

export function renderPage(view: ConsoleView, stack: string, filter: string): string {
  const sections = SECTIONS.map((s) => {
    const rows = view.rows(s.id, filter).join("\n");
    return `<section aria-labelledby="h-${s.id}" id="${s.id}">
<h2 id="h-${s.id}">${esc(s.title)} <span class="count" data-count-for="${s.id}"></span></h2>
${s.id === "deadLetters" ? `<p id="redrive-result" class="result" role="status" aria-live="polite"></p>` : ""}
<table>
<thead><tr>${s.columns.map((c) => `<th scope="col">${esc(c)}</th>`).join("")}</tr></thead>
<tbody id="rows-${s.id}" aria-live="polite" aria-relevant="additions text">
${rows}
</tbody>
</table>
<p class="empty" data-empty-for="${s.id}">Nothing yet.</p>
</section>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard console (stack ${esc(stack)})</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
</head>
<body data-seq="${esc(view.seq)}">
<a class="skip" href="#main">Skip to the tables</a>
<header>
<h1>Switchyard console <span class="stack">stack ${esc(stack)}</span></h1>
<form role="search" method="get" action="/" id="filter-form">
<label for="filter">Follow an event id, correlation id or message id</label>
<input id="filter" name="id" type="search" value="${esc(filter)}" autocomplete="off" spellcheck="false">
<button type="submit">Follow</button>
<a href="/" id="clear">Show everything</a>
</form>
<p id="live" role="status" aria-live="polite">Not live: the page shows what had happened when it loaded.</p>
</header>
<nav aria-label="Tables"><ul>${SECTIONS.map((s) => `<li><a href="#${s.id}">${esc(s.title)}</a></li>`).join("")}</ul></nav>
<main id="main">
${sections}
</main>
</body>
</html>
`;
}
