// Note page: rename the note inline. "Rename" opens the title field; Enter saves,
// Esc cancels; the outcome is announced to screen readers. Without JavaScript the
// form is shown as it is and posts normally.
(function () {
  "use strict";
  const form = document.getElementById("rename-form");
  if (!form) return;
  const heading = document.getElementById("note-title");
  const open = document.getElementById("rename-button");
  const cancel = document.getElementById("rename-cancel");
  const input = document.getElementById("title-input");
  const error = document.getElementById("title-error");
  const status = document.getElementById("title-status");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const pageTitleSuffix = document.title.slice(document.title.lastIndexOf(" · "));

  function announce(text) {
    status.textContent = "";
    // A new text node after a tick, so the same words are announced again.
    window.setTimeout(() => { status.textContent = text; }, 50);
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function editing(on) {
    form.hidden = !on;
    heading.hidden = on;
    open.hidden = on;
    open.setAttribute("aria-expanded", String(on));
    if (on) {
      input.value = heading.textContent;
      showError("");
      input.focus();
      input.select();
    } else {
      open.focus();
    }
  }

  open.hidden = false;
  cancel.hidden = false;
  form.hidden = true;

  open.addEventListener("click", () => editing(true));
  cancel.addEventListener("click", () => { editing(false); announce("Renaming cancelled."); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      editing(false);
      announce("Renaming cancelled.");
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let response, data;
    try {
      response = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
        body: new FormData(form),
        credentials: "same-origin",
      });
      data = await response.json();
    } catch (e) {
      showError("The title could not be saved; check the connection and try again.");
      announce(error.textContent);
      return;
    }
    if (!response.ok) {
      // The API's error body: the title's own message, else the request's.
      const fields = (data.error && data.error.fields) || {};
      showError((fields.title && fields.title[0]) || (data.error && data.error.message) || "The title could not be saved.");
      announce(error.textContent);
      input.focus();
      return;
    }
    heading.textContent = data.title; // textContent: a title is shown as text, never as markup
    document.title = data.title + pageTitleSuffix;
    editing(false);
    announce(data.title_set_by_owner ? "Renamed to " + data.title + "." : "Title chosen automatically: " + data.title + ".");
  });
})();
