// Signing in, typed REST, the socket's ready, sends both ways, errors in the one shape.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, createClient, ok } from "../dist/index.js";
import { CHAT, PASSWORD, URL, collect, fast, signedIn, until } from "./helpers.mjs";

test("a wrong password is an ApiError with the registry's code", async () => {
  const crm = createClient({ baseUrl: URL });
  await assert.rejects(crm.login("alice@sdk.example.com", "wrong"), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 401);
    assert.equal(error.code, "invalid_credentials");
    return true;
  });
});

test("login, typed REST, ready, a message each way", async () => {
  const alice = await signedIn("alice");
  const bob = await signedIn("bob");
  assert.ok(alice.session.signedIn);
  const inbox = await ok(alice.api.GET("/api/v1/conversations", { params: { query: { limit: 20 } } }));
  assert.ok(inbox.results.some((c) => c.id === CHAT));
  const over = await alice.api.GET("/api/v1/conversations", { params: { query: { limit: 100000 } } });
  assert.equal(over.response.status, 400);
  assert.equal(over.error.error.code, "validation_error");

  const a = alice.socket(fast);
  const b = bob.socket(fast);
  const ready = await a.connected;
  await b.connected;
  assert.equal(ready.user.email, "alice@sdk.example.com");
  assert.ok(ready.conversations.some((c) => c.id === CHAT));
  const heard = collect(b);
  const sent = await a.send({ conversation_id: CHAT, content: "hello from alice" });
  assert.equal(sent.content, "hello from alice");
  await until(() => heard.bySeq.has(sent.seq), "bob to hear alice");
  const replied = await b.send({ conversation_id: CHAT, content: "hello from bob" });
  assert.equal(replied.seq, sent.seq + 1);
  const read = await a.request("mark_message_read", { message_id: replied.id });
  assert.deepEqual(read, { conversation_id: CHAT, seq: replied.seq });
  await assert.rejects(a.request("join_conversation", { conversation_id: 999999 }), { name: "SocketError", code: "not_found" });
  a.close();
  b.close();
});

test("a bad token is refused in the handshake: the socket never opens", async () => {
  let opened = false;
  const outcome = await new Promise((resolve) => {
    const ws = new WebSocket(`${URL.replace(/^http/, "ws")}/ws/?token=not-a-token`);
    ws.onopen = () => (opened = true);
    ws.onclose = (event) => resolve(`close ${event.code}`); // browsers: error, then close 1006
    ws.onerror = () => setTimeout(() => resolve("error"), 200); // Node 20: error only
  });
  assert.equal(opened, false);
  assert.match(outcome, /^(error|close 1006)$/);
  // What clients that see the handshake's answer get (Node's `ws`, React Native's error message):
  const answer = await fetch(`${URL}/ws/?token=not-a-token`, {
    headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
  }).catch((error) => error);
  if (answer instanceof Response) assert.equal(answer.status, 401);
});
