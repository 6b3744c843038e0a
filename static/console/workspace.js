// The student workspace's conversation: the inbox's ChatView (console/chat.js) over the same REST
// endpoints and socket; every (re)connection joins again and catches up by seq, as the inbox does.
(function () {
  "use strict";
  const data = document.getElementById("workspace-chat");
  if (!data) return;
  const config = JSON.parse(data.textContent);
  const {LiveSocket, stateLabel} = window.Console;
  const chat = new window.ConsoleChat.ChatView({
    root: document.getElementById("chat"), conversationId: config.conversation_id, me: config.me, readOnly: false,
    editLimitMs: config.edit_limit_ms, maxFileSize: config.max_file_size, maxFiles: config.max_files,
    participants: config.participants,
  });
  chat.loadLatest().catch((failure) => chat.error(`History not loaded: ${failure.message}`));
  const socket = new LiveSocket({
    onState: (value) => stateLabel(document.getElementById("live-state"), value),
    onOpen: (reconnected) => {
      chat.socket = socket;
      socket.send("join_conversation", {conversation_id: chat.conversationId}).catch(() => {});
      if (chat.loaded) chat.catchUp().catch(() => {});
      if (reconnected) chat.refreshReceipts().catch(() => {});
      chat.markRead();
    },
    onEvent: (event, payload) => chat.handle(event, payload),
  });
})();
