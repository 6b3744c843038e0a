// The inbox page: the staff member's conversations (unread counts and "waiting for us" kept live from
// the socket) and the open conversation (console/chat.js). On every reconnect it joins again and
// catches up over REST (after=<seq>, and the conversation list) without a reload.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("inbox-config").textContent);
  const list = document.getElementById("inbox-list");
  const state = document.getElementById("live-state");
  const {api, LiveSocket, personName, stateLabel, timeText} = window.Console;
  const rowUrl = (id) => config.change_url.replace("/0/", `/${id}/`);

  let chat = null;
  if (config.conversation_id) {
    chat = new window.ConsoleChat.ChatView({
      root: document.getElementById("chat"), conversationId: config.conversation_id, me: config.me, readOnly: false,
      editLimitMs: config.edit_limit_ms, maxFileSize: config.max_file_size, maxFiles: config.max_files,
      participants: config.participants, onRead: (id) => setUnread(row(id), 0),
    });
    chat.loadLatest().catch((failure) => chat.error(`History not loaded: ${failure.message}`));
  }

  const socket = new LiveSocket({
    onState: (value) => stateLabel(state, value),
    onOpen: (reconnected) => {
      if (chat) {
        chat.socket = socket;
        socket.send("join_conversation", {conversation_id: chat.conversationId}).catch(() => {});  // typing events
        if (chat.loaded) chat.catchUp().catch(() => {});
        if (reconnected) chat.refreshReceipts().catch(() => {});
        chat.markRead();
      }
      if (reconnected) refreshList();  // unread counts and new conversations missed while away
    },
    onEvent: (event, data) => {
      if (chat) chat.handle(event, data);
      listEvent(event, data);
    },
  });

  const row = (id) => list.querySelector(`li[data-conversation="${id}"]`);

  function setUnread(li, count) {
    if (!li) return;
    li.dataset.unread = count;
    li.classList.toggle("unread", count > 0);
    const badge = li.querySelector(".console-badge");
    badge.textContent = count;
    badge.hidden = count === 0;
  }

  function preview(li, message) {
    const text = li.querySelector(".console-preview");
    text.textContent = !message ? "No messages yet" : message.deleted ? "message deleted" :
      `${message.sender ? message.sender.first_name || personName(message.sender) : "System"}: ${message.content || "(file)"}`;
    li.querySelector(".row-when").textContent = message ? timeText(message.created_at) : "";
    li.dataset.lastSeq = message ? message.seq : 0;
    const waiting = Boolean(message && !message.deleted && message.sender && message.sender.role === "student");
    li.querySelector(".waiting").hidden = !waiting;
  }

  function listEvent(event, data) {
    if (event === "message_received") {
      const li = row(data.conversation_id);
      if (!li) { refreshList(); return; }
      preview(li, data);
      const open = chat && chat.conversationId === data.conversation_id && !document.hidden;
      if (!open && data.sender_id !== config.me) setUnread(li, Number(li.dataset.unread || 0) + 1);
      list.querySelector("ul").prepend(li);
    } else if (event === "message_edited" || event === "message_deleted") {
      const li = row(data.conversation_id);
      if (li && Number(li.dataset.lastSeq) === data.seq) preview(li, data);
    } else if (["conversation_created", "user_joined_conversation", "conversation_updated"].includes(event)) {
      refreshList();
    } else if (event === "user_left_conversation" && data.user_id === config.me) {
      const li = row(data.conversation_id);
      if (li) li.remove();
    }
  }

  function rowElement(conversation) {
    const template = document.getElementById("inbox-row");
    const li = template.content.firstElementChild.cloneNode(true);
    li.dataset.conversation = conversation.id;
    li.classList.toggle("current", conversation.id === config.conversation_id);
    li.querySelector("a").href = rowUrl(conversation.id);
    const others = conversation.participants.filter((p) => p.id !== config.me).map(personName);
    li.querySelector(".row-title").textContent = conversation.title || others.join(", ") || "Only you";
    preview(li, conversation.last_message);
    setUnread(li, conversation.id === config.conversation_id ? 0 : conversation.unread_count);
    return li;
  }

  let refreshing = null;
  function refreshList() {
    if (refreshing) return refreshing;
    refreshing = api("GET", "/api/v1/conversations?limit=50&archived=false").then((page) => {
      const ul = document.createElement("ul");
      page.results.forEach((conversation) => ul.append(rowElement(conversation)));
      if (!page.results.length) ul.innerHTML = '<li class="console-empty">No conversations yet.</li>';
      list.querySelector("ul").replaceWith(ul);
    }).catch(() => {}).finally(() => { refreshing = null; });
    return refreshing;
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && chat) setUnread(row(chat.conversationId), 0);
  });
})();
