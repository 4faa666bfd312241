// Keyboard-only reviewing. In the text field, Enter saves and Alt+key runs the
// other actions; outside it (after Esc) the bare keys do.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  var field = document.getElementById("review-text");
  var help = document.getElementById("review-help");
  var actions = { a: "accept", s: "skip", n: "accept_note" };

  function submit(action) {
    var button = form.querySelector('button[name="action"][value="' + action + '"]');
    if (button) form.requestSubmit(button);
  }

  function pick(number) {
    var choice = document.querySelectorAll("#alternatives .pick")[number - 1];
    if (!choice) return;
    field.value = choice.dataset.text;
    field.focus();
  }

  function showHelp() {
    if (help && !help.open) help.showModal();
  }

  if (!form) {
    // Queue done but for skipped lines: Enter goes back to them.
    var again = document.getElementById("review-skipped");
    if (again) again.focus();
    return;
  }
  document.getElementById("show-help").addEventListener("click", showHelp);
  if (field) {
    // Caret at the end: most corrections are small edits.
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  }
  form.querySelectorAll("#alternatives .pick").forEach(function (button, index) {
    button.addEventListener("click", function () { pick(index + 1); });
  });

  document.addEventListener("keydown", function (event) {
    if (help && help.open) return;
    var inField = event.target === field;
    var key = event.key.toLowerCase();
    if (event.ctrlKey || event.metaKey) return;
    if (event.altKey || !inField) {
      // Alt+letter arrives as another character on some layouts; event.code does not.
      var letter = event.code && event.code.indexOf("Key") === 0 ? event.code.slice(3).toLowerCase() : key;
      var digit = event.code && event.code.indexOf("Digit") === 0 ? Number(event.code.slice(5)) : Number(key);
      if (actions[letter]) { event.preventDefault(); submit(actions[letter]); return; }
      if (digit >= 1 && digit <= 9) { event.preventDefault(); pick(digit); return; }
      if (!inField && (key === "?" || (event.shiftKey && event.code === "Slash"))) { event.preventDefault(); showHelp(); return; }
      if (!inField && (letter === "e" || key === "enter")) { event.preventDefault(); field.focus(); return; }
    }
    if (inField && key === "escape") { field.blur(); }
  });
})();
