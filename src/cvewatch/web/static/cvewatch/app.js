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
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        function () { done("Copied"); },
        function () { done("Copy failed: select and copy by hand"); }
      );
    } else {
      done("Copy unavailable: select and copy by hand");
    }
  });

  // Organization switcher submits on change; the button stays for browsers without JS.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });
})();
