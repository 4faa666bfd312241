// Suggestions as you type, from the user's own words (a <datalist> per search box).
(function () {
  "use strict";
  const list = document.getElementById("search-suggestions");
  if (!list) return;
  let timer = null;
  let last = "";
  document.querySelectorAll("input[data-suggest-url]").forEach((input) => {
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const words = input.value.split(/\s+/);
        const current = words[words.length - 1].replace(/^[-"]+/, "");
        // Keyed on the whole text: the words before the current one are part of each suggestion.
        if (current.length < 2 || input.value === last) return;
        last = input.value;
        try {
          const url = input.dataset.suggestUrl + "?q=" + encodeURIComponent(current);
          const response = await fetch(url, { headers: { Accept: "application/json" } });
          if (!response.ok || input.value !== last) return; // typed on meanwhile: a newer request follows
          const head = words.slice(0, -1).join(" ");
          list.replaceChildren(...(await response.json()).suggestions.map((word) => {
            const option = document.createElement("option");
            option.value = (head ? head + " " : "") + word; // set as a property: never parsed as HTML
            return option;
          }));
        } catch (err) { /* suggestions are optional */ }
      }, 150);
    });
  });
})();
