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

  const shown = new URLSearchParams(location.search);
  const tab = shown.get("status") || "open";
  const query = (shown.get("q") || "").trim();

  let refreshing = null;
  function refreshList() {
    if (refreshing) return refreshing;
    const params = new URLSearchParams({limit: 50, archived: "false"});
    if (tab !== "all") params.set("status", tab);
    if (query) params.set("q", query);
    refreshing = api("GET", `/api/v1/conversations?${params}`).then((page) => {
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

  // --- the contact beside the conversation (server-rendered: console/contact.py) ---
  const contact = document.getElementById("inbox-contact");
  if (contact && config.contact_url) {
    fetch(`${config.contact_url}?${new URLSearchParams({next: location.pathname + location.search})}`,
      {credentials: "same-origin"})
      .then((response) => (response.ok ? response.text() : Promise.reject(new Error(String(response.status)))))
      .then((html) => { contact.innerHTML = html; })
      .catch(() => { contact.textContent = "The contact could not load."; });
  }

  // --- triage: open, resolved, snoozed until (this staff member's own) ---
  const triage = document.getElementById("triage");
  function showTriage(status) {
    triage.dataset.status = status;
    document.getElementById("triage-status").textContent = status[0].toUpperCase() + status.slice(1);
    triage.querySelector("[data-status=resolved]").hidden = status === "resolved";
    triage.querySelector("[data-status=open]").hidden = status === "open";
  }
  async function setTriage(body) {
    try {
      const conversation = await api("PATCH", `/api/v1/conversations/${config.conversation_id}`, body);
      showTriage(conversation.status);
      if (tab !== "all" && conversation.status !== tab) { const li = row(config.conversation_id); if (li) li.remove(); }
      chat.error("");
    } catch (failure) {
      chat.error(`Not changed: ${failure.message}`);
    }
  }
  if (triage) {
    triage.querySelectorAll("button[data-status]").forEach((button) => button.addEventListener("click", () => setTriage({status: button.dataset.status})));
    const snooze = document.getElementById("snooze");
    snooze.addEventListener("change", () => {
      if (snooze.value) setTriage({status: "snoozed", snoozed_until: snooze.value});
      snooze.value = "";
    });
  }

  // --- search: the list is filtered by the server (people, titles); message text through the API's search ---
  const hits = document.getElementById("message-hits");
  if (query.length >= 2) {
    api("GET", `/api/v1/messages/search?${new URLSearchParams({q: query, limit: 10})}`).then((page) => {
      const list = hits.querySelector("ul");
      for (const hit of page.results) {
        const li = document.createElement("li");
        const link = document.createElement("a");
        link.href = rowUrl(hit.conversation_id);
        const who = document.createElement("strong");
        who.textContent = `${personName(hit.sender)} · ${timeText(hit.created_at)}`;
        const snippet = document.createElement("div");
        snippet.className = "quiet";
        snippet.innerHTML = hit.highlight;  // the API's HTML-escaped snippet with <mark> around matches
        link.append(who, snippet);
        li.append(link);
        list.append(li);
      }
      hits.hidden = !page.results.length;
    }).catch(() => {});
  }

  // --- canned replies: "/" then the shortcut; arrows choose, Enter or Tab puts the text in the reply ---
  const compose = document.getElementById("compose");
  const menu = document.getElementById("canned-replies");
  if (compose && menu) {
    const text = compose.querySelector("textarea");
    let replies = null;
    let choices = [];
    let active = 0;
    const close = () => { menu.hidden = true; choices = []; text.removeAttribute("aria-activedescendant"); };
    const render = () => {
      menu.innerHTML = "";
      choices.forEach((reply, index) => {
        const li = document.createElement("li");
        li.id = `canned-${reply.id}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", String(index === active));
        const name = document.createElement("strong");
        name.textContent = `/${reply.shortcut}`;
        li.append(name, ` ${reply.content.slice(0, 80)}`);
        li.addEventListener("mousedown", (event) => { event.preventDefault(); use(reply); });
        menu.append(li);
      });
      menu.hidden = !choices.length;
      if (choices.length) text.setAttribute("aria-activedescendant", `canned-${choices[active].id}`);
    };
    const use = (reply) => {
      text.value = text.value.replace(/(^|\s)\/[\w-]*$/, `$1${reply.content}`);
      close();
      text.dispatchEvent(new Event("input"));
      text.focus();
    };
    text.addEventListener("input", async () => {
      const typed = text.value.match(/(?:^|\s)\/([\w-]*)$/);
      if (!typed) { close(); return; }
      if (replies === null) {
        replies = [];
        try { replies = (await api("GET", "/api/v1/canned-replies?limit=100")).results; } catch (failure) { replies = null; }
      }
      choices = (replies || []).filter((reply) => reply.shortcut.startsWith(typed[1].toLowerCase())).slice(0, 8);
      active = 0;
      render();
    });
    compose.addEventListener("keydown", (event) => {  // (before the reply box's own Enter-sends)
      if (menu.hidden || !choices.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        active = (active + (event.key === "ArrowDown" ? 1 : choices.length - 1)) % choices.length;
        render();
      } else if (event.key === "Enter" || event.key === "Tab") {
        use(choices[active]);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    }, true);
    text.addEventListener("blur", () => setTimeout(close, 150));
  }
})();
