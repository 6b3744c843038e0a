import type { CrmClient, Schemas, SyncAnswer } from "./client.js";
import { Emitter } from "./emitter.js";
import { DisconnectedError, SignedOutError, SocketError, TimeoutError } from "./errors.js";
import type { AckData, ClientEvents, Message, ReadyData, ServerEvents } from "./generated/socket.js";
import { newId } from "./ids.js";

export type SocketState = "connecting" | "ready" | "waiting" | "closed";

export interface SocketOptions {
  /** A WebSocket constructor: the platform's by default (browsers, React Native, Node 22; Node 20 with
   * --experimental-websocket), or e.g. the `ws` package's. */
  WebSocket?: typeof WebSocket;
  /** Send `ping` this often (the server closes a socket silent for SOCKET_PING_TIMEOUT, 60 s). */
  pingIntervalMs?: number;
  /** An answer (ack or error) to a request must come within this (default 10 s). */
  ackTimeoutMs?: number;
  /** Reconnect delays: full jitter between 0 and min(maxDelayMs, initialDelayMs * 2^attempt). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Catch up after each reconnect with one `GET sync` (default), or per conversation with `after=<seq>`. */
  catchUp?: "sync" | "after" | false;
  /** A send not acknowledged this long while the socket is down goes over REST (same client_id). */
  restFallbackMs?: number;
  /** A send still unacknowledged after this long is rejected (default 5 min). */
  outboxTtlMs?: number;
  /** The last seq you hold per conversation (from your store), to catch up from on the first `ready`. */
  positions?: Record<number, number>;
  /** A sync cursor you stored, to catch up from on the first `ready`. */
  cursor?: string;
}

/** The socket's events: the server's (typed from the AsyncAPI document) and the client's own. */
export type SocketEvents = ServerEvents & {
  state: SocketState;
  /** A sync answer applied while catching up (its messages and read marks were also emitted one by one). */
  synced: SyncAnswer;
  /** The new sync cursor: store it to catch up from after a restart. */
  cursor: string;
  /** The socket will not reconnect (signed out, origin refused, closed by you). */
  closed: { code: number; reason: string };
};

interface Pending {
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Outgoing {
  clientId: string;
  data: ClientEvents["send_message"];
  resolve: (message: Message) => void;
  reject: (error: Error) => void;
  created: number;
  transmitted: number; // when last written to a socket (0: not on this socket yet)
  viaRest?: boolean;
}

const RETRYABLE = new Set(["rate_limited", "service_unavailable", "server_error", "throttled"]);
const FINAL_CLOSES = new Set([4403]); // the origin is refused: retrying cannot help
const SEEN_LIMIT = 20_000;

/**
 * One WebSocket to the server, kept alive: it signs in with the session's access token, counts as
 * connected only once the server's `ready` frame has come, pings, and reconnects with backoff and
 * jitter chosen by the close code (a refused token is renewed once for everyone). Sends go through an
 * outbox keyed by `client_id`: anything unacknowledged is sent again after a reconnect (the server
 * keeps the first copy), over REST if the socket stays down. After each reconnect it catches up
 * (`GET sync`, or `after=<seq>`) and emits what was missed like live events, each message once.
 */
export class CrmSocket extends Emitter<SocketEvents> {
  state: SocketState = "connecting";
  /** The last `ready` (who you are, where each conversation stands). */
  info: ReadyData | null = null;
  /** Per conversation, the seq up to which every message has been emitted (or was held by the app):
   * where catching up starts. Messages seen above it wait in `ahead` until the gap is filled. */
  readonly positions = new Map<number, number>();
  private readonly ahead = new Map<number, Set<number>>();
  /** Counters for tests and diagnostics. */
  readonly stats = { opened: 0, readies: 0, reconnects: 0, handshakeRefusals: 0, resent: 0, viaRest: 0, dropped: 0 };
  cursor: string | undefined;

  private ws: WebSocket | null = null;
  private readonly WS: typeof WebSocket;
  private readonly pending = new Map<string, Pending>();
  private readonly outbox = new Map<string, Outgoing>();
  private readonly seen = new Map<string, true>();
  private readonly waiters: Array<{ resolve: (info: ReadyData) => void; reject: (error: Error) => void }> = [];
  private attempt = 0;
  private closedByUser = false;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private lastFrame = 0;
  private downSince = Date.now();
  private catchingUp: Promise<void> = Promise.resolve();
  private readonly options: Required<Omit<SocketOptions, "WebSocket" | "positions" | "cursor">>;

