// The read-only live monitor of one conversation: the history the page was rendered with (audited),
// then the socket (join as monitor) with edits and deletions live; after a reconnect it joins again
// and catches up over REST with after=<seq> (audited too), without a reload.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("monitor-config").textContent);
  const history = JSON.parse(document.getElementById("history").textContent);
  const chat = new window.ConsoleChat.ChatView({
    root: document.getElementById("chat"), conversationId: config.conversation_id, me: config.me, readOnly: true,
    editLimitMs: config.edit_limit_ms, participants: config.participants,
  });
  chat.loadLatest({results: history, next: config.more ? "more" : null});
  const socket = new window.Console.LiveSocket({
    onState: (state) => window.Console.stateLabel(document.getElementById("live-state"), state),
    onOpen: () => {
      socket.send("join_conversation", {conversation_id: config.conversation_id})
        .then(() => chat.catchUp())  // whatever was sent since the page (or the last socket) read it
        .catch((failure) => chat.error(failure.message));
    },
    onEvent: (event, data) => chat.handle(event, data),
  });
  // Who the conversation is with, and (for whoever may assign the lead) a transfer: console/contact.py.
  const contact = document.getElementById("monitor-contact");
  fetch(`${config.contact_url}?${new URLSearchParams({next: location.pathname})}`, {credentials: "same-origin"})
    .then((response) => (response.ok ? response.text() : Promise.reject(new Error(String(response.status)))))
    .then((html) => { contact.innerHTML = html; })
    .catch(() => { contact.textContent = "The contact could not load."; });
})();
