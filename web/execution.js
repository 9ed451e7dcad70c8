// One execution's page: its header, the minimap and waterfall of its span skeleton (one request for up to
// SKELETON_PAGE spans, then pages of that size), the detail panel of the selected span, and live growth
// over the `executionUpdates` subscription. The subscription starts from a `liveCursor` read before the
// skeleton, so no update falls between the two; a dropped socket resumes from the last cursor seen.

import { AuthError, RequestError, gql, live } from "./api.js";
import { Detail } from "./detail.js";
import { cost, count, duration, el, fullTime, statusBadge } from "./format.js";
import { Minimap } from "./minimap.js";
import { SpanTree } from "./tree.js";
import { Waterfall } from "./waterfall.js";

const SKELETON_PAGE = 50_000; // smaller when the server's query cost limit says so (see load())
const HEAD = "id name status startTime endTime durationMs spanCount usage { totalTokens } cost { value unit source }";
const SKELETON = "pageInfo { hasNextPage endCursor } edges { node { id parentId name kind status startTime endTime } }";
const TRACE = `query Trace($id: ID!, $first: Int!) { execution(id: $id) { ${HEAD} spans(first: $first) { ${SKELETON} } } }`;
const MORE = `query TraceMore($id: ID!, $first: Int!, $after: String) { execution(id: $id) { spans(first: $first, after: $after) { ${SKELETON} } } }`;
const HEADER = `query ExecutionHead($id: ID!) { execution(id: $id) { ${HEAD} } }`;
const CURSOR = "query LiveCursor { liveCursor }";
const UPDATES = `subscription ExecutionUpdates($id: ID!, $after: String) {
  executionUpdates(executionId: $id, after: $after) { cursor change span { id parentId name kind status startTime endTime } }
}`;

