/* New round page: "select all shown" for the transcript checkboxes (the page works without it). */
(function () {
  "use strict";
  document.querySelectorAll("[data-check-all]").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.getAttribute("data-check-all");
      var boxes = document.querySelectorAll('input[type=checkbox][name="' + name + '"]');
      var anyOff = Array.prototype.some.call(boxes, function (b) { return !b.checked; });
      boxes.forEach(function (b) { b.checked = anyOff; });
    });
  });
})();
