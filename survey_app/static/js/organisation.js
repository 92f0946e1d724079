/*
 * Organisation form: a search box above the commune list. Typing keeps the communes whose
 * name or INSEE code contains the text (accents ignored); one match is selected at once.
 * Without this script the list still works, with no commune chosen by default.
 */
(function () {
  "use strict";

  var search = document.getElementById("commune-search");
  if (!search) return;
  var select = document.getElementById(search.dataset.filter);
  if (!select) return;
  search.hidden = false;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  var options = Array.prototype.slice.call(select.options);
  search.addEventListener("input", function () {
    var needle = fold(search.value.trim());
    var matches = [];
    options.forEach(function (opt) {
      if (!opt.value) return; // the empty "choose" entry stays
      var keep = !needle || fold(opt.textContent).indexOf(needle) >= 0;
      opt.hidden = !keep;
      opt.disabled = !keep;
      if (keep) matches.push(opt);
    });
    if (matches.length === 1) select.value = matches[0].value;
    else if (select.selectedOptions.length && select.selectedOptions[0].hidden) select.value = "";
  });
})();
