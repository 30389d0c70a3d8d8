// cvewatch web UI behaviour kept out of the templates (no inline scripts).
(function () {
  "use strict";

  // Copy buttons: <button data-copy-target="#id"> copies the text of that element.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy-target"));
    if (!source) return;
    var text = source.textContent.trim();
    var done = function (label) {
      var original = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", original);
      button.textContent = label;
      setTimeout(function () { button.textContent = original; }, 2000);
    };
    // Self-hosted instances are often served over plain http on an intranet, where browsers withhold
    // navigator.clipboard: there, select the text and fall back to the legacy copy command.
    var fallback = function () {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      done(copied ? "Copied" : "Selected: press Ctrl+C to copy");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done("Copied"); }, fallback);
    } else {
      fallback();
    }
  });

  // Organization switcher submits on change; the button stays for browsers without JS.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // Workbench (wt-t): <form data-confirm="Question?"> asks before submitting; without JS it submits directly.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  });
})();