  constructor(
    private readonly client: CrmClient,
    options: SocketOptions = {},
  ) {
    super();
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (!WS) throw new Error("No WebSocket: pass one (options.WebSocket), or run Node 20 with --experimental-websocket");
    this.WS = WS;
    this.options = {
      pingIntervalMs: options.pingIntervalMs ?? 25_000,
      ackTimeoutMs: options.ackTimeoutMs ?? 10_000,
      initialDelayMs: options.initialDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      catchUp: options.catchUp ?? "sync",
      restFallbackMs: options.restFallbackMs ?? 10_000,
      outboxTtlMs: options.outboxTtlMs ?? 300_000,
    };
    for (const [id, seq] of Object.entries(options.positions ?? {})) this.positions.set(Number(id), seq);
    this.cursor = options.cursor;
    void this.open();
    this.every(1000, () => this.tendOutbox());
  }

  /** Resolves with `ready` once the socket is signed in (now, if it is). */
  get connected(): Promise<ReadyData> {
    if (this.state === "ready" && this.info) return Promise.resolve(this.info);
    if (this.state === "closed") return Promise.reject(new DisconnectedError("The socket is closed."));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Send a request and wait for its ack's data (rejects with SocketError on an `error` frame). */
  request<E extends keyof ClientEvents>(event: E, data: ClientEvents[E], timeoutMs = this.options.ackTimeoutMs): Promise<AckData[E]> {
    const id = newId();
    return new Promise<AckData[E]>((resolve, reject) => {
      if (this.state !== "ready" || !this.ws) return reject(new DisconnectedError("The socket is not connected."));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`No answer to ${event} within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (data: unknown) => void, reject, timer });
      this.write({ event, data, id });
    });
  }

  /**
   * Send a message; resolves with it as stored. Idempotent by `client_id` (made here when not given):
   * kept in the outbox and sent again after a reconnect until acknowledged, over REST if the socket
   * stays down for `restFallbackMs`. Rejected only by a refusal (an `error` frame that is not a rate
   * limit or outage), or after `outboxTtlMs`.
   */
  send(data: Omit<ClientEvents["send_message"], "client_id"> & { client_id?: string | null }): Promise<Message> {
    const clientId = data.client_id ?? newId();
    const existing = this.outbox.get(clientId);
    if (existing) return new Promise((resolve, reject) => this.chain(existing, resolve, reject));
    return new Promise((resolve, reject) => {
      const entry: Outgoing = {
        clientId,
        data: { ...data, client_id: clientId },
        resolve,
        reject,
        created: Date.now(),
        transmitted: 0,
      };
      this.outbox.set(clientId, entry);
      if (this.state === "ready") this.transmit(entry);
    });
  }

  /** Sends not yet acknowledged, oldest first. */
  get unacknowledged(): ReadonlyArray<ClientEvents["send_message"]> {
    return [...this.outbox.values()].map((entry) => entry.data);
  }

  /** Close for good (no reconnect). Unacknowledged sends are rejected. */
  close(): void {
    this.closedByUser = true;
    this.finish(1000, "closed by the client");
    this.ws?.close(1000);
  }

  /** Drop the connection now and reconnect (what a network change would do; tests use it). */
  reconnect(): void {
    this.ws?.close(4000, "reconnect");
  }

  // --- connection ------------------------------------------------------------------------------

  private async open(): Promise<void> {
    if (this.closedByUser) return;
    this.setState("connecting");
    let token: string | null;
    try {
      token = await this.client.session.accessToken();
    } catch (error) {
      if (error instanceof SignedOutError) return this.finish(4401, error.message);
      return this.retryLater(); // the refresh could not reach the server
    }
    if (!token) return this.finish(4401, "not signed in");
    const url = `${this.client.baseUrl.replace(/^http/, "ws")}/ws/?token=${encodeURIComponent(token)}`;
    let ws: WebSocket;
    try {
      ws = new this.WS(url);
    } catch {
      return this.retryLater();
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.stats.opened++;
      this.lastFrame = Date.now();
    };
    ws.onmessage = (event: MessageEvent) => {
      if (ws !== this.ws) return;
      this.lastFrame = Date.now();
      this.receive(String(event.data));
    };
    const gone = (code: number, reason: string) => {
      if (ws !== this.ws) return; // handled already (or an older socket)
      this.ws = null;
      void this.closed(code, reason, opened, token!);
    };
    ws.onclose = (event: CloseEvent) => gone(event.code, event.reason);
    // A refused handshake: browsers fire error then close (1006); Node 20's WebSocket fires only error.
    ws.onerror = () => {
      if (!opened) setTimeout(() => gone(1006, "handshake refused or server unreachable"), 50);
    };
  }

  private async closed(code: number, reason: string, opened: boolean, token: string): Promise<void> {
    const wasReady = this.state === "ready";
    this.downSince = Date.now();
    for (const [id, request] of this.pending) {
      clearTimeout(request.timer);
      request.reject(new DisconnectedError(`The socket closed (${code}) before the answer came.`));
      this.pending.delete(id);
    }
    for (const entry of this.outbox.values()) entry.transmitted = 0;
    if (this.closedByUser || this.state === "closed") return;
    if (FINAL_CLOSES.has(code)) return this.finish(code, reason);
    if (wasReady) this.stats.reconnects++;
    if (code === 4401 || (!opened && code !== 1000)) {
      // 4401: the token was refused. A handshake refused before opening (a browser sees only 1006)
      // is a bad token or an unreachable server: asking REST tells them apart, renewing if needed.
      if (!opened) this.stats.handshakeRefusals++;
      try {
        if (code === 4401) await this.client.session.renew(token);
        else await this.probe();
      } catch (error) {
        if (error instanceof SignedOutError) return this.finish(4401, error.message);
      }
    }
    // idle close, or rights changed (reconnect with the new ones): straight back
    if ((code === 4408 || code === 4409) && this.attempt === 0) return void this.open();
    return this.retryLater(code === 4429 ? 5_000 : 0);
  }

  /** A REST call with the current token: renews it on a 401 (so the next handshake uses a good one). */
  private async probe(): Promise<void> {
    const response = await this.client.fetch(new Request(`${this.client.baseUrl}/api/v1/auth/me`));
    await response.body?.cancel();
  }

  private retryLater(atLeastMs = 0): void {
    this.setState("waiting");
    const ceiling = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** this.attempt);
    const delay = Math.max(atLeastMs, 100 + Math.random() * ceiling);
    this.attempt = Math.min(this.attempt + 1, 16);
    this.after(delay, () => void this.open());
  }

  private finish(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.closedByUser = true;
    this.setState("closed");
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters.splice(0)) waiter.reject(new DisconnectedError(`Closed: ${reason}`));
    for (const entry of this.outbox.values()) entry.reject(new DisconnectedError(`Closed before sent: ${reason}`));
    this.outbox.clear();
    this.emit("closed", { code, reason });
  }

  private setState(state: SocketState): void {
    if (this.state === state || this.state === "closed") return;
    this.state = state;
    this.emit("state", state);
  }

  // --- frames in -------------------------------------------------------------------------------

  private receive(text: string): void {
    let frame: { event: string; id?: string; data?: Record<string, unknown> };
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.event === "ack" || frame.event === "error") return this.answer(frame);
    if (frame.event === "ready") return this.ready(frame.data as unknown as ReadyData);
    this.deliver(frame.event as keyof ServerEvents, frame.data ?? {});
  }

  private answer(frame: { event: string; id?: string; data?: Record<string, unknown> }): void {
    const id = frame.id ?? "";
    if (id.startsWith("send:")) return this.sendAnswered(id.slice(5), frame);
    const request = this.pending.get(id);
    if (!request) return;
    this.pending.delete(id);
    clearTimeout(request.timer);
    if (frame.event === "ack") request.resolve(frame.data);
    else request.reject(socketError(frame.data));
  }

  private ready(info: ReadyData): void {
    this.info = info;
    if (this.stats.readies === 0) {
      for (const conversation of info.conversations) {
        // One the app gave no position for: it holds (or loads) its history up to now; the rest comes live.
        if (!this.positions.has(conversation.id)) this.positions.set(conversation.id, conversation.last_seq);
      }
    }
    this.attempt = 0;
    this.stats.readies++;
    const first = this.stats.readies === 1;
    this.setState("ready");
    for (const waiter of this.waiters.splice(0)) waiter.resolve(info);
    this.emit("ready", info);
    for (const entry of this.outbox.values()) this.transmit(entry); // oldest first: Map keeps insertion order
    this.every(this.options.pingIntervalMs, () => this.ping(), true);
    this.catchingUp = this.catchingUp.then(() => this.catchUp(info, first)).catch(() => undefined);
  }

  /** Emit a server event once: messages by (conversation, seq), edits and deletes by their state. */
  private deliver<E extends keyof ServerEvents>(event: E, data: ServerEvents[E] | Record<string, unknown>): void {
    const key = dedupeKey(event, data as Record<string, unknown>);
    if (key !== null) {
      if (this.seen.has(key)) {
        this.stats.dropped++;
        return;
      }
      this.seen.set(key, true);
      if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.keys().next().value!);
    }
    if (event === "message_received") this.advance(data as Message);
    this.emit(event, data as SocketEvents[E]);
  }

  /** Move the conversation's position past this message and any already seen right after it. */
  private advance(message: Message): void {
    const id = message.conversation_id;
    let position = this.positions.get(id);
    if (position === undefined) {
      this.positions.set(id, message.seq); // a conversation new to this socket: from here on
      return;
    }
    if (message.seq <= position) return;
    const ahead = this.ahead.get(id) ?? new Set<number>();
    ahead.add(message.seq);
    while (ahead.delete(position + 1)) position++;
    this.positions.set(id, position);
    if (ahead.size) this.ahead.set(id, ahead);
    else this.ahead.delete(id);
  }

  // --- catching up -----------------------------------------------------------------------------

  private async catchUp(info: ReadyData, first: boolean): Promise<void> {
    if (this.options.catchUp === false) return;
    if (this.options.catchUp === "sync" && this.cursor !== undefined) await this.catchUpBySync();
    if (!first) {
      // Whatever is still behind `ready`'s last_seq (no cursor yet, or a sync that could not say it all).
      for (const conversation of info.conversations) {
        const known = this.positions.get(conversation.id);
        if (known !== undefined && (conversation.last_seq > known || this.ahead.has(conversation.id))) {
          await this.page(conversation.id, known);
        }
      }
    }
    // From now on, whatever this socket misses is in a sync from this cursor (taken after `ready`: the
    // socket already follows every conversation).
    if (this.options.catchUp === "sync" && this.cursor === undefined) this.setCursor((await this.client.sync()).cursor);
  }

  private async catchUpBySync(): Promise<void> {
    // `more`: the answer was cut (more conversations or notifications than one answer holds, or more new
    // messages in a conversation than it carries): page those, then ask again from the new cursor.
    for (let round = 0; round < 100; round++) {
      const answer = await this.client.sync(this.cursor);
      for (const message of answer.messages) this.applyMessage(message);
      for (const mark of answer.read_marks) this.deliver("message_read", mark);
      for (const conversation of answer.conversations) this.deliver("conversation_updated", conversation as never);
      for (const cleared of answer.cleared) this.deliver("conversation_cleared", cleared);
      for (const notification of answer.notifications) this.deliver("notification_received", notification as never);
      // Conversations cut at the cap, and any with a hole (missed while down, newer ones seen live):
      // read from the position on.
      for (const id of new Set([...answer.truncated, ...this.ahead.keys()])) {
        const known = this.positions.get(id);
        if (known !== undefined) await this.page(id, known);
      }
      this.emit("synced", answer);
      this.setCursor(answer.cursor);
      if (!answer.more) return;
    }
  }

  private async page(conversationId: number, after: number): Promise<void> {
    for await (const message of this.client.messagesAfter(conversationId, after)) this.applyMessage(message);
  }

  /** A message read over REST: new (`message_received`), or a later state of one already seen. */
  private applyMessage(message: Schemas["Message"]): void {
    const known =
      this.seen.has(`m:${message.conversation_id}:${message.seq}`) ||
      message.seq <= (this.positions.get(message.conversation_id) ?? 0); // held by the app already
    if (!known) return this.deliver("message_received", message as Message);
    if (message.deleted) return this.deliver("message_deleted", message as Message);
    if (message.edited_at) this.deliver("message_edited", message as Message);
  }

  private setCursor(cursor: string): void {
    this.cursor = cursor;
    this.emit("cursor", cursor);
  }

  // --- frames out ------------------------------------------------------------------------------

  private write(frame: unknown): void {
    this.ws?.send(JSON.stringify(frame));
  }

  private transmit(entry: Outgoing): void {
    if (this.state !== "ready" || !this.ws) return;
    if (entry.transmitted) this.stats.resent++;
    entry.transmitted = Date.now();
    this.write({ event: "send_message", data: entry.data, id: `send:${entry.clientId}` });
  }

  private sendAnswered(clientId: string, frame: { event: string; data?: Record<string, unknown> }): void {
    const entry = this.outbox.get(clientId);
    if (!entry) return;
    if (frame.event === "ack") {
      const message = (frame.data as { message: Message }).message;
      this.outbox.delete(clientId);
      this.deliver("message_received", message); // the push usually came first: then this is a repeat
      return entry.resolve(message);
    }
    const error = socketError(frame.data);
    if (RETRYABLE.has(error.code)) {
      const seconds = Number((error.details as { retry_after?: number }).retry_after ?? 1);
      entry.transmitted = 0;
      this.after(seconds * 1000, () => this.transmit(entry));
      return;
    }
    this.outbox.delete(clientId);
    entry.reject(error);
  }

  /** Every second: resend what waited too long for an ack, send over REST what the socket could not. */
  private tendOutbox(): void {
    const now = Date.now();
    for (const entry of [...this.outbox.values()]) {
      if (now - entry.created > this.options.outboxTtlMs) {
        this.outbox.delete(entry.clientId);
        entry.reject(new TimeoutError("The message could not be sent in time."));
      } else if (this.state === "ready" && entry.transmitted && now - entry.transmitted > this.options.ackTimeoutMs) {
        this.transmit(entry); // same client_id: the server answers with the first copy
      } else if (this.state !== "ready" && !entry.viaRest && now - Math.max(entry.created, this.downSince) > this.options.restFallbackMs) {
        void this.sendOverRest(entry);
      }
    }
    if (this.state === "ready" && now - this.lastFrame > 2 * this.options.pingIntervalMs + this.options.ackTimeoutMs) {
      this.reconnect(); // nothing heard, not even pongs: the connection is dead without saying so
    }
  }

  private async sendOverRest(entry: Outgoing): Promise<void> {
    entry.viaRest = true;
    try {
      const message = await this.client.post<Message>("/api/v1/messages", entry.data);
      if (!this.outbox.delete(entry.clientId)) return; // the socket's ack came first
      this.stats.viaRest++;
      this.deliver("message_received", message);
      entry.resolve(message);
    } catch (error) {
      entry.viaRest = false; // unreachable too: try again later, by whichever way is up first
      const status = (error as { status?: number }).status;
      if (status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 401) {
        this.outbox.delete(entry.clientId);
        entry.reject(error as Error);
      }
    }
  }

  private ping(): void {
    if (this.state !== "ready") return;
    this.request("ping", {} as ClientEvents["ping"]).catch((error) => {
      if (error instanceof TimeoutError) this.reconnect();
    });
  }

  private chain(entry: Outgoing, resolve: (message: Message) => void, reject: (error: Error) => void): void {
    const [first, fail] = [entry.resolve, entry.reject];
    entry.resolve = (message) => (first(message), resolve(message));
    entry.reject = (error) => (fail(error), reject(error));
  }

  private after(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private pinger: ReturnType<typeof setInterval> | null = null;

  private every(ms: number, run: () => void, isPing = false): void {
    if (isPing) {
      if (this.pinger) clearInterval(this.pinger);
      this.pinger = setInterval(run, ms);
      this.timers.add(this.pinger);
      return;
    }
    this.timers.add(setInterval(run, ms));
  }
}

function socketError(data: Record<string, unknown> | undefined): SocketError {
  const error = (data ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
  return new SocketError(error.code ?? "error", error.message ?? "Refused.", error.details ?? {});
}

function dedupeKey(event: string, data: Record<string, unknown>): string | null {
  switch (event) {
    case "message_received":
      return `m:${data.conversation_id}:${data.seq}`;
    case "message_edited":
      return `e:${data.id}:${data.edited_at}`;
    case "message_deleted":
      return `d:${data.id}`;
    case "message_read":
    case "message_delivered":
      return `${event}:${data.conversation_id}:${data.user_id}:${data.seq}`;
    case "notification_received":
      return `n:${data.id}:${data.read}`;
    default:
      return null;
  }
}

