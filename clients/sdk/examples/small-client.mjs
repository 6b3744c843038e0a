// The "first day" client of issue 24 on the SDK: log in (tokens refreshed for you), list conversations,
// open the socket, send, receive live, mark read, survive a reconnect with catch-up, upload, search.
// Without the SDK the same took ~210 lines of plumbing; here it is the lines below.
import { createClient, ok, uploadFiles } from "@consultancy-crm/sdk";

export async function smallClient({ baseUrl, email, password, file }) {
  const crm = createClient({ baseUrl });
  await crm.login(email, password);
  const inbox = await ok(crm.api.GET("/api/v1/conversations", { params: { query: { limit: 20 } } }));
  const conversation = inbox.results[0];
  const socket = crm.socket();
  const live = [];
  socket.on("message_received", (message) => live.push(message));
  await socket.connected;
  const sent = await socket.send({ conversation_id: conversation.id, content: "Hi from the small client" });
  await socket.request("mark_message_read", { message_id: sent.id });
  socket.reconnect(); // as a network change would: the outbox and the catch-up carry on
  await socket.connected;
  const upload = await uploadFiles(crm, { conversationId: conversation.id, files: [file], onProgress: () => {} });
  const query = { q: "small client", conversation_id: conversation.id };
  const found = await ok(crm.api.GET("/api/v1/messages/search", { params: { query } }));
  await crm.logout();
  return { sent, upload, found: found.results.length, live: live.length };
}
