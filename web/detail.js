// The detail panel: the selected span's heavy fields (inputs, outputs, error, usage, cost with its
// source, attributes, events), fetched only when it is selected. JSON folds with <details>; long text
// wraps.

import { AuthError, gql } from "./api.js";
import { cost, count, duration, el, fullTime, statusBadge } from "./format.js";

const SPAN = `query SpanDetail($executionId: ID!, $spanId: ID!) {
  span(executionId: $executionId, spanId: $spanId) {
    id parentId name kind kindName status startTime endTime durationMs inputs outputs attributes
    error { message code stacktrace rawData }
    usage { inputTokens outputTokens cacheCreationInputTokens cacheReadInputTokens totalTokens
            byModel { model inputTokens outputTokens totalTokens } }
    cost { value unit source }
    events { id name timestamp source payload }
  }
}`;
const MAX_ITEMS = 200; // entries of one object or array drawn before a "… more" line
const OPEN_DEPTH = 3;

export class Detail {
  constructor(panel, executionId, app) {
    this.panel = panel;
    this.executionId = executionId;
    this.app = app;
    this.controller = null;
    this.spanId = null;
    this.empty();
  }

  empty() {
    this.panel.replaceChildren(el("div", { class: "detail-empty" }, "Select a span to see its inputs, outputs, usage and cost."));
  }

  async show(spanId, { quiet = false } = {}) {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.spanId = spanId;
    if (!quiet) this.panel.replaceChildren(el("div", { class: "detail-empty" }, "Loading…"));
    try {
      const data = await gql(SPAN, { executionId: this.executionId, spanId }, { signal: controller.signal });
      if (controller.signal.aborted) return;
      if (!data.span) {
        this.panel.replaceChildren(el("div", { class: "detail-empty" }, `Span ${spanId} is not in this execution.`));
        return;
      }
      this.render(data.span);
    } catch (error) {
      if (error.name === "AbortError") return;
      if (error instanceof AuthError) return this.app.refused(error.message);
      this.panel.replaceChildren(el("div", { class: "error-banner" }, error.message));
    }
  }

  render(span) {
    const sections = [];
    if (span.error) sections.push(section("Error", errorView(span.error), "error-section"));
    sections.push(section("Inputs", value(span.inputs, 0, true)));
    sections.push(section("Outputs", value(span.outputs, 0, true), "outputs"));
    if (span.usage) sections.push(section("Usage", usageView(span.usage)));
    if (span.cost?.length) sections.push(section("Cost", costView(span.cost)));
    if (span.attributes !== null && span.attributes !== undefined) {
      sections.push(section("Attributes", value(span.attributes, 0, true)));
    }
    if (span.events?.length) sections.push(section(`Events (${span.events.length})`, eventsView(span.events)));
    this.panel.replaceChildren(el("article", { class: "detail", "data-span": span.id },
      el("header", { class: "detail-head" },
        el("h2", { class: "detail-name" }, span.name),
        el("div", { class: "detail-meta" }, statusBadge(span.status), el("span", { class: "kind" }, span.kindName || span.kind),
          el("span", {}, duration(span.durationMs)), el("span", { class: "muted" }, fullTime(span.startTime))),
        el("div", { class: "detail-ids muted" }, "span ", el("code", {}, span.id),
          span.parentId ? [" · parent ", el("code", {}, span.parentId)] : null)),
      sections));
  }
}

function section(title, body, extra = "") {
  return el("section", { class: `detail-section ${extra}` }, el("h3", {}, title), body);
}

// A JSON value: scalars inline, strings wrapped, objects and arrays as nested <details> (a section's own
// top-level object is shown open, without a fold of its own).
export function value(v, depth = 0, bare = false) {
  if (v === null || v === undefined) return el("span", { class: "json-null" }, "null");
  if (typeof v === "string") {
    const parsed = maybeJson(v);
    if (parsed !== undefined) return value(parsed, depth);
    return el("div", { class: "json-string" }, v);
  }
  if (typeof v === "number") return el("span", { class: "json-number" }, String(v));
  if (typeof v === "boolean") return el("span", { class: "json-bool" }, String(v));
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  if (!entries.length) return el("span", { class: "json-null" }, Array.isArray(v) ? "[]" : "{}");
  const label = Array.isArray(v) ? `[${entries.length} item${entries.length === 1 ? "" : "s"}]`
    : `{${entries.length} key${entries.length === 1 ? "" : "s"}}`;
  const list = el("dl", { class: "json-entries" });
  for (const [key, item] of entries.slice(0, MAX_ITEMS)) {
    list.append(el("dt", {}, String(key)), el("dd", {}, value(item, depth + 1)));
  }
  if (entries.length > MAX_ITEMS) list.append(el("dt", {}, "…"), el("dd", { class: "muted" }, `${entries.length - MAX_ITEMS} more`));
  if (bare) {
    list.classList.add("bare");
    return list;
  }
  return el("details", { class: "json", open: depth < OPEN_DEPTH }, el("summary", {}, label), list);
}

function maybeJson(text) {
  const t = text.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

function errorView(error) {
  return el("div", { class: "error-box" },
    el("div", { class: "error-message" }, error.message || "(no message)"),
    error.code ? el("div", { class: "muted" }, "code ", el("code", {}, error.code)) : null,
    error.stacktrace ? el("pre", { class: "stacktrace" }, error.stacktrace) : null,
    error.rawData ? value(error.rawData, OPEN_DEPTH) : null);
}

function usageView(usage) {
  const rows = [["Input tokens", usage.inputTokens], ["Output tokens", usage.outputTokens],
    ["Cache writes", usage.cacheCreationInputTokens || null], ["Cache reads", usage.cacheReadInputTokens || null],
    ["Total", usage.totalTokens]];
  const table = el("table", { class: "kv" }, rows.filter(([, n]) => n !== null && n !== undefined)
    .map(([k, n]) => el("tr", {}, el("th", {}, k), el("td", { class: "num" }, count(n)))));
  if (usage.byModel?.length > 1 || (usage.byModel?.length === 1 && usage.byModel[0].model)) {
    return el("div", {}, table, el("table", { class: "kv by-model" },
      el("tr", {}, el("th", {}, "Model"), el("th", { class: "num" }, "In"), el("th", { class: "num" }, "Out")),
      usage.byModel.map((m) => el("tr", {}, el("td", {}, m.model || "—"), el("td", { class: "num" }, count(m.inputTokens)),
        el("td", { class: "num" }, count(m.outputTokens))))));
  }
  return table;
}

function costView(entries) {
  return el("table", { class: "kv" }, entries.map((c) => el("tr", {},
    el("th", {}, cost([c])), el("td", { class: "muted cost-source" }, sourceText(c.source)))));
}

function sourceText(source) {
  if (!source) return "sent as a plain cost";
  if (source === "reported") return "reported by the client";
  if (source.startsWith("price_table:")) return `from token usage at ${source.slice(12)} prices`;
  return source;
}

function eventsView(events) {
  return el("ol", { class: "events" }, events.map((e) => el("li", {},
    el("div", { class: "event-head" }, el("code", {}, e.name), el("span", { class: "muted" }, `${fullTime(e.timestamp)} · ${e.source}`)),
    e.payload !== null && e.payload !== undefined ? el("details", { class: "json" }, el("summary", {}, "payload"), value(e.payload, OPEN_DEPTH)) : null)));
}
