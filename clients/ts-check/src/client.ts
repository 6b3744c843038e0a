// What a React or mobile client does first, typed by the types generated from /api/schema
// (openapi-typescript) and called through openapi-fetch. CI compiles this file against the
// freshly generated types: a schema change that would break such a client fails the build.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Conversation = components["schemas"]["Conversation"];
type Message = components["schemas"]["Message"];
type ApiError = components["schemas"]["Error"];

function fail(error: ApiError): never {
  throw new Error(`${error.error.code}: ${error.error.message}`);
}

export async function firstSession(baseUrl: string, email: string, password: string): Promise<Message> {
  // 1. Log in: an access token for the API and the socket, a refresh token to renew it.
  const anonymous = createClient<paths>({ baseUrl });
  const login = await anonymous.POST("/api/v1/auth/login", { body: { email, password } });
  if (login.error) fail(login.error);
  const { access, refresh, user } = login.data;
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${access}` } });
  console.log(`signed in as ${user.first_name} (${user.role}); refresh with ${refresh.length} chars`);

  // 2. The inbox: a page of conversations, most recent first, with unread counts and a badge total.
  const inbox = await api.GET("/api/v1/conversations", { params: { query: { limit: 20 } } });
  if (inbox.error) fail(inbox.error);
  const conversations: Conversation[] = inbox.data.results;
  const morePages: string | null = inbox.data.next;
  const badge = await api.GET("/api/v1/conversations/unread-count");
  if (badge.error) fail(badge.error);
  console.log(`${conversations.length} conversations (more: ${morePages !== null}), ${badge.data.unread_count} unread`);
  const conversation = conversations[0];
  if (conversation === undefined) throw new Error("no conversation yet");

  // 3. Page the history backwards by seq; `after` catches up after a reconnect.
  const latest = await api.GET("/api/v1/conversations/{conversation_id}/messages", {
    params: { path: { conversation_id: conversation.id }, query: { limit: 50 } },
  });
  if (latest.error) fail(latest.error);
  const oldest = latest.data.results[0];
  if (oldest !== undefined && latest.data.next !== null) {
    const older = await api.GET("/api/v1/conversations/{conversation_id}/messages", {
      params: { path: { conversation_id: conversation.id }, query: { before: oldest.seq, limit: 50 } },
    });
    if (older.error) fail(older.error);
    console.log(`${older.data.results.length} older messages`);
  }
  const lastSeq = latest.data.results.at(-1)?.seq ?? 0;
  const missed = await api.GET("/api/v1/conversations/{conversation_id}/messages", {
    params: { path: { conversation_id: conversation.id }, query: { after: lastSeq } },
  });
  if (missed.error) fail(missed.error);

  // 4. Send one, idempotently: retrying with the same client_id never makes a second copy.
  const sent = await api.POST("/api/v1/messages", {
    body: { conversation_id: conversation.id, content: "Hello from the typed client", client_id: crypto.randomUUID() },
  });
  if (sent.error) fail(sent.error);
  const message: Message = sent.data;
  await api.PATCH("/api/v1/conversations/{conversation_id}/read", {
    params: { path: { conversation_id: conversation.id } }, body: { seq: message.seq },
  });

  // 5. Search what you may read, with highlighted snippets.
  const found = await api.GET("/api/v1/messages/search", { params: { query: { q: "typed client", limit: 10 } } });
  if (found.error) fail(found.error);
  for (const hit of found.data.results) {
    console.log(`#${hit.seq} in ${hit.conversation_id} (rank ${hit.rank.toFixed(3)}): ${hit.highlight}`);
  }

  // And the direct conversation with someone, created if there is none yet (200 or 201).
  const other = conversation.participants.find((person) => person.id !== user.id);
  if (other !== undefined) {
    const direct = await api.POST("/api/v1/conversations/direct/{user_id}", { params: { path: { user_id: other.id } } });
    if (direct.error) fail(direct.error);
    console.log(`direct conversation ${direct.data.id} with ${other.email}`);
  }
  return message;
}
