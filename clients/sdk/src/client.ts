import createFetchClient, { type Client } from "openapi-fetch";

import { ApiError, errorFrom } from "./errors.js";
import type { components, paths } from "./generated/openapi.js";
import { RetryGate, authedFetch, type HttpOptions } from "./http.js";
import { Session, type TokenAnswer, type TokenStorage } from "./session.js";
import { CrmSocket, type SocketOptions } from "./socket.js";

export type Schemas = components["schemas"];
export type User = Schemas["User"];
export type SyncAnswer = Schemas["Sync"];

export interface ClientOptions extends HttpOptions {
  /** The server, e.g. "https://crm.example.com" (the API is under /api/v1). */
  baseUrl: string;
  /** Keeps tokens across restarts (localStorage, AsyncStorage, the keychain). */
  storage?: TokenStorage;
  /** A fetch of your own (tests, instrumentation). Default: the platform's. */
  fetch?: typeof fetch;
  /** Refresh the access token this long before it expires (default 30 s). */
  refreshLeewayMs?: number;
}

/** What openapi-fetch answers: data on success, the error body otherwise. */
type Answer<T> = { data?: T; error?: unknown; response: Response };

export class CrmClient {
  readonly baseUrl: string;
  readonly session: Session;
  readonly gate = new RetryGate();
  /** Typed REST (openapi-fetch over the server's OpenAPI schema): `crm.api.GET("/api/v1/conversations", ...)`. */
  readonly api: Client<paths>;
  /** The fetch behind `api`: token, one renewal on 401, Retry-After, timeout. For requests of your own. */
  readonly fetch: (request: Request, authenticate?: boolean) => Promise<Response>;
  private sockets: CrmSocket[] = [];

  constructor(readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    const platformFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.session = new Session(this.baseUrl, platformFetch, options.storage, options.refreshLeewayMs);
    this.fetch = authedFetch(this.session, this.gate, platformFetch, options);
    this.api = createFetchClient<paths>({ baseUrl: this.baseUrl, fetch: (request) => this.fetch(request) });
  }

  /** Sign in; the tokens are kept (and refreshed) by the client. */
  async login(email: string, password: string): Promise<User> {
    const answer = await this.post<TokenAnswer & { user: User }>("/api/v1/auth/login", { email, password }, false);
    this.session.set(answer);
    return answer.user;
  }

  /** Sign out: the refresh token is revoked on the server and forgotten here; sockets close. */
  async logout(): Promise<void> {
    const refresh = this.session.refreshToken;
    for (const socket of this.sockets) socket.close();
    if (refresh) await this.post("/api/v1/auth/logout", { refresh }, false).catch(() => undefined);
    this.session.signOut();
  }

  /** Everything that changed since `since` (a cursor of an earlier answer); none: a fresh cursor. */
  async sync(since?: string): Promise<SyncAnswer> {
    return ok(this.api.GET("/api/v1/sync", { params: { query: since ? { since } : {} } }));
  }

  /** A conversation's messages after `seq`, oldest first, every page followed. */
  async *messagesAfter(conversationId: number, seq: number, limit = 200): AsyncGenerator<Schemas["Message"]> {
    let after = seq;
    for (;;) {
      const page = await ok(
        this.api.GET("/api/v1/conversations/{conversation_id}/messages", {
          params: { path: { conversation_id: conversationId }, query: { after, limit } },
        }),
      );
      for (const message of page.results) {
        after = Math.max(after, message.seq);
        yield message;
      }
      if (!page.next || page.results.length === 0) return;
    }
  }

  /** The one socket of this client (signs in with the session's token, waits for `ready`). */
  socket(options: SocketOptions = {}): CrmSocket {
    const socket = new CrmSocket(this, options);
    this.sockets.push(socket);
    return socket;
  }

  /** POST JSON to a path outside the typed API (or without a token); throws ApiError. */
  async post<T>(path: string, body: unknown, authenticate = true): Promise<T> {
    const response = await this.fetch(
      new Request(this.baseUrl + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
      authenticate,
    );
    if (!response.ok) throw await errorFrom(response);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }
}

/** The data of a typed call, or its error thrown as an ApiError (status, registry code, details). */
export async function ok<T>(call: Promise<Answer<T>>): Promise<NonNullable<T>> {
  const { data, error, response } = await call;
  if (response.ok) return data as NonNullable<T>;
  const body = (error ?? {}) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } };
  if (body.error?.code) {
    const retry = response.headers.get("Retry-After");
    return Promise.reject(
      new ApiError(
        response.status,
        body.error.code as ApiError["code"],
        body.error.message ?? response.statusText,
        body.error.details ?? {},
        retry === null ? undefined : Number(retry),
      ),
    );
  }
  return Promise.reject(new ApiError(response.status, `http_${response.status}`, `${response.status} ${String(error)}`));
}

export function createClient(options: ClientOptions): CrmClient {
  return new CrmClient(options);
}
