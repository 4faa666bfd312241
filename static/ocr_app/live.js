// Keeps the status of pending notes on the list page up to date.
(function () {
  "use strict";
  const script = document.currentScript;
  const statusUrl = script.dataset.statusUrl;

  function pendingCards() {
    return Array.from(document.querySelectorAll(".note-card[data-pending='1']"));
  }

  function render(card, note) {
    const status = card.querySelector("[data-role=status]");
    status.textContent = note.status_display;
    status.className = "status status-" + note.status;
    const counts = card.querySelector("[data-role=counts]");
    if (note.status === "done") {
      counts.textContent = note.nothing_read ? "Nothing read" :
        note.line_count + (note.line_count === 1 ? " line" : " lines") +
        (note.flagged_count ? ", " + note.flagged_count + " to review" : "");
      if (note.partly_unread && !card.querySelector("[data-role=partly-unread]")) {
        const mark = document.createElement("strong");
        mark.className = "warning partly-unread";
        mark.dataset.role = "partly-unread";
        mark.textContent = "Part of this page may be unread";
        counts.after(mark);
      }
      const thumb = card.querySelector(".thumb");
      if (!thumb.querySelector("img")) {
        const img = document.createElement("img");
        img.src = thumb.dataset.thumbUrl;
        img.alt = "";
        thumb.appendChild(img);
      }
    } else if (note.status === "failed") {
      counts.textContent = note.error;
    } else if (note.kind === "pdf" && note.page_count) {
      // Split: the card leads to the PDF's page, which links its pages.
      counts.textContent = "PDF, " + note.page_count + (note.page_count === 1 ? " page" : " pages");
    }
    card.dataset.pending = note.pending ? "1" : "0";
  }

  async function poll() {
    const cards = pendingCards();
    if (!cards.length) return;
    const ids = cards.map((card) => card.dataset.noteId).join(",");
    try {
      const response = await fetch(statusUrl + "?ids=" + ids, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        for (const note of data.notes) {
          const card = document.querySelector(".note-card[data-note-id='" + note.id + "']");
          if (card) render(card, note);
        }
      }
    } catch (err) { /* network hiccup: try again on the next tick */ }
    setTimeout(poll, 1500);
  }
  setTimeout(poll, 1000);
})();
