// The minimap: every span of the execution (collapsed or not) drawn on one canvas, tree order top to
// bottom and time left to right, with the waterfall's viewport outlined. A click jumps to the span
// under the pointer.

const HEIGHT = 72;

export class Minimap {
  constructor(container, tree, { onPick }) {
    this.tree = tree;
    this.onPick = onPick;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "minimap-canvas";
    this.canvas.setAttribute("aria-label", "Minimap of every span");
    this.window = document.createElement("div");
    this.window.className = "minimap-window";
    container.replaceChildren(this.canvas, this.window);
    this.canvas.addEventListener("click", (event) => this.picked(event));
    this.resize = new ResizeObserver(() => this.draw());
    this.resize.observe(container);
    this.range = [null, null];
  }

  destroy() {
    this.resize.disconnect();
  }

  colors() {
    const style = getComputedStyle(this.canvas);
    const read = (name) => style.getPropertyValue(name).trim();
    return { SUCCEEDED: read("--bar-ok"), FAILED: read("--bar-failed"), RUNNING: read("--bar-running"),
      CANCELLED: read("--bar-cancelled"), background: read("--minimap-bg") };
  }

  draw() {
    const order = this.tree.order();
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, this.canvas.clientWidth);
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(HEIGHT * ratio);
    const ctx = this.canvas.getContext("2d");
    const colors = this.colors();
    ctx.fillStyle = colors.background;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!order.length) return;
    const w = this.canvas.width;
    const h = this.canvas.height;
    const t0 = this.tree.t0;
    const now = Date.now();
    const span = Math.max(1, Math.max(this.tree.t1, order.some((n) => n.end === null) ? now : 0) - t0);
    const rowHeight = Math.max(1, h / order.length);
    // One pass per status: a fill style change per span would cost more than the rectangles.
    for (const status of ["SUCCEEDED", "CANCELLED", "RUNNING", "FAILED"]) {
      ctx.fillStyle = colors[status] || colors.SUCCEEDED;
      for (let i = 0; i < order.length; i++) {
        const node = order[i];
        if (node.status !== status) continue;
        const x = ((node.start - t0) / span) * w;
        const end = node.end ?? now;
        ctx.fillRect(x, Math.floor((i / order.length) * h), Math.max(1, ((end - node.start) / span) * w), rowHeight);
      }
    }
    this.outline();
  }

  // The waterfall shows [first, last]: outline where they sit among all spans.
  show(first, last) {
    this.range = [first, last];
    this.outline();
  }

  outline() {
    const [first, last] = this.range;
    const total = this.tree.order().length;
    if (!first || !last || !total || first.index === undefined) {
      this.window.hidden = true;
      return;
    }
    this.window.hidden = false;
    const top = (first.index / total) * HEIGHT;
    const bottom = ((last.index + 1) / total) * HEIGHT;
    this.window.style.top = `${top}px`;
    this.window.style.height = `${Math.max(3, bottom - top)}px`;
  }

  picked(event) {
    const order = this.tree.order();
    if (!order.length) return;
    const rect = this.canvas.getBoundingClientRect();
    const index = Math.min(order.length - 1, Math.floor(((event.clientY - rect.top) / rect.height) * order.length));
    this.onPick(order[index].id);
  }
}
