import { TimeoutError, retryAfterSeconds } from "./errors.js";
import { sleep } from "./ids.js";
import type { Session } from "./session.js";

export interface HttpOptions {
  /** Give up on one attempt after this long (default 30 s). */
  timeoutMs?: number;
  /** Wait out `Retry-After` on 429 and 503 up to this long in all, then answer the 429/503 (default 60 s). */
  maxRetryWaitMs?: number;
}

/**
 * After a 429 or 503, no request of this client leaves before `Retry-After` has passed: a storm of
 * concurrent calls waits together instead of each hammering the server (and each being refused).
 */
export class RetryGate {
  private until = 0;
  /** Requests sent, and those answered 429/503 (tests read them). */
  sent = 0;
  refused = 0;

  block(seconds: number): void {
    this.until = Math.max(this.until, Date.now() + seconds * 1000);
  }

  async pass(signal?: AbortSignal): Promise<void> {
    while (Date.now() < this.until) await sleep(this.until - Date.now(), signal);
  }
}

function withTimeout(signal: AbortSignal | null | undefined, ms: number): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  // (an Error, not a DOMException: React Native has none)
  const timer = setTimeout(() => controller.abort(new TimeoutError(`No answer within ${ms} ms.`)), ms);
  const forward = () => controller.abort(signal?.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener("abort", forward, { once: true });
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    },
  };
}

/**
 * The fetch every REST call of the SDK goes through: the access token added (refreshed first when
 * it is about to expire), one renewal and retry on a 401, `Retry-After` waited out on 429 and 503
 * (bodies are cloned before each attempt), and a timeout per attempt.
 */
export function authedFetch(session: Session, gate: RetryGate, fetcher: typeof fetch, options: HttpOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxRetryWaitMs = options.maxRetryWaitMs ?? 60_000;
  return async function call(input: Request, authenticate = true): Promise<Response> {
    let renewed = false;
    let waited = 0;
    for (;;) {
      await gate.pass(input.signal);
      const token = authenticate ? await session.accessToken() : null;
      const headers = new Headers(input.headers);
      if (token) headers.set("Authorization", `Bearer ${token}`);
      if (!headers.has("Accept")) headers.set("Accept", "application/json");
      const attempt = withTimeout(input.signal, timeoutMs);
      let response: Response;
      try {
        gate.sent++;
        response = await fetcher(new Request(input.clone(), { headers, signal: attempt.signal }));
      } finally {
        attempt.done();
      }
      if (response.status === 401 && token && !renewed) {
        renewed = true;
        await response.body?.cancel();
        await session.renew(token);
        continue;
      }
      if (response.status === 429 || response.status === 503) {
        gate.refused++;
        const seconds = retryAfterSeconds(response) ?? (response.status === 503 ? 5 : 1);
        if (waited + seconds * 1000 <= maxRetryWaitMs) {
          waited += seconds * 1000;
          gate.block(seconds);
          await response.body?.cancel();
          continue;
        }
      }
      return response;
    }
  };
}
