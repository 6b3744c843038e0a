// One conversation on a console page: history paged over REST (before=/after= by seq), live events
// from the socket, and for participants: send, edit, delete, attach, typing and read receipts.
// Message text is only ever set as textContent, never as HTML.
window.ConsoleChat = (function () {
  "use strict";
  const {api, fileUrl, uuid, personName, timeText} = window.Console;
  const PAGE = 30;

  class ChatView {
    // options: root, conversationId, me, readOnly, editLimitMs, participants [{id, name, last_read_seq, last_delivered_seq}]
    constructor(options) {
      Object.assign(this, options);
      this.list = this.root.querySelector(".chat-messages");
      this.typingLine = this.root.querySelector(".chat-typing");
      this.errorLine = this.root.querySelector(".chat-error");
      this.items = new Map();  // seq -> <li>
      this.lastSeq = 0;
      this.firstSeq = null;
      this.loaded = false;
      this.early = [];  // events that arrived before the first page
      this.readSeq = 0;
      this.names = new Map(this.participants.map((p) => [p.id, p.name]));
      this.others = this.participants.filter((p) => p.id !== this.me);
      this.typing = new Map();
      this.earlier = document.createElement("li");
      this.earlier.className = "earlier";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button small";
      button.textContent = "Load earlier messages";
      button.addEventListener("click", () => this.loadEarlier());
      this.earlier.append(button);
      if (!this.readOnly) this.compose();
      document.addEventListener("visibilitychange", () => this.markRead());
    }

    url(params) {
      return `/api/v1/conversations/${this.conversationId}/messages?${new URLSearchParams(params)}`;
    }

    async loadLatest(history) {
      const page = history ? {results: history.results, next: history.next} : await api("GET", this.url({limit: PAGE}));
      page.results.forEach((m) => this.render(m));
      this.setEarlier(Boolean(page.next));
      this.loaded = true;
      this.early.splice(0).forEach((m) => this.receive(m));
      this.scrollToEnd();
      this.markRead();
    }

    async loadEarlier() {
      if (this.firstSeq === null) return;
      const height = this.list.scrollHeight;
      const page = await api("GET", this.url({before: this.firstSeq, limit: PAGE}));
      page.results.forEach((m) => this.render(m));
      this.setEarlier(Boolean(page.next));
      this.list.scrollTop += this.list.scrollHeight - height;
    }

    setEarlier(more) {
      if (more) this.list.prepend(this.earlier); else this.earlier.remove();
    }

    // After a reconnect or a gap in seq: everything after the last message shown, without doubles.
    async catchUp() {
      if (this.catching) { this.catchAgain = true; return; }
      this.catching = true;
      try {
        do {
          this.catchAgain = false;
          for (;;) {
            const page = await api("GET", this.url({after: this.lastSeq, limit: 100}));
            const end = this.atEnd();
            page.results.forEach((m) => this.render(m));
            if (end) this.scrollToEnd();
            if (!page.next) break;
          }
        } while (this.catchAgain);
      } finally {
        this.catching = false;
      }
      this.markRead();
    }

    receive(message) {
      if (message.conversation_id !== this.conversationId) return;
      if (!this.loaded) { this.early.push(message); return; }
      if (this.items.has(message.seq) || message.seq <= this.lastSeq) { this.render(message); return; }
      if (message.seq > this.lastSeq + 1) { this.catchUp(); return; }  // a gap: read it from the database
      const end = this.atEnd();
      this.render(message);
      if (end || message.sender_id === this.me) this.scrollToEnd();
      this.stopShowingTyping(message.sender_id);
      this.markRead();
    }

    handle(event, data) {
      if (data.conversation_id !== undefined && data.conversation_id !== this.conversationId) return;
      if (event === "message_received") this.receive(data);
      else if (event === "message_edited" || event === "message_deleted") { if (this.items.has(data.seq)) this.render(data); }
      else if (event === "message_read" || event === "message_delivered") this.receipt(event, data);
      else if (event === "user_typing_start" && data.user_id !== this.me) this.showTyping(data.user_id);
      else if (event === "user_typing_stop") this.stopShowingTyping(data.user_id);
    }

    // --- rendering ---

    render(message) {
      const element = this.element(message);
      const existing = this.items.get(message.seq);
      if (existing) {
        existing.replaceWith(element);
      } else {
        const after = [...this.items.keys()].filter((seq) => seq > message.seq).sort((a, b) => a - b)[0];
        if (after !== undefined) this.items.get(after).before(element); else this.list.append(element);
      }
      this.items.set(message.seq, element);
      this.lastSeq = Math.max(this.lastSeq, message.seq);
      this.firstSeq = this.firstSeq === null ? message.seq : Math.min(this.firstSeq, message.seq);
    }

    element(m) {
      const own = m.sender_id === this.me;
      // Whose side: in a monitor (nobody's own) the staff on the right and the student on the left, each
      // named with their role, so two people of one first name are never confused.
      const side = !m.sender ? "system" : m.sender.role === "student" ? "student" : "staff";
      const li = document.createElement("li");
      li.className = `message${own ? " own" : ""}${this.readOnly ? ` side-${side}` : ""}${m.deleted ? " deleted" : ""}`;
      li.dataset.seq = m.seq;
      li.dataset.id = m.id;
      const bubble = document.createElement("div");
      bubble.className = "bubble";
      bubble.textContent = m.deleted ? "This message was deleted." : m.content;
      li.append(bubble);
      if (!m.deleted && m.attachments && m.attachments.length) li.append(this.files(m.attachments));
      const meta = document.createElement("div");
      meta.className = "meta";
      const who = this.readOnly && m.sender ? `${personName(m.sender)} (${m.sender.role.replace("_", " ")})` : personName(m.sender);
      meta.textContent = `${own ? "" : `${who} · `}${timeText(m.created_at)}${m.edited_at && !m.deleted ? " · edited" : ""}`;
      if (own && !this.readOnly) {
        const receipt = document.createElement("span");
        receipt.className = "receipt";
        receipt.textContent = ` · ${this.receiptText(m.seq)}`;
        meta.append(receipt);
        if (!m.deleted) {
          if (m.type === "text" && Date.now() - new Date(m.created_at).getTime() < this.editLimitMs) {
            meta.append(this.button("Edit", () => this.edit(li, m)));
          }
          meta.append(this.button("Delete", () => this.remove(m)));
        }
      }
      li.append(meta);
      return li;
    }

    files(attachments) {
      const box = document.createElement("div");
      box.className = "files";
      for (const file of attachments) {
        const link = document.createElement("a");
        link.href = "#";
        link.textContent = `${file.file_name} (${Math.ceil(file.size / 1024)} KB)`;
        link.className = "file-link";
        link.addEventListener("click", async (event) => {
          event.preventDefault();
          const url = await fileUrl(file.url);
          const save = document.createElement("a");
          save.href = url;
          save.download = file.file_name;
          save.click();
        });
        box.append(link);
        if (file.mime_type.startsWith("image/")) {
          const image = document.createElement("img");
          image.alt = file.file_name;
          fileUrl(file.url).then((url) => { image.src = url; }).catch(() => image.remove());
          box.append(image);
        }
      }
      return box;
    }

    button(label, action) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.addEventListener("click", action);
      return button;
    }

    receiptText(seq) {
      if (!this.others.length) return "sent";
      const read = this.others.filter((p) => p.last_read_seq >= seq).length;
      const delivered = this.others.filter((p) => p.last_delivered_seq >= seq || p.last_read_seq >= seq).length;
      if (this.others.length === 1) return read ? "read" : delivered ? "delivered" : "sent";
      if (read === this.others.length) return "read by everyone";
      if (read) return `read by ${read} of ${this.others.length}`;
      return delivered ? "delivered" : "sent";
    }

    receipt(event, data) {
      const person = this.others.find((p) => p.id === data.user_id);
      if (!person) return;
      const field = event === "message_read" ? "last_read_seq" : "last_delivered_seq";
      person[field] = Math.max(person[field] || 0, data.seq);
      this.showReceipts();
    }

    showReceipts() {
      for (const [seq, li] of this.items) {
        const receipt = li.querySelector(".receipt");
        if (receipt) receipt.textContent = ` · ${this.receiptText(seq)}`;
      }
    }

    // After a reconnect: the receipts that moved while the socket was away.
    async refreshReceipts() {
      const page = await api("GET", `/api/v1/conversations/${this.conversationId}/participants`);
      for (const row of page.results) {
        const person = this.others.find((p) => p.id === row.id);
        if (person) Object.assign(person, {last_read_seq: row.last_read_seq, last_delivered_seq: row.last_delivered_seq});
      }
      this.showReceipts();
    }

    showTyping(userId) {
      clearTimeout(this.typing.get(userId));
      this.typing.set(userId, setTimeout(() => this.stopShowingTyping(userId), 7000));  // a lost typing_stop
      this.showTypingLine();
    }

    stopShowingTyping(userId) {
      clearTimeout(this.typing.get(userId));
      this.typing.delete(userId);
      this.showTypingLine();
    }

    showTypingLine() {
      if (!this.typingLine) return;
      const names = [...this.typing.keys()].map((id) => this.names.get(id) || "Someone");
      this.typingLine.textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
    }

    atEnd() {
      return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    }

    scrollToEnd() {
      this.list.scrollTop = this.list.scrollHeight;
    }

    markRead() {
      if (this.readOnly || document.hidden || !this.socket) return;
      const seqs = [...this.items.keys()].filter((seq) => seq > this.readSeq);
      if (!seqs.length) return;
      const newest = Math.max(...seqs);
      const li = this.items.get(newest);
      this.readSeq = newest;
      this.socket.send("mark_message_read", {message_id: Number(li.dataset.id)})
        .then(() => this.onRead && this.onRead(this.conversationId))
        .catch(() => { this.readSeq = 0; });
    }

    error(text) {
      if (this.errorLine) this.errorLine.textContent = text || "";
    }

    // --- writing (participants only) ---

    compose() {
      const form = this.root.querySelector(".chat-compose");
      const text = form.querySelector("textarea");
      const files = form.querySelector("input[type=file]");
      const chosen = form.querySelector(".files-chosen");
      let typingSent = 0;
      let idle = null;
      const stopTyping = () => {
        clearTimeout(idle);
        if (typingSent) this.socket && this.socket.notify("typing_stop", {conversation_id: this.conversationId});
        typingSent = 0;
      };
      text.addEventListener("input", () => {
        this.draftId = null;  // a changed text is a new message
        if (Date.now() - typingSent > 3000) {
          this.socket && this.socket.notify("typing_start", {conversation_id: this.conversationId});
          typingSent = Date.now();
        }
        clearTimeout(idle);
        idle = setTimeout(stopTyping, 4000);
      });
      text.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
      });
      files.addEventListener("change", () => {
        this.draftId = null;
        chosen.textContent = [...files.files].map((f) => f.name).join(", ");
        const tooBig = [...files.files].find((f) => f.size > this.maxFileSize);
        this.error(tooBig ? `${tooBig.name} is larger than ${Math.round(this.maxFileSize / 1048576)} MB.` :
                   files.files.length > this.maxFiles ? `At most ${this.maxFiles} files per message.` : "");
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const content = text.value.trim();
        if (!content && !files.files.length) return;
        const button = form.querySelector("[type=submit]");
        button.disabled = true;
        this.draftId = this.draftId || uuid();  // a retry after a failure sends the same message, never a copy
        try {
          let message;
          if (files.files.length) {
            const body = new FormData();
            body.append("conversation_id", this.conversationId);
            body.append("content", content);
            body.append("client_id", this.draftId);
            [...files.files].forEach((file) => body.append("files", file));
            message = await api("POST", "/api/v1/messages/upload", body);
          } else {
            message = await api("POST", "/api/v1/messages", {conversation_id: this.conversationId, content, client_id: this.draftId});
          }
          this.render(message);
          this.scrollToEnd();
          text.value = "";
          files.value = "";
          chosen.textContent = "";
          this.draftId = null;
          this.error("");
          stopTyping();
        } catch (failure) {
          this.error(`Not sent: ${failure.message}`);
        } finally {
          button.disabled = false;
          text.focus();
        }
      });
    }

    edit(li, message) {
      const bubble = li.querySelector(".bubble");
      const editor = document.createElement("form");
      editor.className = "chat-edit";
      const box = document.createElement("textarea");
      box.value = message.content;
      box.setAttribute("aria-label", "Edit message");
      const save = document.createElement("button");
      save.type = "submit";
      save.className = "button small";
      save.textContent = "Save";
      const cancel = this.button("Cancel", () => this.render(message));
      editor.append(box, save, cancel);
      bubble.replaceWith(editor);
      box.focus();
      editor.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          this.render(await api("PUT", `/api/v1/messages/${message.id}`, {content: box.value}));
          this.error("");
        } catch (failure) {
          this.error(`Not saved: ${failure.message}`);
        }
      });
    }

    async remove(message) {
      if (!window.confirm("Delete this message for everyone?")) return;
      try {
        await api("DELETE", `/api/v1/messages/${message.id}`);
        this.render({...message, deleted: true, content: "", attachments: []});
        this.error("");
      } catch (failure) {
        this.error(`Not deleted: ${failure.message}`);
      }
    }
  }

  return {ChatView};
})();
