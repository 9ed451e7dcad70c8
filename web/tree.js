// An execution's span tree as the waterfall needs it: built once from the skeleton (ids, parents, names,
// kinds, statuses, times), grown in place by live updates, and flattened into the rows on screen with
// collapsed spans hidden and wide levels cut to their first children plus a "+k more" row. Every walk
// is iterative: a trace may be a 50,000-deep chain.

export const WIDE = 50; // a level with more children than this is cut...
export const SHOWN = 20; // ...to this many first, then grows by MORE_STEP per click
export const MORE_STEP = 200;
const ROOT = ""; // the key of the roots' level

export class SpanTree {
  constructor() {
    this.nodes = new Map();
    this.roots = [];
    this.waiting = new Map(); // parent id not seen yet -> children parked among the roots
    this.collapsed = new Set();
    this.limits = new Map();
    this.t0 = Infinity;
    this.t1 = -Infinity;
    this.version = 0;
    this.cachedOrder = null;
  }

  static node(span) {
    return { id: span.id, parentId: span.parentId || null, name: span.name, kind: span.kind, status: span.status,
      start: Date.parse(span.startTime), end: span.endTime ? Date.parse(span.endTime) : null, children: [], parent: null };
  }

  // The skeleton in one pass: nodes, then links, then each family sorted once.
  load(spans) {
    for (const span of spans) {
      const node = SpanTree.node(span);
      this.nodes.set(node.id, node);
      this.extend(node);
    }
    for (const node of this.nodes.values()) this.link(node, false);
    for (const node of this.nodes.values()) if (node.children.length > 1) node.children.sort(byStart);
    this.roots.sort(byStart);
    this.changed();
  }

  // A live update: the span's merged state. Returns true when it is new.
  upsert(span) {
    const old = this.nodes.get(span.id);
    if (!old) {
      const node = SpanTree.node(span);
      this.nodes.set(node.id, node);
      this.extend(node);
      this.link(node, true);
      const parked = this.waiting.get(node.id);
      if (parked) {
        this.waiting.delete(node.id);
        for (const child of parked) {
          remove(this.roots, child);
          child.parent = node;
          insertSorted(node.children, child);
        }
      }
      this.changed();
      return true;
    }
    const fresh = SpanTree.node(span);
    const moved = fresh.parentId !== old.parentId || fresh.start !== old.start;
    Object.assign(old, { name: fresh.name, kind: fresh.kind, status: fresh.status, start: fresh.start, end: fresh.end });
    if (moved) {
      remove(old.parent ? old.parent.children : this.roots, old);
      old.parent = null;
      old.parentId = fresh.parentId;
      this.link(old, true);
    }
    this.extend(old);
    this.changed();
    return false;
  }

  link(node, sorted) {
    const parent = node.parentId ? this.nodes.get(node.parentId) : null;
    node.parent = parent || null;
    const family = parent ? parent.children : this.roots;
    if (sorted) insertSorted(family, node);
    else family.push(node);
    if (!parent && node.parentId) {
      if (!this.waiting.has(node.parentId)) this.waiting.set(node.parentId, []);
      this.waiting.get(node.parentId).push(node);
    }
  }

  extend(node) {
    if (node.start < this.t0) this.t0 = node.start;
    const end = node.end ?? node.start;
    if (end > this.t1) this.t1 = end;
  }

  changed() {
    this.version += 1;
    this.cachedOrder = null;
  }

  // The rows on screen: {node, depth} and {more: parentKey, hidden, depth}.
  rows() {
    const rows = [];
    const stack = [];
    const pushFamily = (key, children, depth) => {
      const limit = children.length > WIDE ? Math.min(children.length, this.limits.get(key) ?? SHOWN) : children.length;
      if (limit < children.length) stack.push({ more: key, hidden: children.length - limit, depth });
      for (let i = limit - 1; i >= 0; i--) stack.push({ node: children[i], depth });
    };
    pushFamily(ROOT, this.roots, 0);
    while (stack.length) {
      const row = stack.pop();
      rows.push(row);
      const node = row.node;
      if (node && node.children.length && !this.collapsed.has(node.id)) pushFamily(node.id, node.children, row.depth + 1);
    }
    return rows;
  }

  showMore(key) {
    const family = key === ROOT ? this.roots : this.nodes.get(key)?.children || [];
    this.limits.set(key, Math.min(family.length, (this.limits.get(key) ?? SHOWN) + MORE_STEP));
  }

  toggle(id) {
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
  }

  // Makes a span visible: its ancestors expanded and each level's cut far enough to include it.
  reveal(id) {
    let node = this.nodes.get(id);
    while (node) {
      const parent = node.parent;
      const family = parent ? parent.children : this.roots;
      const key = parent ? parent.id : ROOT;
      if (family.length > WIDE) {
        const index = family.indexOf(node);
        if (index >= (this.limits.get(key) ?? SHOWN)) this.limits.set(key, index + 1);
      }
      if (parent) this.collapsed.delete(parent.id);
      node = parent;
    }
  }

  // Every span in tree order, collapsed or not (the minimap's rows).
  order() {
    if (this.cachedOrder) return this.cachedOrder;
    const order = [];
    const stack = [...this.roots].reverse();
    while (stack.length) {
      const node = stack.pop();
      node.index = order.length;
      order.push(node);
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
    }
    this.cachedOrder = order;
    return order;
  }
}

function byStart(a, b) {
  return a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function insertSorted(family, node) {
  let lo = 0;
  let hi = family.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byStart(family[mid], node) <= 0) lo = mid + 1;
    else hi = mid;
  }
  family.splice(lo, 0, node);
}

function remove(family, node) {
  const index = family.indexOf(node);
  if (index >= 0) family.splice(index, 1);
}
