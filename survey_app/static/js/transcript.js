/*
 * Transcript page: refuse a transcript over the size limit before posting it, so the pasted
 * text stays in the box instead of being lost to a "file too large" page.
 */
(function () {
  "use strict";

  var form = document.getElementById("transcript-form");
  if (!form) return;
  var limit = parseInt(form.dataset.limit, 10);
  var errorEl = document.getElementById("transcript-size-error");
  var textarea = form.querySelector("textarea[name=text]");
  var fileInput = form.querySelector("input[type=file]");

  function megabytes(n) {
    var text = (n / 1e6).toFixed(1);
    return document.documentElement.lang === "fr" ? text.replace(".", ",") : text;
  }

  function size() {
    if (fileInput && fileInput.files && fileInput.files.length) return fileInput.files[0].size;
    // the server counts UTF-8 bytes with "\n" line ends, as the textarea holds them
    return textarea ? new Blob([textarea.value]).size : 0;
  }

  function check() {
    var n = size();
    var tooLarge = n > limit;
    errorEl.hidden = !tooLarge;
    errorEl.textContent = tooLarge
      ? form.dataset.tooLarge.replace("{size}", megabytes(n)).replace("{limit}", megabytes(limit))
      : "";
    return !tooLarge;
  }

  form.addEventListener("submit", function (event) {
    if (!check()) {
      event.preventDefault();
      errorEl.scrollIntoView({ block: "center" });
    }
  });
  if (fileInput) fileInput.addEventListener("change", check);
})();
