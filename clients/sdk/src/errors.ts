import type { components } from "./generated/openapi.js";

/** Every error code the server answers (the registry of core.errors), as the schema lists it. */
export type ErrorCode = components["schemas"]["ErrorDetail"]["code"];

/** An answer with an error status, in the one shape `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    /** A registry code; `http_<status>` when the body was not the API's (a proxy's HTML page). */
    readonly code: ErrorCode | `http_${number}`,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** Seconds to wait, from `Retry-After` (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** No answer within the time allowed (REST call, socket request, or the outbox's patience). */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/** The socket answered a request with an `error` frame. */
export class SocketError extends Error {
  override readonly name = "SocketError";
  constructor(
    readonly code: ErrorCode | string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The socket went away while a request waited (sends are not rejected: the outbox keeps them). */
export class DisconnectedError extends Error {
  override readonly name = "DisconnectedError";
}

/** The session ended: the refresh token was refused (sign in again). */
export class SignedOutError extends Error {
  override readonly name = "SignedOutError";
}

export function retryAfterSeconds(response: Response): number | undefined {
  const value = response.headers.get("Retry-After");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value); // the HTTP-date form
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/** The error of a response that is not ok, whatever its body (JSON of the API, or anything else). */
export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })?.error;
  if (error && typeof error.code === "string") {
    return new ApiError(
      response.status,
      error.code as ErrorCode,
      error.message ?? response.statusText,
      error.details ?? {},
      retryAfterSeconds(response),
    );
  }
  const snippet = text.replace(/\s+/g, " ").slice(0, 200);
  return new ApiError(
    response.status,
    `http_${response.status}`,
    `${response.status} ${response.statusText}${snippet ? `: ${snippet}` : ""}`,
    {},
    retryAfterSeconds(response),
  );
}
