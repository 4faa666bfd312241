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