export function renderExecution(root, executionId, spanId, app) {
  const tree = new SpanTree();
  const title = el("h1", { id: "exec-title" }, executionId);
  const stats = el("div", { class: "exec-stats" });
  const notice = el("p", { class: "error-banner", hidden: true });
  const minimapBox = el("div", { class: "minimap" });
  const waterfallBox = el("div", { class: "waterfall", id: "waterfall" });
  const panel = el("aside", { class: "detail-panel", id: "detail" });
  root.replaceChildren(el("section", { class: "exec-page" },
    el("div", { class: "exec-head" },
      el("a", { href: "/", "data-nav": true, class: "back" }, "← Executions"),
      el("div", { class: "exec-title-row" }, title), stats),
    notice,
    el("div", { class: "exec-body" },
      el("div", { class: "trace-column" }, minimapBox, waterfallBox),
      panel)));

  const state = { loaded: false, buffer: [], cursor: null, head: null, closed: false, headTimer: null, detailTimer: null };
  const detail = new Detail(panel, executionId, app);
  const minimap = new Minimap(minimapBox, tree, { onPick: (id) => waterfall.select(id, { scroll: true }) });
  const waterfall = new Waterfall(waterfallBox, tree, {
    onSelect: (id) => {
      const url = new URL(location.href);
      url.searchParams.set("span", id);
      history.replaceState(null, "", url);
      detail.show(id);
    },
    onScroll: ([first, last]) => minimap.show(first, last),
  });

  function fail(error) {
    if (state.closed) return;
    if (error instanceof AuthError) return app.refused(error.message);
    notice.textContent = error.message;
    notice.hidden = false;
  }

  function renderHead(head) {
    state.head = head;
    title.textContent = head.name || head.id;
    document.title = `${head.name || head.id} · Tracehouse`;
    const running = head.status === "RUNNING";
    stats.replaceChildren(
      el("span", { id: "exec-status" }, statusBadge(head.status)),
      stat("Started", fullTime(head.startTime)),
      stat("Duration", running ? "running" : duration(head.durationMs)),
      stat("Spans", el("span", { id: "span-count" }, count(Math.max(tree.nodes.size, head.spanCount)))),
      stat("Tokens", count(head.usage?.totalTokens)),
      stat("Cost", cost(head.cost)),
      stat("Id", el("code", {}, head.id)));
  }

  let redraw = 0;
  function scheduleRedraw() {
    if (redraw) return;
    redraw = requestAnimationFrame(() => {
      redraw = 0;
      waterfall.refresh();
      minimap.draw();
      const counter = document.getElementById("span-count");
      if (counter) counter.textContent = count(tree.nodes.size);
    });
  }

  function apply(update) {
    state.cursor = update.cursor;
    tree.upsert(update.span);
    if (!update.span.parentId && state.head && update.span.status !== state.head.status) {
      renderHead({ ...state.head, status: update.span.status });
    }
    scheduleRedraw();
    // Totals (tokens, cost, duration) are the server's sums: ask again, at most every 2 s.
    if (!state.headTimer) state.headTimer = setTimeout(refreshHead, 2000);
    if (update.span.id === waterfall.selected) {
      clearTimeout(state.detailTimer);
      state.detailTimer = setTimeout(() => detail.show(update.span.id, { quiet: true }), 300);
    }
  }

  async function refreshHead() {
    state.headTimer = null;
    try {
      const data = await gql(HEADER, { id: executionId });
      if (data.execution && !state.closed) renderHead(data.execution);
    } catch (error) {
      fail(error);
    }
  }

  let unsubscribe = null;
  function subscribe(after) {
    state.cursor = after;
    unsubscribe = live.subscribe({
      query: UPDATES,
      variables: () => ({ id: executionId, after: state.cursor }),
      next: (data) => {
        const update = data.executionUpdates;
        if (state.loaded) apply(update);
        else state.buffer.push(update);
      },
      error: (message) => fail(new RequestError(`Live updates stopped: ${message}`)),
    });
  }

  async function load() {
    // Read before the skeleton, so the subscription replays whatever lands while the skeleton loads. (Only
    // the cursor: asking the span count here too, to size the page, cost more than a refused page does.)
    const { liveCursor } = await gql(CURSOR);
    let page = SKELETON_PAGE;
    let first;
    for (;;) {
      try {
        first = await gql(TRACE, { id: executionId, first: page });
        break;
      } catch (error) {
        // The server's TRACEHOUSE_GRAPHQL_MAX_COST refuses this page: the same skeleton in pages that fit.
        if (error.code !== "QUERY_TOO_COSTLY" || page <= 100) throw error;
        const { cost: asked, limit } = error.extensions;
        page = asked && limit ? Math.floor((page * limit * 0.98) / asked) : Math.floor(page / 4);
      }
    }
    if (state.closed) return;
    if (!first.execution) {
      notice.textContent = `No execution ${executionId} here: it does not exist, was deleted, or belongs to another tenant.`;
      notice.hidden = false;
      title.textContent = "Execution not found";
      return;
    }
    subscribe(liveCursor);
    const spans = first.execution.spans.edges.map((e) => e.node);
    let info = first.execution.spans.pageInfo;
    while (info.hasNextPage && !state.closed) {
      const more = await gql(MORE, { id: executionId, first: page, after: info.endCursor });
      for (const edge of more.execution.spans.edges) spans.push(edge.node);
      info = more.execution.spans.pageInfo;
    }
    performance.mark("tracehouse:skeleton-fetched");
    tree.load(spans);
    renderHead(first.execution);
    state.loaded = true;
    for (const update of state.buffer.splice(0)) apply(update);
    waterfall.refresh();
    minimap.draw();
    waterfallBox.dataset.ready = "true";
    // bench/viewer.py reads this: a timeout queued in the frame's rAF runs once that frame is painted.
    requestAnimationFrame(() => setTimeout(() => performance.mark("tracehouse:waterfall-painted")));
    if (spanId && tree.nodes.has(spanId)) waterfall.select(spanId, { scroll: true });
    else if (spanId) detail.show(spanId);
  }

  // Running bars grow with the clock.
  const ticker = setInterval(() => {
    if (state.loaded && tree.roots.some((r) => r.end === null)) scheduleRedraw();
  }, 1000);

  load().catch(fail);
  return () => {
    state.closed = true;
    clearInterval(ticker);
    clearTimeout(state.headTimer);
    clearTimeout(state.detailTimer);
    cancelAnimationFrame(redraw);
    unsubscribe?.();
    waterfall.destroy();
    minimap.destroy();
  };
}

function stat(label, value) {
  return el("div", { class: "stat" }, el("span", { class: "stat-label" }, label), el("span", { class: "stat-value" }, value));
}
