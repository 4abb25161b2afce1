// Portcullis approvals page: plain JavaScript, no build step, no external code.
//
// The approver pastes an OIDC access token; it is kept in sessionStorage (this tab only)
// and sent as `Authorization: Bearer` to the approvals API. Live updates come from
// GET /v1/holds/events (server-sent events) read with fetch() rather than EventSource,
// because EventSource cannot send headers and the token must not go into a URL.
// Every value from the API is inserted with textContent, never as HTML.
"use strict";

(() => {
  const TOKEN_KEY = "portcullis.approvals.token";
  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY) || "";
  let me = null; // claims of the token (display only: the server verifies it)
  let holds = []; // inbox rows, with `deadline` (local ms)
  let selected = null; // id of the hold shown in the detail view
  let detail = null; // that hold, with `deadline`
  let stream = null; // AbortController of the live stream
  let retryDelay = 1000;
  let refreshTimer = null;
  const fresh = new Set(); // ids changed by the live feed, highlighted once

  // ---------- helpers ----------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === "testid") node.setAttribute("data-testid", value);
      else if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-") || key.startsWith("aria-") || key === "title" || key === "datetime" || key === "tabindex") node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) {
      if (child !== undefined && child !== null) node.append(child);
    }
    return node;
  }

  function decodeClaims(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const padded = part + "===".slice((part.length + 3) % 4);
      const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (_) {
      return null;
    }
  }

  function timeLeft(deadline) {
    const ms = deadline - Date.now();
    if (ms <= 0) return "expired";
    const s = Math.ceil(ms / 1000);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
    return `${s}s`;
  }

  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  }

  function badge(status, testid) {
    return el("span", { class: `badge ${status}`, testid, text: status, "data-status": status });
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  class ApiError extends Error {
    constructor(status, message, problems) {
      super(message);
      this.status = status;
      this.problems = problems || [];
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(response.status, error.message || `${response.status} ${response.statusText}`, error.problems);
    }
    return data;
  }

  function explain(error) {
    if (error.problems && error.problems.length) {
      return error.problems.map((p) => `${p.path}: ${p.message}`).join("; ");
    }
    if (error.status === 401) return `Your token was refused: ${error.message}. Paste a fresh one.`;
    return error.message;
  }

  // ---------- sign-in ----------

  function renderSession() {
    me = token ? decodeClaims(token) : null;
    $("token").value = token;
    $("signin").classList.toggle("signed-in", Boolean(token));
    if (me && me.sub) {
      const groups = Array.isArray(me.groups) ? me.groups.join(", ") : me.groups || "";
      const expires = me.exp ? `, token until ${new Date(me.exp * 1000).toLocaleTimeString()}` : "";
      $("who").textContent = `${me.sub}${groups ? ` (${groups})` : ""}${expires}`;
    } else {
      $("who").textContent = token ? "token set" : "not signed in";
    }
  }

  function signIn(event) {
    event.preventDefault();
    token = $("token").value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    showError("");
    renderSession();
    start();
  }

  function signOut() {
    token = "";
    sessionStorage.removeItem(TOKEN_KEY);
    if (stream) stream.abort();
    stream = null;
    setLive("off", "offline");
    holds = [];
    selected = null;
    detail = null;
    renderSession();
    renderInbox();
    renderGrants([]);
    $("grant-message").textContent = "";
    $("detail").hidden = true;
  }

  // ---------- inbox ----------

  function filterParams() {
    const params = new URLSearchParams();
    params.set("status", $("filter-status").value);
    for (const [name, id] of [["target", "filter-target"], ["subject", "filter-subject"], ["rule", "filter-rule"]]) {
      const value = $(id).value.trim();
      if (value) params.set(name, value);
    }
    return params;
  }

  async function loadInbox() {
    if (!token) return;
    try {
      const data = await api("GET", `/v1/holds?${filterParams()}`);
      const now = Date.now();
      holds = data.holds.map((hold) => ({ ...hold, deadline: now + hold.expires_in_ms }));
      showError("");
      renderInbox();
    } catch (error) {
      showError(explain(error));
    }
    loadGrants();
  }

  // ---------- just-in-time grants ----------

  async function loadGrants() {
    if (!token) return;
    try {
      const data = await api("GET", "/v1/grants");
      renderGrants(data.grants);
    } catch (error) {
      $("grant-message").textContent = explain(error);
    }
  }

  function grantRow(grant) {
    const reason = el("input", { type: "text", class: "grant-reason", testid: "grant-reason", placeholder: "why it ends early", "aria-label": `Reason to revoke ${grant.id}` });
    const revoke = el("button", { type: "button", class: "deny", testid: "revoke-button", text: "Revoke" });
    revoke.addEventListener("click", async () => {
      revoke.disabled = true;
      const body = {};
      if (reason.value.trim()) body.reason = reason.value.trim();
      try {
        await api("POST", `/v1/grants/${encodeURIComponent(grant.id)}/revoke`, body);
        $("grant-message").textContent = `Grant ${grant.id} revoked: ${grant.subject}'s next matching request waits for an approver.`;
      } catch (error) {
        $("grant-message").textContent = explain(error);
      }
      loadGrants();
    });
    return el(
      "li",
      { testid: "grant-row", "data-grant-id": grant.id },
      el("span", { text: `${grant.subject} · rule ${grant.rule} · until ` }),
      el("time", { datetime: grant.expires_at, text: when(grant.expires_at) }),
      el("span", { class: "muted", text: ` · granted by ${grant.granted_by}` }),
      reason,
      revoke,
    );
  }

  function renderGrants(grants) {
    $("grant-rows").replaceChildren(...grants.map(grantRow));
    $("grants-empty").hidden = grants.length > 0;
  }

  function row(hold) {
    const tr = el(
      "tr",
      { testid: "hold-row", "data-hold-id": hold.id, "data-status": hold.status, tabindex: "0" },
      el("td", {}, el("span", { text: hold.subject }), el("span", { class: "sub mono", text: `${hold.method} ${hold.path}` })),
      el("td", { text: hold.target }),
      el("td", { text: hold.rules.join(", ") }),
      el("td", {}, el("time", { datetime: hold.created_at, text: when(hold.created_at) })),
      el("td", { class: "left", "data-deadline": String(hold.deadline), testid: "row-time-left", text: hold.status === "pending" ? timeLeft(hold.deadline) : "—" }),
      el("td", {}, badge(hold.status, "row-status")),
    );
    if (hold.id === selected) tr.classList.add("selected");
    if (fresh.has(hold.id)) tr.classList.add("fresh");
    tr.addEventListener("click", () => select(hold.id));
    tr.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(hold.id);
      }
    });
    return tr;
  }

  function renderInbox() {
    $("rows").replaceChildren(...holds.map(row));
    fresh.clear();
    $("empty").hidden = holds.length > 0 || !token;
    $("count").textContent = token ? `${holds.length} shown` : "";
  }

  // ---------- detail ----------

  async function select(id) {
    selected = id;
    if (location.hash !== `#hold=${id}`) history.replaceState(null, "", `#hold=${encodeURIComponent(id)}`);
    for (const tr of $("rows").children) tr.classList.toggle("selected", tr.getAttribute("data-hold-id") === id);
    $("reason").value = "";
    $("grant").value = "";
    setMessage("", "");
    await loadDetail();
  }

  async function loadDetail() {
    if (!selected || !token) return;
    try {
      const data = await api("GET", `/v1/holds/${encodeURIComponent(selected)}`);
      detail = { ...data, deadline: Date.now() + data.expires_in_ms };
      renderDetail();
    } catch (error) {
      showError(explain(error));
    }
  }

  function renderDetail() {
    const d = detail;
    $("detail").hidden = !d;
    if (!d) return;
    $("detail").setAttribute("data-hold-id", d.id);
    $("d-title").textContent = `Hold ${d.id}`;
    const status = $("d-status");
    status.textContent = d.status;
    status.className = `badge ${d.status}`;
    status.setAttribute("data-status", d.status);

    const who = d.identity;
    const extra = [who.groups.length ? `groups: ${who.groups.join(", ")}` : null, `provider: ${who.provider}`, who.client_id ? `client: ${who.client_id}` : null].filter(Boolean);
    $("d-identity").replaceChildren(el("strong", { text: who.subject }), el("span", { class: "sub muted", text: ` — ${extra.join(" · ")}` }));
    $("d-target").textContent = d.target;
    $("d-request").replaceChildren(el("span", { class: "mono", text: `${d.method} ${d.path}` }), d.model ? el("span", { class: "muted", text: ` · model ${d.model}` }) : null);
    $("d-created").replaceChildren(el("time", { datetime: d.created_at, text: when(d.created_at) }));
    updateDetailClock();

    const q = d.quorum;
    const reqs = q.requirements || [];
    let quorum;
    if (reqs.length > 1 || reqs.some((r) => r.rules.length)) {
      // The hold's rules ask for their own approvers: one line per requirement.
      quorum = reqs
        .map((r) => `${r.approvals} of ${r.quorum} from ${r.approver_groups.join(" or ") || "nobody"}${r.rules.length ? ` (rule ${r.rules.join(", ")})` : ""}`)
        .join("; ");
    } else {
      quorum = `${q.approvals} of ${q.required} approval${q.required === 1 ? "" : "s"}`;
    }
    if (q.groups.length) quorum += `; needs a member of ${q.groups.join(" and ")}`;
    if (q.missing_groups.length && d.status === "pending") quorum += ` (still missing: ${q.missing_groups.join(", ")})`;
    $("d-quorum").textContent = quorum;

    const decided = d.decided_at ? `${d.status} by ${d.decided_by || "?"} at ${when(d.decided_at)}${d.decision_reason ? ` — ${d.decision_reason}` : ""}` : "not yet";
    $("d-decided").textContent = decided;

    $("d-rules").replaceChildren(
      ...d.rules.map((rule) =>
        el("li", {}, el("strong", { class: "mono", text: rule.rule }), rule.pack ? el("span", { class: "muted", text: ` (${rule.pack})` }) : null, rule.message ? el("span", { text: ` — ${rule.message}` }) : null),
      ),
    );
    $("d-reason").textContent = d.reason || "—";
    $("d-excerpt").textContent = d.excerpt || "(no excerpt)";

    $("d-decisions").replaceChildren(
      ...(d.decisions.length
        ? d.decisions.map((v) =>
            el(
              "li",
              { "data-decision": v.decision },
              el("strong", { text: v.approver }),
              el("span", { text: v.decision === "approve" ? " approved" : " denied" }),
              v.grant_minutes ? el("span", { text: ` (grant ${v.grant_minutes} min)` }) : null,
              v.reason ? el("span", { text: ` — ${v.reason}` }) : null,
              el("span", { text: " · " }),
              el("time", { datetime: v.decided_at, text: when(v.decided_at) }),
            ),
          )
        : [el("li", { class: "muted", text: "none yet" })]),
    );
    $("d-events").replaceChildren(
      ...d.events.map((e) =>
        el(
          "li",
          { "data-kind": e.kind },
          el("time", { datetime: e.at, text: when(e.at) }),
          el("span", { text: ` ${e.kind.replace("_", " ")} by ` }),
          el("strong", { text: e.actor }),
          e.reason ? el("span", { text: ` — ${e.reason}` }) : null,
        ),
      ),
    );

    // Who may decide: approvers, on pending holds that are not their own.
    const own = me && me.sub && me.sub === who.subject;
    const alreadyVoted = me && me.sub && d.decisions.some((v) => v.approver === me.sub);
    let note = "";
    if (d.status !== "pending") note = `This hold is ${d.status}.`;
    else if (own) note = "This is your own hold: another approver must decide it.";
    else if (alreadyVoted) note = "You already voted on this hold.";
    $("decide-note").textContent = note;
    $("decide-note").hidden = !note;
    const closed = Boolean(note);
    for (const id of ["reason", "grant", "approve", "deny"]) $(id).disabled = closed;
  }

  function updateDetailClock() {
    if (!detail) return;
    const left = $("d-left");
    if (detail.status === "pending") {
      left.textContent = timeLeft(detail.deadline);
      left.classList.toggle("urgent", detail.deadline - Date.now() < 60000);
    } else {
      left.textContent = "—";
      left.classList.remove("urgent");
    }
  }

  function setMessage(text, kind) {
    const message = $("decision-message");
    message.textContent = text;
    message.className = `message ${kind || ""}`;
  }

  async function decide(verb) {
    if (!detail) return;
    const body = {};
    const reason = $("reason").value.trim();
    if (reason) body.reason = reason;
    const grant = $("grant").value.trim();
    if (verb === "approve" && grant) body.grant_minutes = Number(grant);
    for (const id of ["approve", "deny"]) $(id).disabled = true;
    setMessage(verb === "approve" ? "Approving…" : "Denying…", "");
    try {
      const data = await api("POST", `/v1/holds/${encodeURIComponent(detail.id)}/${verb}`, body);
      detail = { ...data, deadline: Date.now() + data.expires_in_ms };
      $("reason").value = "";
      $("grant").value = "";
      renderDetail();
      if (data.status === "pending") {
        // One approver may count for several requirements (groups overlap),
        // so the largest shortfall is what is surely still needed; the
        // detail lists each requirement's progress.
        const reqs = data.quorum.requirements || [];
        const shortfalls = reqs.length ? reqs.map((r) => Math.max(0, r.quorum - r.approvals)) : [Math.max(0, data.quorum.required - data.quorum.approvals)];
        const needed = Math.max(0, ...shortfalls);
        const more = needed ? `at least ${needed} more approval${needed > 1 ? "s" : ""}` : "a member of a missing group";
        setMessage(`Your approval is recorded; ${more} needed.`, "ok");
      } else {
        setMessage(`The hold is ${data.status}.`, "ok");
      }
      loadInbox();
    } catch (error) {
      setMessage(explain(error), "fail");
      renderDetail();
    }
  }

  // ---------- live updates ----------

  function setLive(state, text) {
    const live = $("live");
    live.setAttribute("data-state", state);
    live.textContent = text;
  }

  // Coalesces the refreshes of a burst of changes into one.
  let refreshDetail = false;
  function scheduleRefresh(id) {
    if (id) fresh.add(id);
    if (!id || id === selected) refreshDetail = true;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      loadInbox();
      if (refreshDetail) loadDetail();
      refreshDetail = false;
    }, 150);
  }

  function handleEvent(block) {
    let type = "message";
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") type = value;
      else if (field === "data") data += (data ? "\n" : "") + value;
    }
    if (type === "ready") {
      retryDelay = 1000;
      setLive("live", "live");
    } else if (type === "hold") {
      let id = null;
      try {
        id = JSON.parse(data).id || null;
      } catch (_) {
        id = null;
      }
      scheduleRefresh(id);
    } else if (type === "resync") {
      scheduleRefresh(null);
    }
  }

  async function connect() {
    if (stream) stream.abort();
    if (!token) return;
    const controller = new AbortController();
    stream = controller;
    setLive("connecting", "connecting…");
    try {
      const response = await fetch("/v1/holds/events", {
        headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
        cache: "no-store",
        signal: controller.signal,
      });
      if (response.status === 401 || response.status === 403) {
        let message = `${response.status}`;
        try {
          message = (await response.json()).error.message;
        } catch (_) {
          /* keep the status */
        }
        setLive("off", "offline");
        showError(response.status === 401 ? `Your token was refused: ${message}. Paste a fresh one.` : message);
        if (stream === controller) stream = null;
        return;
      }
      if (!response.ok || !response.body) throw new Error(`live updates answered ${response.status}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          handleEvent(block);
        }
      }
    } catch (_) {
      if (controller.signal.aborted) return;
    }
    if (stream !== controller) return;
    // The stream ended (network, restart, or the token expired): try again, slower each time.
    setLive("reconnecting", "reconnecting…");
    const delay = retryDelay;
    retryDelay = Math.min(retryDelay * 2, 30000);
    setTimeout(() => {
      if (stream === controller) {
        loadInbox();
        connect();
      }
    }, delay);
  }

  // ---------- start ----------

  function start() {
    if (!token) {
      setLive("off", "offline");
      renderInbox();
      return;
    }
    loadInbox();
    connect();
    const match = /^#hold=(.+)$/.exec(location.hash);
    if (match) select(decodeURIComponent(match[1]));
  }

  function tick() {
    for (const cell of document.querySelectorAll("#rows td.left")) {
      const tr = cell.parentElement;
      if (tr.getAttribute("data-status") !== "pending") continue;
      const deadline = Number(cell.getAttribute("data-deadline"));
      cell.textContent = timeLeft(deadline);
      cell.classList.toggle("urgent", deadline - Date.now() < 60000);
    }
    updateDetailClock();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("token-form").addEventListener("submit", signIn);
    $("token-clear").addEventListener("click", signOut);
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      loadInbox();
    });
    $("filter-status").addEventListener("change", loadInbox);
    $("approve").addEventListener("click", () => decide("approve"));
    $("deny").addEventListener("click", () => decide("deny"));
    $("decide").addEventListener("submit", (event) => event.preventDefault());
    window.addEventListener("hashchange", () => {
      const match = /^#hold=(.+)$/.exec(location.hash);
      if (match && decodeURIComponent(match[1]) !== selected) select(decodeURIComponent(match[1]));
    });
    setInterval(tick, 1000);
    renderSession();
    start();
  });
})();
