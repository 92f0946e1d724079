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

/*
 * Reconciliation page: each decision posts and reloads the page; come back to the same place.
 * The decided card is put back where it was on screen (or, if the filter now hides it, the
 * page is scrolled to the same height).
 */
(function () {
  "use strict";
  var forms = document.querySelectorAll("form.decide");
  var KEY = "milieu.reconcile:" + location.pathname;
  var MAX_AGE_MS = 60000;

  function cardKey(card) {
    return [card.dataset.transcript, card.dataset.start, card.dataset.code].join("|");
  }

  forms.forEach(function (form) {
    form.addEventListener("submit", function () {
      var card = form.closest(".disagreement");
      var state = { y: window.scrollY, at: Date.now() };
      if (card) { state.card = cardKey(card); state.top = card.getBoundingClientRect().top; }
      try { sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
    });
  });

  var saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); sessionStorage.removeItem(KEY); } catch (e) { saved = null; }
  if (!saved || Date.now() - saved.at > MAX_AGE_MS) return;
  if ("scrollRestoration" in history) history.scrollRestoration = "manual";

  function restore() {
    var target = null;
    document.querySelectorAll(".disagreement").forEach(function (card) {
      if (cardKey(card) === saved.card) target = card;
    });
    var y = target ? window.scrollY + target.getBoundingClientRect().top - saved.top : saved.y;
    window.scrollTo(0, Math.max(0, y));
  }
  restore();
  // the URL's #disagreements anchor scrolls once the page has loaded: restore again after it
  window.addEventListener("load", function () { setTimeout(restore, 0); });
})();
