// What a client lives through: connections dropped mid-send, a server restart, Redis down, a token
// that expires, a 429 storm. Nothing is lost, nothing is doubled.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ok } from "../dist/index.js";
import { CHAT, collect, control, fast, signedIn, until } from "./helpers.mjs";

async function pair(t) {
  const alice = await signedIn("alice");
  const bob = await signedIn("bob");
  const a = alice.socket(fast);
  const b = bob.socket(fast);
  t.after(() => (a.close(), b.close()));
  await Promise.all([a.connected, b.connected]);
  return { alice, bob, a, b, heardByA: collect(a), heardByB: collect(b) };
}

async function storedContents(crm) {
  const contents = [];
  for await (const message of crm.messagesAfter(CHAT, 0)) contents.push(message.content);
  return contents;
}

function sendMany(socket, who, label, count) {
  return Array.from({ length: count }, (_, n) =>
    socket.send({ conversation_id: CHAT, content: `${label} ${who} ${n}` }),
  );
}

test("a socket dropped in the middle of 50 sends both ways: nothing lost, nothing doubled", async (t) => {
  const { alice, a, b, heardByA, heardByB } = await pair(t);
  const fromAlice = sendMany(a, "alice", "drop", 50);
  const fromBob = sendMany(b, "bob", "drop", 50);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await control("cut"); // every connection dropped while the sends are in flight
  const messages = await Promise.all([...fromAlice, ...fromBob]);
  assert.equal(new Set(messages.map((m) => m.id)).size, 100);
  assert.ok(a.stats.readies >= 2 && b.stats.readies >= 2, "both sockets reconnected");
  const stored = (await storedContents(alice)).filter((c) => c.startsWith("drop "));
  assert.equal(stored.length, 100, "every send stored once");
  assert.equal(new Set(stored).size, 100);
  const want = (who) => Array.from({ length: 50 }, (_, n) => `drop ${who} ${n}`).sort();
  await until(() => heardByB.contents().filter((c) => c.startsWith("drop alice")).length === 50, "bob to hear 50");
  await until(() => heardByA.contents().filter((c) => c.startsWith("drop bob")).length === 50, "alice to hear 50");
  assert.deepEqual(heardByB.contents().filter((c) => c.startsWith("drop alice")).sort(), want("alice"));
  assert.deepEqual(heardByA.contents().filter((c) => c.startsWith("drop bob")).sort(), want("bob"));
  assert.equal(heardByA.repeats() + heardByB.repeats(), 0, "no message emitted twice");
  a.close();
  b.close();
});

test("the server restarted under the client: it reconnects, resends, catches up", async (t) => {
  const { alice, a, b, heardByB } = await pair(t);
  const before = b.stats.readies;
  const restarting = control("restart");
  const sends = sendMany(a, "alice", "restart", 10);
  await restarting;
  const messages = await Promise.all(sends);
  assert.equal(messages.length, 10);
  await until(() => b.stats.readies > before, "bob's socket to come back");
  await until(
    () => heardByB.contents().filter((c) => c.startsWith("restart alice")).length === 10,
    "bob to have every message sent during the restart",
  );
  const stored = (await storedContents(alice)).filter((c) => c.startsWith("restart "));
  assert.equal(stored.length, 10);
  assert.equal(heardByB.repeats(), 0);
  a.close();
  b.close();
});

test("Redis stopped and started: sends are stored meanwhile and reach the other side after", async (t) => {
  const { alice, a, b, heardByB } = await pair(t);
  await control("redis/stop");
  const during = await Promise.all(sendMany(a, "alice", "redis", 5)); // the open socket still sends
  assert.equal(during.length, 5);
  const inbox = await ok(alice.api.GET("/api/v1/conversations", {})); // REST keeps working
  assert.ok(inbox.results.length > 0);
  await control("redis/start");
  await until(
    () => heardByB.contents().filter((c) => c.startsWith("redis alice")).length === 5,
    "bob to get what was sent while Redis was down",
    30_000,
  );
  assert.equal(heardByB.repeats(), 0);
  a.reconnect(); // and new sockets open again
  await until(() => a.state === "ready" && a.stats.readies >= 2, "a new socket after Redis came back", 30_000);
  a.close();
  b.close();
});

test("a token expiring mid-session is refreshed once for every caller, REST and socket", async (t) => {
  const tokens = await control("token", { email: "carol@sdk.example.com", seconds: 3 });
  const carol = await signedIn("carol", { tokens, refreshLeewayMs: 0 });
  const socket = carol.socket(fast);
  t.after(() => socket.close());
  await socket.connected;
  await new Promise((resolve) => setTimeout(resolve, 3500)); // the access token is dead now
  const calls = Array.from({ length: 10 }, () => ok(carol.api.GET("/api/v1/auth/me", {})));
  const answers = await Promise.all(calls);
  assert.ok(answers.every((me) => me.email === "carol@sdk.example.com"));
  assert.equal(carol.counted.refreshes, 1, "one refresh for ten callers");
  socket.reconnect(); // the socket comes back on the new token, without refreshing again
  await until(() => socket.stats.readies >= 2, "the socket back on the new token");
  assert.equal(carol.counted.refreshes, 1);

  // A token the client believes good but the server refuses: the handshake is refused (no open),
  // the SDK asks REST, which renews it once, and the socket opens.
  const stale = await control("token", { email: "carol@sdk.example.com", seconds: 1 });
  const lying = await signedIn("carol", { tokens: { ...stale, expires_in: 3600 } });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const second = lying.socket(fast);
  t.after(() => second.close());
  await second.connected;
  assert.ok(second.stats.handshakeRefusals >= 1);
  assert.equal(lying.counted.refreshes, 1);
  socket.close();
  second.close();
});

test("a 429 storm: every call waits out Retry-After together and then succeeds", async () => {
  const carol = await signedIn("carol");
  const limit = Number(process.env.CRM_STORM_LIMIT);
  const sentBefore = carol.gate.sent;
  const started = Date.now();
  const calls = Array.from({ length: limit * 2 }, () => ok(carol.api.GET("/api/v1/auth/me", {})));
  const answers = await Promise.all(calls);
  assert.equal(answers.length, limit * 2);
  assert.ok(carol.gate.refused > 0, "the server refused some (429)");
  assert.ok(Date.now() - started >= 900, "and the client waited Retry-After (1 s) before trying again");
  // No hammering: each refused call went out again once the wait was over, not in a loop.
  const sent = carol.gate.sent - sentBefore;
  assert.ok(sent <= limit * 2 + carol.gate.refused, `${sent} sent, ${carol.gate.refused} refused`);
});
