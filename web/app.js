// The viewer's entry: sign-in with an API key, the router (`/` lists executions, `/executions/<id>` shows
// one, `?span=<id>` selects a span) and the page frame. Every page is a function that renders into
// <main> and returns its cleanup.

import { AuthError, apiKey, forgetKey, gql, live, saveKey } from "./api.js";
import { renderExecution } from "./execution.js";
import { el } from "./format.js";
import { renderList } from "./list.js";

const main = document.getElementById("main");
const account = document.getElementById("account");
let cleanup = null;

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  route();
}

// A page calls this when the API refuses the key: back to the sign-in form, saying why.
export function refused(message) {
  forgetKey();
  route(`Signed out: ${message}`);
}

function route(notice = "") {
  cleanup?.();
  cleanup = null;
  main.replaceChildren();
  if (!apiKey()) {
    live.close();
    account.replaceChildren();
    renderSignIn(notice);
    return;
  }
  renderAccount();
  const match = location.pathname.match(/^\/executions\/([^/]+)\/?$/);
  const app = { navigate, refused };
  if (match) {
    const spanId = new URLSearchParams(location.search).get("span");
    cleanup = renderExecution(main, decodeURIComponent(match[1]), spanId, app);
  } else {
    cleanup = renderList(main, app);
  }
}

function renderAccount() {
  const dot = el("span", { class: "live-dot", title: "live updates" });
  const label = el("span", { class: "live-label" });
  live.onState((state) => {
    dot.dataset.state = state;
    label.textContent = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…", refused: "live updates refused" }[state] || "";
  });
  const signOut = el("button", { class: "ghost", id: "sign-out", type: "button", onclick: () => {
    forgetKey();
    live.close();
    navigate("/");
  } }, "Sign out");
  account.replaceChildren(el("span", { class: "live" }, dot, label), signOut);
}

function renderSignIn(notice) {
  const input = el("input", { id: "api-key", type: "password", autocomplete: "off", spellcheck: "false",
    placeholder: "th_…", required: true, "aria-label": "API key" });
  const message = el("p", { class: "signin-message", id: "signin-message", role: "alert" }, notice);
  const button = el("button", { type: "submit", class: "primary" }, "Sign in");
  const form = el("form", { class: "signin", onsubmit: async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    message.textContent = "Checking the key…";
    message.className = "signin-message";
    saveKey(key);
    try {
      await gql("query SignIn { executions(first: 1) { totalCount } }");
      route();
    } catch (error) {
      forgetKey();
      message.className = "signin-message error";
      message.textContent = error instanceof AuthError
        ? `That API key was not accepted: ${error.message}.`.replace("..", ".")
        : error.message;
      button.disabled = false;
      input.select();
    }
  } },
    el("h1", {}, "Sign in to Tracehouse"),
    el("p", { class: "muted" }, "Paste an API key with the read scope. It is kept in this browser as the ",
      el("code", {}, "vai_token"), " cookie until you sign out."),
    el("label", { for: "api-key" }, "API key"),
    input, button, message,
    el("p", { class: "muted small" }, "No key yet? ", el("code", {}, "tracehouse keys create --tenant NAME"),
      " prints one."));
  main.replaceChildren(form);
  input.focus();
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-nav]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", () => route());
// For the console (and the browser tests): `tracehouse.live.drop()` cuts the websocket as a network would.
window.tracehouse = { live };
route();
