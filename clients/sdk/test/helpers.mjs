// Shared by the live tests: the server clients/tests/test_sdk.py started, and its control endpoint.
import { createClient } from "../dist/index.js";

export const URL = process.env.CRM_URL;
export const PASSWORD = process.env.CRM_PASSWORD;
export const CHAT = Number(process.env.CRM_CHAT);
if (!URL) throw new Error("Run through clients/tests/test_sdk.py (it starts the server and sets CRM_URL)");

export async function control(action, body = {}) {
  const response = await fetch(`${process.env.CRM_CONTROL}/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${action}: ${response.status}`);
  return response.json();
}

/** A client signed in as `name`@sdk.example.com, with a fetch that counts what it sends. */
export async function signedIn(name, options = {}) {
  const counted = { requests: 0, refreshes: 0 };
  const crm = createClient({
    baseUrl: URL,
    fetch: (input, init) => {
      const url = typeof input === "string" ? input : input.url;
      counted.requests++;
      if (url.endsWith("/auth/refresh")) counted.refreshes++;
      return fetch(input, init);
    },
    ...options,
  });
  crm.counted = counted;
  if (options.tokens) crm.session.set(options.tokens);
  else await crm.login(`${name}@sdk.example.com`, PASSWORD);
  return crm;
}

export async function until(condition, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every `message_received` of a socket, by seq, counting repeats (there must be none). */
export function collect(socket, conversationId = CHAT) {
  const bySeq = new Map();
  let repeats = 0;
  socket.on("message_received", (message) => {
    if (message.conversation_id !== conversationId) return;
    if (bySeq.has(message.seq)) repeats++;
    bySeq.set(message.seq, message);
  });
  return { bySeq, repeats: () => repeats, contents: () => [...bySeq.values()].map((m) => m.content) };
}

export const fast = { initialDelayMs: 100, maxDelayMs: 1000, restFallbackMs: 3000, ackTimeoutMs: 5000 };
