// The console as a client of the public API, like any app: REST with a short-lived access token
// minted for this page (POST /admin/console/token with the session's CSRF token), and one /ws/ socket
// signed in by the console session, which reconnects by itself and lets the page catch up by seq.
window.Console = (function () {
  "use strict";

  const tokenUrl = () => document.querySelector("meta[name=console-token-url]").content;
  const csrf = () => {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  };

  class ApiError extends Error {
    constructor(status, error) {
      super(error.message);
      this.status = status;
      this.code = error.code;
      this.details = error.details || {};
    }
  }

  // The token lives in this closure only (never in storage or a URL); a new one is minted before expiry.
  let token = null;
  let tokenExpires = 0;
  let minting = null;

  async function mint() {
    const response = await fetch(tokenUrl(), {method: "POST", headers: {"X-CSRFToken": csrf()}, credentials: "same-origin"});
    const body = response.ok ? await response.json().catch(() => null) : null;
    if (!body || !body.access) {
      throw new ApiError(response.status, {code: "signed_out", message: "Your console session has ended: sign in again."});
    }
    token = body.access;
    tokenExpires = Date.now() + Math.max(body.expires_in - 30, 10) * 1000;
    return token;
  }

  function accessToken(renew) {
    if (!renew && token && Date.now() < tokenExpires) return Promise.resolve(token);
    if (!minting) minting = mint().finally(() => { minting = null; });
    return minting;
  }

  async function request(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const headers = {Authorization: `Bearer ${await accessToken(attempt > 0)}`, Accept: "application/json"};
      const init = {method, headers, credentials: "omit"};
      if (body instanceof FormData) {
        init.body = body;
      } else if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      let response;
      try {
        response = await fetch(path, init);
      } catch (error) {
        throw new ApiError(0, {code: "offline", message: "The server cannot be reached. Check the connection and try again."});
      }
      if (response.status === 401 && attempt === 0) continue;  // expired token: mint a new one, once
      return response;
    }
  }

  async function api(method, path, body) {
    const response = await request(method, path, body);
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, (data && data.error) || {code: `http_${response.status}`, message: `The server answered ${response.status}.`});
    }
    return data;
  }

  // A file behind an authorised URL, as a blob: URL the page can show (<img>) or save.
  async function fileUrl(path) {
    const response = await request("GET", path);
    if (!response.ok) throw new ApiError(response.status, {code: "file", message: "The file cannot be opened."});
    return URL.createObjectURL(await response.blob());
  }

  class LiveSocket {
    // onOpen(reconnected) runs on every (re)connection: join conversations, catch up with after=<seq>.
    constructor({onEvent, onOpen, onState}) {
      this.onEvent = onEvent || (() => {});
      this.onOpen = onOpen || (() => {});
      this.onState = onState || (() => {});
      this.delay = 500;
      this.opened = 0;
      this.counter = 0;
      this.pending = new Map();
      this.connect();
    }

    connect() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const ws = this.ws = new WebSocket(`${scheme}://${location.host}/ws/`);
      this.onState("connecting");
      ws.onopen = () => {
        this.delay = 500;
        this.onState("live");
        this.ping = setInterval(() => this.notify("ping"), 20000);
        this.onOpen(this.opened++ > 0);
      };
      ws.onmessage = (frame) => {
        let parsed;
        try { parsed = JSON.parse(frame.data); } catch (error) { return; }
        const {event, data, id} = parsed;
        if (id !== undefined && this.pending.has(id)) {
          const {resolve, reject} = this.pending.get(id);
          this.pending.delete(id);
          if (event === "error") reject(new ApiError(0, data)); else resolve(data);
          return;
        }
        this.onEvent(event, data || {});
      };
      ws.onclose = (closed) => {
        clearInterval(this.ping);
        for (const {reject} of this.pending.values()) reject(new ApiError(0, {code: "offline", message: "Disconnected."}));
        this.pending.clear();
        this.onState(closed.code === 4401 ? "signed-out" : "offline");
        setTimeout(() => this.connect(), this.delay);
        this.delay = Math.min(this.delay * 2, 15000);
      };
    }

    get open() { return this.ws && this.ws.readyState === WebSocket.OPEN; }

    send(event, data) {  // with an id: resolves with the ack's data, rejects with the error frame
      if (!this.open) return Promise.reject(new ApiError(0, {code: "offline", message: "Not connected."}));
      const id = `c${++this.counter}`;
      this.ws.send(JSON.stringify({event, data: data || {}, id}));
      return new Promise((resolve, reject) => {
        this.pending.set(id, {resolve, reject});
        setTimeout(() => { if (this.pending.delete(id)) reject(new ApiError(0, {code: "timeout", message: "No answer."})); }, 15000);
      });
    }

    notify(event, data) {  // fire and forget (typing, ping)
      if (this.open) this.ws.send(JSON.stringify({event, data: data || {}}));
    }
  }

  const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);
  const personName = (user) => (user ? (`${user.first_name || ""} ${user.last_name || ""}`.trim() || user.email) : "System");
  // Times as the console writes them everywhere (console/templatetags/console_time.py writes the server's
  // rows the same way): in the page's office time zone, never the browser's; "14:05" today, "3 Mar, 14:05"
  // this year, "3 Mar 2030, 14:05" before.
  const pageZone = () => (document.querySelector("meta[name=console-timezone]") || {}).content || "UTC";
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  let clockParts = null;
  function inZone(date) {
    clockParts = clockParts || new Intl.DateTimeFormat("en-GB", {
      timeZone: pageZone(), year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23"});
    return Object.fromEntries(clockParts.formatToParts(date).map((part) => [part.type, part.value]));
  }
  function timeText(iso) {
    const at = inZone(new Date(iso));
    const now = inZone(new Date());
    const clock = `${at.hour}:${at.minute}`;
    if (at.year === now.year && at.month === now.month && at.day === now.day) return clock;
    const day = `${Number(at.day)} ${MONTHS[Number(at.month) - 1]}`;
    return at.year === now.year ? `${day}, ${clock}` : `${day} ${at.year}, ${clock}`;
  }

  function stateLabel(element, state) {
    if (!element) return;
    element.className = `live-state ${state === "live" ? "live" : state === "connecting" ? "" : "offline"}`;
    element.textContent = {live: "live", connecting: "connecting…", offline: "reconnecting…",
                           "signed-out": "signed out: sign in again"}[state] || state;
    element.dataset.state = state;
  }

  return {api, fileUrl, ApiError, LiveSocket, uuid, personName, timeText, pageZone, stateLabel};
})();
