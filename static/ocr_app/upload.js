// Drag-and-drop upload: each file goes up on its own request (one after the
// other) with its own progress bar, then its recognition status is followed live.
// A file the user already has is not stored again unless they say so.
(function () {
  "use strict";
  const statusUrl = document.currentScript.dataset.statusUrl;
  const noteUrl = document.currentScript.dataset.noteUrl; // the page of note 0: "/notes/0/"
  const form = document.getElementById("upload-form");
  const input = document.getElementById("images");
  const camera = document.getElementById("camera");
  const dropzone = document.getElementById("dropzone");
  const list = document.getElementById("upload-list");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const rows = new Map(); // note id -> row element

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // user content: always as text
    return node;
  }

  function addRow(file) {
    const row = el("li", "upload-row");
    row.appendChild(el("span", "name", file.name));
    const bar = el("progress");
    bar.max = 100;
    bar.value = 0;
    row.appendChild(bar);
    row.appendChild(el("span", "status", "uploading"));
    list.appendChild(row);
    return row;
  }

  function setStatus(row, status, text) {
    const span = row.querySelector(".status");
    span.className = "status status-" + status;
    span.textContent = text;
    row.dataset.status = status;
  }

  // A file the user already has: say when it was uploaded (the message says so), link
  // to that note, and offer to send this one file again, stored anyway.
  function showDuplicate(row, file, error) {
    setStatus(row, "duplicate", error.message + " ");
    const status = row.querySelector(".status");
    const link = el("a", "duplicate-link", "Open that note");
    link.href = noteUrl.replace(/\/0\/$/, "/" + encodeURIComponent(error.note) + "/");
    status.appendChild(link);
    const again = el("button", "upload-anyway", "Upload anyway");
    again.type = "button";
    again.setAttribute("aria-label", "Upload " + file.name + " anyway");
    again.addEventListener("click", () => {
      again.remove();
      row.querySelector("progress").value = 0;
      setStatus(row, "uploading", "uploading");
      uploadOne(file, { row: row, allowDuplicates: true });
    });
    row.appendChild(again);
  }

  function uploadOne(file, options) {
    const row = (options && options.row) || addRow(file);
    const body = new FormData();
    body.append("images", file, file.name);
    const language = document.getElementById("language");
    if (language) body.append("language", language.value);
    const tags = document.getElementById("upload-tags");
    if (tags && tags.value.trim()) body.append("tags", tags.value);
    const anyway = document.getElementById("allow-duplicates");
    if ((options && options.allowDuplicates) || (anyway && anyway.checked)) body.append("allow_duplicates", "1");
    // One request at a time: the same file twice in one batch is then recognised
    // as a duplicate of the first (two requests at once could both store it).
    sending = sending.then(() => new Promise((done) => send(file, row, body, done)));
  }

  let sending = Promise.resolve();
  function send(file, row, body, done) {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) row.querySelector("progress").value = (100 * event.loaded) / event.total;
    });
    xhr.addEventListener("load", () => {
      row.querySelector("progress").value = 100;
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
      // The API's answer: each file's result (its note as the API gives it), or its error body.
      const result = data && data.results && data.results[0];
      if (result && result.ok) {
        const note = result.note;
        rows.set(String(note.id), row);
        row.dataset.noteId = note.id;
        const link = el("a", "name", file.name);
        // The path only: page_url is absolute, made from the host the request named.
        link.href = new URL(note.page_url, window.location.href).pathname;
        row.replaceChild(link, row.querySelector(".name"));
        setStatus(row, note.status, note.status_display);
        schedulePoll();
      } else if (result && result.error && result.error.code === "duplicate") {
        showDuplicate(row, file, result.error);
      } else {
        const message = (result && result.error && result.error.message) || (data && data.error && data.error.message) ||
          (xhr.status === 413 ? "This file is too large." : "Upload failed (HTTP " + xhr.status + ").");
        setStatus(row, "failed", message);
      }
    });
    xhr.addEventListener("error", () => setStatus(row, "failed", "Network error: the file was not uploaded."));
    xhr.addEventListener("loadend", () => done());
    xhr.send(body);
  }

  function uploadAll(files) {
    for (const file of files) uploadOne(file);
  }

  let polling = null;
  function schedulePoll() {
    if (!polling) polling = setTimeout(poll, 1000);
  }
  async function poll() {
    polling = null;
    const pending = Array.from(rows.entries()).filter(([, row]) =>
      ["queued", "processing", "splitting"].includes(row.dataset.status));
    if (!pending.length) return;
    try {
      const response = await fetch(statusUrl + "?ids=" + pending.map(([id]) => id).join(","),
        { headers: { Accept: "application/json" } });
      if (response.ok) {
        for (const note of (await response.json()).notes) {
          const row = rows.get(String(note.id));
          if (!row) continue;
          let text = note.status_display;
          if (note.status === "done") {
            text = "Done · " + note.line_count + (note.line_count === 1 ? " line" : " lines") +
              (note.flagged_count ? ", " + note.flagged_count + " to review" : "");
          } else if (note.status === "failed") {
            text = "Failed: " + note.error;
          } else if (note.status === "split") {
            text = "Split into " + note.page_count + (note.page_count === 1 ? " page" : " pages") + ", each a note";
          }
          setStatus(row, note.status, text);
        }
      }
    } catch (err) { /* try again */ }
    schedulePoll();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    uploadAll(Array.from(input.files).concat(Array.from(camera.files)));
    input.value = "";
    camera.value = ""; // the tags and language stay for the next files
  });
  for (const picker of [input, camera]) {
    picker.addEventListener("change", () => {
      uploadAll(Array.from(picker.files));
      picker.value = "";
    });
  }
  ["dragenter", "dragover"].forEach((type) => dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    dropzone.classList.add("dragging");
  }));
  ["dragleave", "drop"].forEach((type) => dropzone.addEventListener(type, () => dropzone.classList.remove("dragging")));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    uploadAll(Array.from(event.dataTransfer.files));
  });
})();
