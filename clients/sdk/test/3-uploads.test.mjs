// Uploads with progress, and catching up through sync after being away.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ok, registerDevice, unregisterDevice, uploadFiles } from "../dist/index.js";
import { CHAT, PASSWORD, URL, collect, fast, signedIn, until } from "./helpers.mjs";

// A 1x1 PNG: the server reads the type from the bytes.
const PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="),
  (c) => c.charCodeAt(0),
);

test("an upload with progress, announced to the conversation", async () => {
  const alice = await signedIn("alice");
  const bob = await signedIn("bob");
  const a = alice.socket(fast);
  const b = bob.socket(fast);
  await Promise.all([a.connected, b.connected]);
  await b.request("join_conversation", { conversation_id: CHAT });
  const progress = [];
  const seenByBob = [];
  b.on("file_upload_progress", (event) => seenByBob.push(event.state));
  const message = await uploadFiles(alice, {
    conversationId: CHAT,
    files: [new File([PNG], "dot.png", { type: "image/png" })],
    content: "a picture",
    socket: a,
    onProgress: (sent, total) => progress.push([sent, total]),
  });
  assert.equal(message.attachments.length, 1);
  assert.equal(message.attachments[0].mime_type, "image/png");
  assert.deepEqual(progress.at(-1), [PNG.length, PNG.length]);
  await until(() => seenByBob.includes("completed"), "bob to see the upload complete");
  a.close();
  b.close();
});

test("a client away for a while catches up in one sync: messages, edits, read marks", async () => {
  const alice = await signedIn("alice");
  const bob = await signedIn("bob");
  const b = bob.socket({ ...fast });
  await b.connected;
  await until(() => b.cursor !== undefined, "bob's first cursor");
  const heard = collect(b);
  const edited = [];
  b.on("message_edited", (message) => edited.push(message.content));
  const first = await post(alice, "while bob is here");
  await until(() => heard.bySeq.has(first.seq), "bob to hear it live");
  b.close(); // bob goes away; alice writes and edits meanwhile
  const away = [];
  for (let n = 0; n < 3; n++) away.push(await post(alice, `while bob is away ${n}`));
  const a = alice.socket(fast);
  await a.connected;
  await a.request("edit_message", { message_id: first.id, content: "edited while bob was away" });
  a.close();
  const again = bob.socket({ ...fast, cursor: b.cursor, positions: Object.fromEntries(b.positions) });
  const heardAgain = collect(again);
  const editedAgain = [];
  again.on("message_edited", (message) => editedAgain.push(message.content));
  await again.connected;
  await until(() => away.every((m) => heardAgain.bySeq.has(m.seq)), "bob to catch up on what he missed");
  await until(() => editedAgain.includes("edited while bob was away"), "and the edit");
  assert.equal(heardAgain.repeats(), 0);
  again.close();
});

async function post(crm, content) {
  return crm.post("/api/v1/messages", { conversation_id: CHAT, content, client_id: crypto.randomUUID() });
}

test("the README's small client runs: login to search, across a reconnect", async () => {
  const { smallClient } = await import("../examples/small-client.mjs");
  const result = await smallClient({
    baseUrl: URL,
    email: "alice@sdk.example.com",
    password: PASSWORD,
    file: new File([PNG], "dot.png", { type: "image/png" }),
  });
  assert.equal(result.sent.content, "Hi from the small client");
  assert.equal(result.upload.attachments.length, 1);
  assert.ok(result.found >= 1);
});

test("a push device registered and removed (devices/)", async () => {
  const carol = await signedIn("carol");
  const device = await registerDevice(carol, { kind: "fcm", token: `sdk-test-${crypto.randomUUID()}` });
  assert.equal(device.kind, "fcm");
  const listed = await ok(carol.api.GET("/api/v1/devices", {}));
  assert.ok(listed.results.some((d) => d.id === device.id));
  await unregisterDevice(carol, device.id);
  const after = await ok(carol.api.GET("/api/v1/devices", {}));
  assert.ok(!after.results.some((d) => d.id === device.id));
  await unregisterDevice(carol, device.id); // already gone: fine
});
