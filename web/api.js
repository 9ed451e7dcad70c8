// The viewer's only way to the server: GraphQL over HTTP (POST /graphql) and subscriptions over one
// websocket speaking graphql-transport-ws. The API key lives in the `vai_token` cookie, which the server
// accepts like the X-API-Key header; the websocket also sends it in connection_init.

const COOKIE = "vai_token";
const ENDPOINT = "/graphql";

export class AuthError extends Error {}

export class RequestError extends Error {
  constructor(message, code, extensions = {}) {
    super(message);
    this.code = code;
    this.extensions = extensions;
  }
}

export function apiKey() {
  for (const pair of document.cookie.split(";")) {
    const [name, ...rest] = pair.trim().split("=");
    if (name === COOKIE) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export function saveKey(key) {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${COOKIE}=${encodeURIComponent(key)}; Path=/; Max-Age=2592000; SameSite=Strict${secure}`;
}

export function forgetKey() {
  document.cookie = `${COOKIE}=; Path=/; Max-Age=0; SameSite=Strict`;
}

// One GraphQL operation over HTTP; resolves to `data`, throws AuthError (401/403) or RequestError.
export async function gql(query, variables = {}, { signal } = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new RequestError(`The server could not be reached (${error.message}).`, "NETWORK");
  }
  if (response.status === 401 || response.status === 403) {
    const body = await response.json().catch(() => ({}));
    throw new AuthError(body.detail || `The server refused the API key (HTTP ${response.status}).`);
  }
  const body = await response.json().catch(() => null);
  if (body === null) throw new RequestError(`The server answered HTTP ${response.status}.`, "HTTP");
  if (body.errors?.length) {
    const first = body.errors[0];
    const code = first.extensions?.code;
    if (code === "UNAUTHENTICATED" || code === "FORBIDDEN") throw new AuthError(first.message);
    throw new RequestError(body.errors.map((e) => e.message).join("; "), code, first.extensions || {});
  }
  return body.data;
}

// graphql-transport-ws over one socket, shared by every subscription of the page. A dropped socket is
// opened again with a growing delay and each subscription is sent again with fresh variables (the
// execution page passes its last cursor as `after`, so nothing is missed or repeated).
export class Live {
  constructor() {
    this.socket = null;
    this.subs = new Map();
    this.nextId = 1;
    this.attempt = 0;
    this.acked = false;
    this.timer = null;
    this.listeners = new Set();
    this.state = "idle";
  }

  onState(listener) {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  setState(state) {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  // sub: { query, variables: () => object, next(data), error(message), resumed() }
  subscribe(sub) {
    const id = String(this.nextId++);
    this.subs.set(id, sub);
    if (this.acked) this.send(id, sub);
    else this.connect();
    return () => {
      if (!this.subs.delete(id)) return;
      if (this.acked) this.socket.send(JSON.stringify({ id, type: "complete" }));
      if (this.subs.size === 0) this.close();
    };
  }

  close() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, "done");
    }
    this.acked = false;
    this.setState("idle");
  }

  // Closes the socket as a network failure would (tests and the "reconnect" button use it).
  drop() {
    if (this.socket) this.socket.close(4000, "dropped by the page");
  }

  connect() {
    if (this.socket || this.timer) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${ENDPOINT}`;
    const socket = new WebSocket(url, "graphql-transport-ws");
    this.socket = socket;
    this.setState(this.attempt ? "reconnecting" : "connecting");
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: { apiKey: apiKey() } }));
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (event) => this.closed(socket, event);
  }

  receive(message) {
    if (message.type === "connection_ack") {
      this.acked = true;
      const resumed = this.attempt > 0;
      this.attempt = 0;
      this.setState("live");
      // A snapshot: `resumed` may replace its subscription (which subscribe() then sends itself).
      for (const [id, sub] of [...this.subs]) {
        if (resumed) sub.resumed?.();
        if (this.subs.get(id) === sub) this.send(id, sub);
      }
    } else if (message.type === "ping") {
      this.socket?.send(JSON.stringify({ type: "pong" }));
    } else if (message.type === "next") {
      const sub = this.subs.get(message.id);
      if (!sub) return;
      if (message.payload.errors?.length) sub.error?.(message.payload.errors.map((e) => e.message).join("; "));
      else sub.next(message.payload.data);
    } else if (message.type === "error") {
      this.subs.get(message.id)?.error?.(message.payload.map((e) => e.message).join("; "));
    }
  }

  send(id, sub) {
    this.socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: sub.query, variables: sub.variables() } }));
  }

  closed(socket, event) {
    if (socket !== this.socket) return; // closed on purpose
    this.socket = null;
    this.acked = false;
    if (event.code === 4403 || event.code === 4401) {
      this.setState("refused");
      return;
    }
    if (this.subs.size === 0) {
      this.setState("idle");
      return;
    }
    const delay = Math.min(10_000, 300 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.setState("reconnecting");
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}

export const live = new Live();
