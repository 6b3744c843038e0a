// Drag a card to a later stage: the same form the card's buttons post (allowed stages only; lost asks why).
// Forms are read with getAttribute("action"): a control named like a form property would hide it.
(function () {
  "use strict";
  const board = document.getElementById("lead-board");
  const dropForm = document.getElementById("drop-form");
  if (!board || !dropForm) return;
  let dragged = null;
  const allowed = (card, column) => card && card.dataset.next.split(" ").includes(column.dataset.status);
  board.addEventListener("dragstart", (event) => {
    dragged = event.target.closest(".lead-card");
    if (dragged) {
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.lead);
    }
  });
  board.addEventListener("dragend", () => {
    dragged = null;
    board.querySelectorAll(".drop-target").forEach((column) => column.classList.remove("drop-target"));
  });
  board.querySelectorAll(".lead-column").forEach((column) => {
    column.addEventListener("dragover", (event) => {
      if (allowed(dragged, column)) { event.preventDefault(); column.classList.add("drop-target"); }
    });
    column.addEventListener("dragleave", () => column.classList.remove("drop-target"));
    column.addEventListener("drop", (event) => {
      event.preventDefault();
      if (!allowed(dragged, column)) return;
      const status = column.dataset.status;
      if (status === "lost") {  // a reason first: open the card's own "Mark lost" form
        const more = dragged.querySelector("details.lead-more");
        more.open = true;
        more.querySelector(".lead-lost input[name=reason]").focus();
        return;
      }
      dropForm.setAttribute("action", dragged.querySelector("form.lead-move").getAttribute("action"));
      dropForm.querySelector("input[name=status]").value = status;
      dropForm.submit();
    });
  });
})();
