/*
 * Interview form: live skip logic and autosave that survives a dropped connection.
 *
 * The server stays the authority: it re-checks skip logic and answers on every save.
 * What the fieldworker types is kept in localStorage until the server confirms it, so a
 * network failure, a closed tab or a crash loses nothing; saves retry with back-off.
 */
(function () {
  "use strict";

  var form = document.getElementById("interview-form");
  if (!form || !window.MilieuExpr) return;

  var stored = JSON.parse(document.getElementById("milieu-answers").textContent || "{}");
  var locked = form.dataset.locked === "1"; // submitted: shown read-only, never saved
  var text = JSON.parse(document.getElementById("milieu-messages").textContent || "{}");
  var stateEl = document.getElementById("save-state");
  var versionEl = document.getElementById("version");
  var storageKey = "milieu:interview:" + form.dataset.interview + ":" + form.dataset.section;
  var MISSING = "__missing";
  var DEBOUNCE_MS = 1500;
  var timer = null;
  var retryDelay = 2000;
  var inFlight = false;
  var dirty = false;
  var stopped = false;

  // --- answers in the page --------------------------------------------------------------

  function fieldValue(name) {
    var els = form.querySelectorAll('[name="' + name + '"]');
    if (!els.length) return undefined;
    var first = els[0];
    if (first.type === "radio") {
      for (var i = 0; i < els.length; i++) if (els[i].checked) return els[i].value;
      return "";
    }
    if (first.type === "checkbox") {
      if (els.length === 1 && first.closest(".type-consent")) return first.checked ? "yes" : "";
      var values = [];
      for (var j = 0; j < els.length; j++) if (els[j].checked) values.push(els[j].value);
      return values;
    }
    return first.value;
  }

  function currentAnswers() {
    var answers = {};
    Object.keys(stored).forEach(function (k) { answers[k] = stored[k]; });
    form.querySelectorAll(".question").forEach(function (q) {
      var key = q.dataset.key;
      var missing = fieldValue(key + MISSING);
      var value = fieldValue(key);
      answers[key] = missing ? missing : value;
    });
    return answers;
  }

  // --- skip logic ---------------------------------------------------------------------------

  function applySkipLogic() {
    // questions are evaluated in order, so a hidden question counts as "not asked" for later ones
    var answers = currentAnswers();
    form.querySelectorAll(".question").forEach(function (q) {
      var expr = q.dataset.relevant;
      if (!expr) return;
      var shown;
      try {
        shown = window.MilieuExpr.evaluate(expr, answers);
      } catch (err) {
        shown = true; // never hide a question because of a script problem; the server decides
      }
      q.hidden = !shown;
      if (!shown) answers[q.dataset.key] = "not_asked";
    });
  }

  // --- keeping what was typed -------------------------------------------------------------

  function snapshot() {
    var pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && name !== "version") pairs.push([name, value]);
    });
    return pairs;
  }

  function keepLocally() {
    try {
      localStorage.setItem(storageKey, JSON.stringify({
        version: versionEl.value, pairs: snapshot(), at: new Date().toISOString()
      }));
    } catch (err) { /* storage full or disabled: the in-page copy still retries */ }
  }

  function forgetLocal() {
    try { localStorage.removeItem(storageKey); } catch (err) { /* ignore */ }
  }

  function restoreLocal() {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (err) { saved = null; }
    if (!saved || !saved.pairs) return false;
    var byName = {};
    saved.pairs.forEach(function (p) { (byName[p[0]] = byName[p[0]] || []).push(p[1]); });
    form.querySelectorAll("input, textarea, select").forEach(function (el) {
      if (!el.name || el.name === "csrf_token" || el.name === "version") return;
      var values = byName[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") el.checked = values.indexOf(el.value) >= 0;
      else if (el.type !== "file") el.value = values.length ? values[0] : "";
    });
    return true;
  }

  // --- saving -------------------------------------------------------------------------------

  function show(state, message) {
    stateEl.dataset.state = state;
    stateEl.textContent = message;
  }

  function changed() {
    if (stopped) return;
    dirty = true;
    keepLocally();
    show("unsaved", text.unsaved);
    applySkipLogic();
    clearTimeout(timer);
    timer = setTimeout(save, DEBOUNCE_MS);
  }

  function save() {
    if (!dirty || inFlight || stopped) return;
    inFlight = true;
    dirty = false;
    show("saving", text.saving);
    var body = new FormData(form);
    fetch(form.dataset.autosaveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        inFlight = false;
        if (response.ok && data.ok) {
          versionEl.value = data.version;
          retryDelay = 2000;
          markInvalid(data.errors || {});
          if (dirty) { save(); return; }
          if (data.errors && Object.keys(data.errors).length) {
            keepLocally(); // the invalid answers stay here until corrected
            show("error", data.message || text.partial);
            return;
          }
          forgetLocal();
          if (data.consent === false && form.dataset.section === firstSection()) {
            show("refused", text.refused);
          } else {
            show("saved", text.saved);
          }
        } else if (response.status === 409) {
          stopped = true; // never overwrite someone else's save; the typed answers stay on screen
          show("error", data.message || text.stale);
        } else if (response.status === 422) {
          dirty = true;
          markInvalid(data.errors || {});
          show("error", data.message || text.invalid);
        } else if (response.status === 400 || response.status === 403) {
          stopped = true;
          show("error", data.message || text.expired);
        } else {
          retryLater();
        }
      });
    }).catch(function () {
      inFlight = false;
      retryLater();
    });
  }

  function firstSection() {
    var link = document.querySelector("nav.sections a");
    return link ? link.getAttribute("href").split("/sections/")[1] : null;
  }

  function markInvalid(errors) {
    // the server's message under each answer it left out; cleared once the answer is valid
    form.querySelectorAll(".question").forEach(function (q) {
      var old = q.querySelector("p.error.from-autosave");
      if (old) old.remove();
      var message = errors[q.dataset.key];
      q.classList.toggle("has-error", !!message || !!q.querySelector("p.error"));
      if (message) {
        var p = document.createElement("p");
        p.className = "error from-autosave";
        p.textContent = message;
        q.appendChild(p);
      }
    });
  }

  function retryLater() {
    dirty = true;
    show("offline", text.offline.replace("{s}", Math.round(retryDelay / 1000)));
    clearTimeout(timer);
    timer = setTimeout(save, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  // --- wiring -------------------------------------------------------------------------------

  if (locked) { applySkipLogic(); return; }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    clearTimeout(timer);
    stopped = true; // the full save takes over; the local copy stays until the next page loads
  });
  form.querySelectorAll(".clear-missing").forEach(function (button) {
    button.addEventListener("click", function () {
      form.querySelectorAll('[name="' + button.dataset.for + MISSING + '"]').forEach(function (r) {
        r.checked = false;
      });
      changed();
    });
  });
  window.addEventListener("online", function () { retryDelay = 2000; save(); });
  window.addEventListener("beforeunload", function (event) {
    if (dirty || inFlight) { event.preventDefault(); event.returnValue = text.leave; }
  });

  if (document.querySelector(".flash-success")) forgetLocal(); // the full save went through
  if (restoreLocal()) {
    dirty = true;
    show("unsaved", text.restored);
    timer = setTimeout(save, 200);
  }
  applySkipLogic();
})();
