import { Emitter } from "./emitter.js";
import { ApiError, SignedOutError, errorFrom } from "./errors.js";

/** The tokens of a signed-in user; `expiresAt` is this device's clock (from the server's `expires_in`). */
export interface Tokens {
  access: string;
  refresh: string;
  expiresAt: number;
}

/** Where tokens survive a restart (localStorage, AsyncStorage, the keychain): optional. */
export interface TokenStorage {
  load(): Tokens | null | Promise<Tokens | null>;
  save(tokens: Tokens | null): void | Promise<void>;
}

export interface TokenAnswer {
  access: string;
  refresh: string;
  expires_in?: number;
}

type SessionEvents = { tokens: Tokens | null; signed_out: SignedOutError };

/**
 * The access and refresh tokens, and the one refresh at a time: however many REST calls get a 401
 * and sockets get 4401 together, the refresh token is used once (refresh tokens rotate: a second
 * use of the old one would be refused and sign the user out).
 */
export class Session extends Emitter<SessionEvents> {
  private tokens: Tokens | null = null;
  private refreshing: Promise<string> | null = null;
  private loaded: Promise<void> | null = null;
  /** How many times the refresh token was used (tests read it). */
  refreshCount = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly fetcher: typeof fetch,
    private readonly storage?: TokenStorage,
    /** Refresh this long before the access token expires. */
    private readonly leewayMs = 30_000,
  ) {
    super();
  }

  private async load(): Promise<void> {
    this.loaded ??= (async () => {
      if (this.storage && this.tokens === null) this.tokens = (await this.storage.load()) ?? null;
    })();
    return this.loaded;
  }

  get signedIn(): boolean {
    return this.tokens !== null;
  }

  /** Tokens from a login, signup or refresh answer (or set by hand, e.g. from the console). */
  set(answer: TokenAnswer | null): Tokens | null {
    this.tokens = answer && {
      access: answer.access,
      refresh: answer.refresh,
      expiresAt: Date.now() + 1000 * (answer.expires_in ?? secondsLeft(answer.access)),
    };
    this.loaded = Promise.resolve();
    void this.storage?.save(this.tokens);
    this.emit("tokens", this.tokens);
    return this.tokens;
  }

  get refreshToken(): string | null {
    return this.tokens?.refresh ?? null;
  }

  /** The access token to send, refreshed first when it has expired or is about to. */
  async accessToken(): Promise<string | null> {
    await this.load();
    if (this.tokens === null) return null;
    if (Date.now() >= this.tokens.expiresAt - this.leewayMs) return this.renew(this.tokens.access);
    return this.tokens.access;
  }

  /**
   * `failed` was refused (401, 4401, or it is about to expire): a new access token. If another caller
   * has renewed it meanwhile, that one; if a renewal is under way, its result; otherwise one refresh.
   */
  async renew(failed: string | null): Promise<string> {
    await this.load();
    if (this.tokens === null) throw new SignedOutError("Not signed in.");
    if (failed !== null && this.tokens.access !== failed && Date.now() < this.tokens.expiresAt - this.leewayMs) {
      return this.tokens.access;
    }
    this.refreshing ??= this.refresh(this.tokens.refresh).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(refresh: string): Promise<string> {
    this.refreshCount++;
    const response = await this.fetcher(`${this.baseUrl}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ refresh }),
    });
    if (response.status === 401 || response.status === 400) {
      const error = await errorFrom(response);
      this.signOut(error);
      throw new SignedOutError(`Signed out: ${error.message}`);
    }
    if (!response.ok) throw await errorFrom(response); // 429, 503: the caller waits and tries again
    return this.set((await response.json()) as TokenAnswer)!.access;
  }

  /** Forget the tokens (the refresh token was refused, or the user signed out). */
  signOut(reason?: ApiError): void {
    const hadTokens = this.tokens !== null;
    this.set(null);
    if (hadTokens) this.emit("signed_out", new SignedOutError(reason?.message ?? "Signed out."));
  }
}

/** Seconds until a JWT's `exp` (no verification: only to schedule a refresh). */
function secondsLeft(jwt: string): number {
  try {
    const part = jwt.split(".")[1] ?? "";
    const json = decodeBase64Url(part);
    const exp = (JSON.parse(json) as { exp?: number }).exp;
    return typeof exp === "number" ? exp - Date.now() / 1000 : 0;
  } catch {
    return 0;
  }
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url to text, without atob (older React Native engines lack it). JWT payloads are ASCII JSON. */
function decodeBase64Url(input: string): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const char of input.replace(/=+$/, "")) {
    const index = ALPHABET.indexOf(char === "+" ? "-" : char === "/" ? "_" : char);
    if (index < 0) continue;
    value = (value << 6) | index;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((value >> bits) & 0xff);
    }
  }
  return out;
}
