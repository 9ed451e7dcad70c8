// The executions list: newest first, filters (status, text search, time range), sortable columns,
// keyset paging as the table scrolls, and executions that start or finish appearing live.

import { AuthError, gql, live } from "./api.js";
import { cost, count, duration, el, startTime, statusBadge } from "./format.js";

const PAGE = 100;
const FIELDS = "id name status startTime endTime durationMs spanCount usage { totalTokens } cost { value unit }";
const LIST = `query Executions($filter: ExecutionFilter, $first: Int, $after: String, $orderBy: ExecutionOrder) {
  executions(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { ${FIELDS} } }
  }
}`;
const LIVE = `subscription NewExecutions($filter: ExecutionFilter) { executions(filter: $filter) { ${FIELDS} } }`;
const COLUMNS = [
  { key: "status", label: "Status" },
  { key: "name", label: "Name", sort: "NAME" },
  { key: "start", label: "Start", sort: "START_TIME" },
  { key: "duration", label: "Duration", sort: "DURATION", numeric: true },
  { key: "spans", label: "Spans", sort: "SPAN_COUNT", numeric: true },
  { key: "tokens", label: "Tokens", sort: "TOKENS", numeric: true },
  { key: "cost", label: "Cost", numeric: true },
];
const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"];

export function renderList(root, app) {
  const state = { order: { field: "START_TIME", direction: "DESC" }, rows: new Map(), cursor: null, more: false,
    loading: false, generation: 0, total: 0 };
  const status = el("select", { id: "filter-status", "aria-label": "Status" },
    el("option", { value: "" }, "Any status"), STATUSES.map((s) => el("option", { value: s }, s.toLowerCase())));
  const search = el("input", { id: "filter-search", type: "search", placeholder: "Search names, inputs, outputs, errors…",
    "aria-label": "Search" });
  const from = el("input", { id: "filter-from", type: "datetime-local", "aria-label": "From" });
  const to = el("input", { id: "filter-to", type: "datetime-local", "aria-label": "To" });
  const summary = el("span", { class: "muted", id: "list-summary" });
  const error = el("p", { class: "error-banner", hidden: true });
  const head = el("tr", {});
  const body = el("tbody", {});
  const sentinel = el("div", { class: "sentinel" });
  const moreButton = el("button", { class: "ghost", type: "button", hidden: true, onclick: () => load() }, "Load more");

  root.replaceChildren(el("section", { class: "list-page" },
    el("div", { class: "page-title" }, el("h1", {}, "Executions"), summary),
    el("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); reload(); } },
      search, status, el("label", { class: "range" }, "From", from), el("label", { class: "range" }, "To", to)),
    error,
    el("div", { class: "table-wrap" }, el("table", { class: "executions" }, el("thead", {}, head), body)),
    el("div", { class: "list-foot" }, moreButton, sentinel)));

  function renderHead() {
    head.replaceChildren(...COLUMNS.map((c) => {
      const active = c.sort === state.order.field;
      const arrow = active ? (state.order.direction === "DESC" ? " ↓" : " ↑") : "";
      const th = el("th", { class: [c.numeric && "num", c.sort && "sortable", active && "sorted"].filter(Boolean).join(" "),
        "aria-sort": active ? (state.order.direction === "DESC" ? "descending" : "ascending") : null,
        "data-column": c.key }, c.label + arrow);
      if (c.sort) th.addEventListener("click", () => {
        state.order = active ? { field: c.sort, direction: state.order.direction === "DESC" ? "ASC" : "DESC" }
          : { field: c.sort, direction: c.sort === "NAME" ? "ASC" : "DESC" };
        renderHead();
        reload();
      });
      return th;
    }));
  }

  function filter() {
    const f = {};
    if (status.value) f.statuses = [status.value];
    if (search.value.trim()) f.search = search.value.trim();
    if (from.value) f.from = new Date(from.value).toISOString();
    if (to.value) f.to = new Date(to.value).toISOString();
    return f;
  }

  function row(node) {
    const href = `/executions/${encodeURIComponent(node.id)}`;
    return el("tr", { "data-id": node.id },
      el("td", {}, statusBadge(node.status)),
      el("td", { class: "name" }, el("a", { href, "data-nav": true }, node.name || node.id),
        el("span", { class: "id" }, node.id)),
      el("td", { title: node.startTime }, startTime(node.startTime)),
      el("td", { class: "num" }, node.status === "RUNNING" && node.durationMs === null ? "running" : duration(node.durationMs)),
      el("td", { class: "num" }, count(node.spanCount)),
      el("td", { class: "num" }, count(node.usage?.totalTokens)),
      el("td", { class: "num" }, cost(node.cost)));
  }

  function upsert(node, { prepend }) {
    const old = state.rows.get(node.id);
    const tr = row(node);
    if (old) old.replaceWith(tr);
    else if (prepend) {
      body.prepend(tr);
      tr.classList.add("fresh");
      state.total += 1;
    } else body.append(tr);
    state.rows.set(node.id, tr);
  }

  async function load() {
    if (state.loading) return;
    state.loading = true;
    const generation = state.generation;
    try {
      const data = await gql(LIST, { filter: filter(), first: PAGE, after: state.cursor, orderBy: state.order });
      if (generation !== state.generation) return;
      const page = data.executions;
      for (const { node } of page.edges) upsert(node, { prepend: false });
      state.cursor = page.pageInfo.endCursor;
      state.more = page.pageInfo.hasNextPage;
      state.total = page.totalCount;
      error.hidden = true;
      showSummary();
    } catch (e) {
      if (e instanceof AuthError) return app.refused(e.message);
      error.textContent = e.message;
      error.hidden = false;
    } finally {
      if (generation === state.generation) state.loading = false;
    }
    if (generation === state.generation && state.more && visible(sentinel)) load();
  }

  function showSummary() {
    summary.textContent = state.rows.size
      ? `${count(state.rows.size)} of ${count(state.total)}` : "No executions match.";
    moreButton.hidden = !state.more;
  }

  function reload() {
    state.generation += 1;
    state.loading = false;
    state.rows.clear();
    state.cursor = null;
    body.replaceChildren();
    load();
    resubscribe();
  }

  // New executions join the top only where they belong: newest first, the default order.
  let unsubscribe = null;
  function resubscribe() {
    unsubscribe?.();
    const f = filter();
    unsubscribe = live.subscribe({
      query: LIVE,
      variables: () => ({ filter: f }),
      next: (data) => {
        const node = data.executions;
        const newestFirst = state.order.field === "START_TIME" && state.order.direction === "DESC";
        if (state.rows.has(node.id) || newestFirst) upsert(node, { prepend: true });
        showSummary();
      },
      resumed: () => reload(), // what started while the socket was down is on the first page again
      error: (message) => { error.textContent = message; error.hidden = false; },
    });
  }

  // A click anywhere on a row opens it (the name is the link, for keyboards and new tabs).
  body.addEventListener("click", (event) => {
    const tr = event.target.closest("tr[data-id]");
    if (!tr || event.target.closest("a") || window.getSelection()?.toString()) return;
    app.navigate(`/executions/${encodeURIComponent(tr.dataset.id)}`);
  });

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && state.more) load();
  });
  observer.observe(sentinel);
  let debounce = null;
  search.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(reload, 300); });
  for (const input of [status, from, to]) input.addEventListener("change", reload);

  renderHead();
  reload();
  return () => {
    state.generation += 1;
    observer.disconnect();
    clearTimeout(debounce);
    unsubscribe?.();
  };
}

function visible(node) {
  const rect = node.getBoundingClientRect();
  return rect.top < window.innerHeight + 200;
}
