// The waterfall: one row per visible span (indented by depth, collapsible) with its time bar on the
// execution's time axis. Rows are virtualized: only those in the viewport (plus a margin) are in the
// DOM, so 50,000 spans cost what 60 do.

import { duration, el } from "./format.js";

export const ROW_HEIGHT = 26;
const OVERSCAN = 12;
const INDENT = 14;

export class Waterfall {
  constructor(container, tree, { onSelect, onScroll }) {
    this.tree = tree;
    this.onSelect = onSelect;
    this.onScroll = onScroll;
    this.rows = [];
    this.selected = null;
    this.frame = 0;
    this.axis = el("div", { class: "wf-axis" }, el("div", { class: "wf-axis-label" }, "Span"), el("div", { class: "wf-ticks" }));
    this.spacer = el("div", { class: "wf-spacer" });
    this.layer = el("div", { class: "wf-rows", role: "tree", "aria-label": "Spans" });
    this.scroller = el("div", { class: "wf-scroll", tabindex: "0" }, this.spacer, this.layer);
    container.replaceChildren(this.axis, this.scroller);
    this.scroller.addEventListener("scroll", () => this.schedule());
    this.scroller.addEventListener("click", (event) => this.clicked(event));
    this.scroller.addEventListener("keydown", (event) => this.key(event));
    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(this.scroller);
  }

  destroy() {
    this.resize.disconnect();
    cancelAnimationFrame(this.frame);
  }

  // The tree changed (loaded, toggled, grew): flatten again and draw.
  refresh() {
    this.rows = this.tree.rows();
    this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.drawTicks();
    this.draw();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  span() {
    const t0 = this.tree.t0;
    const running = this.tree.nodes.size && [...this.tree.roots].some((r) => r.end === null);
    const t1 = Math.max(this.tree.t1, running ? Date.now() : this.tree.t1);
    return [t0, Math.max(t1 - t0, 1)];
  }

  draw() {
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const [t0, width] = this.span();
    const now = Date.now();
    const fragment = document.createDocumentFragment();
    for (let i = first; i < last; i++) fragment.append(this.row(this.rows[i], i, t0, width, now));
    this.layer.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    this.layer.replaceChildren(fragment);
    this.onScroll?.(this.visibleRange(top, height));
  }

  visibleRange(top, height) {
    const first = Math.floor(top / ROW_HEIGHT);
    const last = Math.min(this.rows.length - 1, Math.floor((top + height) / ROW_HEIGHT));
    const pick = (i, step) => {
      for (; i >= 0 && i < this.rows.length; i += step) if (this.rows[i].node) return this.rows[i].node;
      return null;
    };
    return [pick(first, 1), pick(last, -1)];
  }

  row(row, index, t0, width, now) {
    const pad = `${8 + row.depth * INDENT}px`;
    if (row.more !== undefined) {
      return el("div", { class: "wf-row wf-more", "data-more": row.more, style: `height:${ROW_HEIGHT}px` },
        el("div", { class: "wf-label", style: `padding-left:${pad}` },
          el("button", { class: "link", type: "button" }, `+${row.hidden.toLocaleString("en-US")} more`)),
        el("div", { class: "wf-track" }));
    }
    const node = row.node;
    const hasChildren = node.children.length > 0;
    const collapsed = this.tree.collapsed.has(node.id);
    const end = node.end ?? now;
    const left = ((node.start - t0) / width) * 100;
    const barWidth = Math.max(((end - node.start) / width) * 100, 0.15);
    const status = (node.status || "").toLowerCase();
    // The duration sits after the bar, inside a long bar that reaches the right edge, else before it.
    const place = left + barWidth <= 85 ? "after" : barWidth >= 12 ? "inside" : "before";
    const placeStyle = place === "after" ? `left:${left + barWidth + 0.5}%`
      : place === "inside" ? `right:${100 - left - barWidth + 0.5}%` : `right:${100 - left + 0.5}%`;
    const toggle = hasChildren
      ? el("button", { class: "wf-toggle", type: "button", "aria-label": collapsed ? "expand" : "collapse" }, collapsed ? "▸" : "▾")
      : el("span", { class: "wf-toggle-space" });
    return el("div", { class: `wf-row${node.id === this.selected ? " selected" : ""}`, "data-id": node.id, role: "treeitem",
      "aria-selected": node.id === this.selected ? "true" : "false", "aria-level": row.depth + 1,
      "aria-expanded": hasChildren ? String(!collapsed) : null, style: `height:${ROW_HEIGHT}px`, "data-index": index },
      el("div", { class: "wf-label", style: `padding-left:${pad}`, title: node.name },
        toggle, el("span", { class: `dot status-${status}` }), el("span", { class: "wf-name" }, node.name),
        hasChildren && collapsed ? el("span", { class: "wf-count" }, String(node.children.length)) : null,
        el("span", { class: "wf-kind" }, (node.kind || "").toLowerCase())),
      el("div", { class: "wf-track" },
        el("div", { class: `wf-bar status-${status}${node.end === null ? " running" : ""}`,
          style: `left:${left}%;width:${barWidth}%` }),
        el("span", { class: `wf-dur${place === "inside" ? " inside" : ""}`, style: placeStyle },
          node.end === null ? "running" : duration(node.end - node.start))));
  }

  drawTicks() {
    const ticks = this.axis.lastChild;
    if (!this.tree.nodes.size) return ticks.replaceChildren();
    const [, width] = this.span();
    const step = niceStep(width / 5);
    const marks = [];
    for (let t = 0; t <= width; t += step) {
      marks.push(el("span", { class: "wf-tick", style: `left:${(t / width) * 100}%` }, t === 0 ? "0" : duration(t)));
    }
    ticks.replaceChildren(...marks);
  }

  clicked(event) {
    const more = event.target.closest(".wf-more");
    if (more) {
      this.tree.showMore(more.dataset.more);
      this.refresh();
      return;
    }
    const rowEl = event.target.closest(".wf-row");
    if (!rowEl) return;
    if (event.target.closest(".wf-toggle")) {
      this.tree.toggle(rowEl.dataset.id);
      this.refresh();
      return;
    }
    this.select(rowEl.dataset.id);
  }

  key(event) {
    const index = this.rows.findIndex((r) => r.node?.id === this.selected);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      for (let i = index + step; i >= 0 && i < this.rows.length; i += step) {
        if (this.rows[i].node) {
          this.select(this.rows[i].node.id, { scroll: true });
          break;
        }
      }
      event.preventDefault();
    } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && this.selected) {
      const collapsed = this.tree.collapsed.has(this.selected);
      if ((event.key === "ArrowLeft") !== collapsed) {
        this.tree.toggle(this.selected);
        this.refresh();
      }
      event.preventDefault();
    }
  }

  select(id, { scroll = false } = {}) {
    if (!this.tree.nodes.has(id)) return;
    this.selected = id;
    this.tree.reveal(id);
    this.refresh();
    if (scroll) this.scrollTo(id);
    this.onSelect(id);
  }

  scrollTo(id) {
    const index = this.rows.findIndex((r) => r.node?.id === id);
    if (index < 0) return;
    const top = index * ROW_HEIGHT;
    const height = this.scroller.clientHeight;
    if (top < this.scroller.scrollTop || top + ROW_HEIGHT > this.scroller.scrollTop + height) {
      this.scroller.scrollTop = Math.max(0, top - height / 3);
    }
    this.draw();
  }
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 2.5, 5, 10]) if (raw <= factor * power) return factor * power;
  return 10 * power;
}
