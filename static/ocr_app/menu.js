// The top bar's menu button on narrow screens: shows and hides the links, says so
// with aria-expanded, and Esc closes it. Without this script the button stays
// hidden and the links wrap in the bar.
(() => {
  const bar = document.querySelector(".topbar");
  const toggle = bar && bar.querySelector(".menu-toggle");
  if (!toggle) return;
  const setOpen = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    bar.classList.toggle("menu-open", open);
  };
  toggle.hidden = false;
  bar.classList.add("has-menu");
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  bar.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || toggle.getAttribute("aria-expanded") !== "true") return;
    setOpen(false);
    toggle.focus();
  });
})();
