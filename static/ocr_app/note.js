// Note page: follows recognition live, and links lines with their boxes.
(function () {
  "use strict";
  const root = document.getElementById("note-root");
  if (!root) return;

  function link() {
    const pairs = document.querySelectorAll("[data-line]");
    pairs.forEach((node) => {
      const order = node.dataset.line;
      const toggle = (on) => () => {
        document.querySelectorAll("[data-line='" + order + "']").forEach((n) => n.classList.toggle("active", on));
      };
      node.addEventListener("mouseenter", toggle(true));
      node.addEventListener("mouseleave", toggle(false));
      if (node.tagName.toLowerCase() === "rect") {
        node.addEventListener("click", () => {
          const item = document.getElementById("line-" + order);
          if (item) item.scrollIntoView({ block: "center", behavior: "smooth" });
        });
      }
    });
  }

  async function refreshBody() {
    const response = await fetch(root.dataset.linesUrl + window.location.search, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await response.text(); // server-rendered and escaped by Django templates
    const fresh = holder.querySelector("#note-body");
    if (fresh) {
      document.getElementById("note-body").replaceWith(fresh);
      link();
    }
  }

  // The owner's line edits. Delegated from the root, so they survive live updates of the body.
  function closeEdit(form) {
    form.hidden = true;
    const opener = form.closest(".line").querySelector(".edit-line");
    opener.setAttribute("aria-expanded", "false");
    opener.focus();
  }
  function openEdit(lineId) {
    const form = document.getElementById("edit-" + lineId);
    if (!form) return;
    form.hidden = false;
    form.closest(".line").querySelector(".edit-line").setAttribute("aria-expanded", "true");
    const input = form.querySelector("input[name=text]");
    input.focus();
    input.select();
  }
  root.addEventListener("click", (event) => {
    const edit = event.target.closest(".edit-line");
    if (edit) { openEdit(edit.dataset.lineId); return; }
    const cancel = event.target.closest(".cancel-edit");
    if (cancel) { const form = cancel.closest(".line-edit"); form.querySelector("input[name=text]").value = form.querySelector("input[name=text]").defaultValue; closeEdit(form); return; }
    // A click on a line's text opens it for editing too.
    const text = event.target.closest(".line > .text");
    if (text) {
      const opener = text.closest(".line").querySelector(".edit-line");
      if (opener) openEdit(opener.dataset.lineId);
    }
  });
  root.addEventListener("keydown", (event) => {
    const form = event.target.closest && event.target.closest(".line-edit");
    if (form && event.key === "Escape") {
      event.preventDefault();
      event.target.value = event.target.defaultValue;
      closeEdit(form);
    }
  });

  // Drawing the box of a line to add: drag on the photo (the form works without one too).
  let drag = null;
  function notePoint(svg, event) {
    const rect = svg.getBoundingClientRect();
    const [, , width, height] = svg.getAttribute("viewBox").split(" ").map(Number);
    const x = Math.min(Math.max(event.clientX - rect.left, 0), rect.width) * width / rect.width;
    const y = Math.min(Math.max(event.clientY - rect.top, 0), rect.height) * height / rect.height;
    return { x: Math.round(x), y: Math.round(y) };
  }
  function setBox(box) {
    const fields = ["x", "y", "width", "height"];
    fields.forEach((name) => { document.getElementById("add-line-" + name).value = box ? box[name] : ""; });
    const hint = document.getElementById("add-line-box");
    hint.textContent = box
      ? "Box drawn (" + box.width + "×" + box.height + " at " + box.x + ", " + box.y + "). Drag again to change it."
      : "No box: the line goes last. To place it, drag a box over it on the photo.";
  }
  root.addEventListener("pointerdown", (event) => {
    const svg = event.target.closest && event.target.closest("svg.overlay");
    if (!svg || !document.getElementById("add-line") || event.button !== 0) return;
    const start = notePoint(svg, event);
    const shape = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    shape.setAttribute("class", "drawn");
    drag = { svg, start, shape, moved: false };
  });
  root.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const point = notePoint(drag.svg, event);
    const box = { x: Math.min(point.x, drag.start.x), y: Math.min(point.y, drag.start.y),
                  width: Math.abs(point.x - drag.start.x), height: Math.abs(point.y - drag.start.y) };
    if (!drag.moved && box.width + box.height < 8) return;
    if (!drag.moved) {
      drag.moved = true;
      drag.svg.querySelectorAll("rect.drawn").forEach((old) => old.remove());
      drag.svg.appendChild(drag.shape);
      drag.svg.closest(".image-frame").classList.add("drawing");
    }
    event.preventDefault();
    Object.entries(box).forEach(([name, value]) => drag.shape.setAttribute(name, value));
    drag.box = box;
  });
  root.addEventListener("pointerup", () => {
    if (!drag) return;
    if (drag.moved && drag.box) {
      drag.svg.closest(".image-frame").classList.remove("drawing");
      setBox(drag.box);
      document.getElementById("add-line-text").focus();
    }
    drag = null;
  });

  let status = root.dataset.status;
  async function poll() {
    try {
      const response = await fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const note = await response.json();
        // While a PDF is split, each poll shows the pages made so far.
        if (note.status !== status || note.error !== (root.dataset.error || "") || note.status === "splitting") {
          status = note.status;
          root.dataset.error = note.error;
          await refreshBody();
        }
        if (!note.pending) return;
      }
    } catch (err) { /* try again */ }
    setTimeout(poll, 1000);
  }
  link();
  const firstHit = document.querySelector(".line.hit");
  if (firstHit) firstHit.scrollIntoView({ block: "center" });
  if (status === "queued" || status === "processing" || status === "splitting") setTimeout(poll, 700);
})();
