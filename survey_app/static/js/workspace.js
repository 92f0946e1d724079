/*
 * Coding workspace: select text (mouse or Shift+arrows), pick a code, see it highlighted.
 *
 * The server renders each speaker turn as one plain text block with its character offset
 * (data-start); a selection is turned into [start, end) offsets over the stored text by
 * measuring the text before it in its block. Only the blocks a coding touches are
 * re-rendered, so a very long transcript stays responsive. The server checks every span.
 */
(function () {
  "use strict";

  // codebook page: show only the fields the chosen kind of change uses
  var proposal = document.getElementById("ws-proposal");
  if (proposal) {
    var kindSelect = proposal.querySelector("select[name=kind]");
    var showFields = function () {
      proposal.querySelectorAll("[data-kinds]").forEach(function (el) {
        el.hidden = el.dataset.kinds.split(" ").indexOf(kindSelect.value) < 0;
      });
    };
    kindSelect.addEventListener("change", showFields);
    showFields();
  }

  var root = document.getElementById("ws-transcript");
  var dataEl = document.getElementById("ws-data");
  if (!root || !dataEl) return;

  var data = JSON.parse(dataEl.textContent);
  var T = data.text;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var codes = data.codes;
  var codeById = {};
  codes.forEach(function (c) { codeById[c.id] = c; });
  var codings = {};
  var suggestions = {};
  var blocks = Array.prototype.slice.call(root.querySelectorAll(".ws-text"));
  var starts = blocks.map(function (b) { return +b.dataset.start; });
  var texts = blocks.map(function (b) { return b.textContent; });
  var stateEl = document.getElementById("ws-state");
  var picker = document.getElementById("ws-picker");
  var search = document.getElementById("ws-search");
  var list = document.getElementById("ws-codes");
  var errorEl = document.getElementById("ws-error");
  var pending = null;   // {start, end} of the selection being coded
  var editing = null;   // coding being edited
  var activeOption = 0;
  var currentSuggestion = null;

  // --- offsets -------------------------------------------------------------------------------

  function blockIndex(offset) {
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= offset) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function blockEnd(i) { return starts[i] + texts[i].length; }

  function pointOffset(node, offset) {
    var el = (node.nodeType === 1 ? node : node.parentNode);
    el = el && el.closest ? el.closest(".ws-text") : null;
    if (!el || !root.contains(el)) return null;
    var range = document.createRange();
    range.setStart(el, 0);
    range.setEnd(node, offset);
    return { offset: +el.dataset.start + range.toString().length, block: blocks.indexOf(el) };
  }

  function selectionSpan() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    var r = sel.getRangeAt(0);
    var a = pointOffset(r.startContainer, r.startOffset);
    var b = pointOffset(r.endContainer, r.endOffset);
    if (!a) return null;
    // a drag ending in the margin or between turns (or a triple click) ends with its turn
    if (!b) b = { offset: blockEnd(a.block), block: a.block };
    var start = a.offset, end = b.offset;
    // a selection ending at the very start of the next turn belongs to the previous one
    if (b.block > a.block && end === starts[b.block]) end = blockEnd(b.block - 1);
    return trim(start, end);
  }

  function charAt(pos) {
    var i = blockIndex(pos);
    if (i < 0 || pos >= blockEnd(i)) return " ";
    return texts[i].charAt(pos - starts[i]);
  }

  function trim(start, end) {
    while (start < end && /\s/.test(charAt(start))) start++;
    while (end > start && /\s/.test(charAt(end - 1))) end--;
    return end > start ? { start: start, end: end } : null;
  }

  function excerpt(start, end) {
    var out = "";
    for (var i = Math.max(blockIndex(start), 0); i < blocks.length && starts[i] < end; i++) {
      var a = Math.max(start, starts[i]) - starts[i], b = Math.min(end, blockEnd(i)) - starts[i];
      if (b > a) out += (out ? " … " : "") + texts[i].slice(a, b);
      if (out.length > 400) break;
    }
    return out.length > 400 ? out.slice(0, 400) + "…" : out;
  }

  // --- rendering -----------------------------------------------------------------------------

  function itemsIn(i) {
    var s = starts[i], e = blockEnd(i), out = [];
    [codings, suggestions].forEach(function (store) {
      Object.keys(store).forEach(function (id) {
        var c = store[id];
        if (c.start < e && c.end > s) out.push(c);
      });
    });
    if (pending && pending.start < e && pending.end > s) out.push({ pending: true, start: pending.start, end: pending.end });
    return out;
  }

  function renderBlock(i) {
    var el = blocks[i], s = starts[i], e = blockEnd(i), text = texts[i];
    var items = itemsIn(i);
    var cuts = [s, e];
    items.forEach(function (c) {
      cuts.push(Math.max(s, Math.min(e, c.start)), Math.max(s, Math.min(e, c.end)));
    });
    cuts = cuts.filter(function (x, k, arr) { return arr.indexOf(x) === k; }).sort(function (x, y) { return x - y; });
    var frag = document.createDocumentFragment();
    for (var k = 0; k + 1 < cuts.length; k++) {
      var a = cuts[k], b = cuts[k + 1];
      var piece = text.slice(a - s, b - s);
      var over = items.filter(function (c) { return c.start <= a && c.end >= b; });
      if (!over.length) { frag.appendChild(document.createTextNode(piece)); continue; }
      var mark = document.createElement("mark");
      var human = over.filter(function (c) { return !c.pending && c.source !== "model"; });
      var first = human[0] || over.filter(function (c) { return !c.pending; })[0];
      mark.className = "ws-hl";
      if (over.some(function (c) { return c.pending; })) mark.classList.add("ws-pending");
      if (!human.length && first) mark.classList.add("ws-suggestion");
      if (human.length > 1) mark.classList.add("ws-multi");
      if (first) {
        var code = codeOf(first);
        mark.style.setProperty("--hl", code.background);
        mark.style.setProperty("--ink", code.colour);
        mark.dataset.ids = over.filter(function (c) { return c.id; }).map(function (c) { return c.id; }).join(" ");
        mark.title = over.filter(function (c) { return c.id; }).map(function (c) { return c.code + (c.coder ? " · " + c.coder : ""); }).join("\n");
      }
      mark.textContent = piece;
      frag.appendChild(mark);
    }
    el.replaceChildren(frag);
    renderMargin(i, items);
  }

  function codeOf(c) {
    return codeById[c.code_id] || { key: c.code, label: c.label, colour: "#5b6770", background: "#e6e9ec" };
  }

  function chip(c) {
    var code = codeOf(c);
    var b = document.createElement("button");
    b.type = "button";
    b.className = "ws-chip" + (c.source === "model" ? " ws-chip-suggestion" : "") + (c.mine ? " ws-mine" : "");
    b.style.setProperty("--ink", code.colour);
    b.style.setProperty("--hl", code.background);
    b.dataset.id = c.id;
    b.dataset.kind = c.source === "model" ? "suggestion" : "coding";
    var label = c.code;
    if (c.source === "model") {
      label += " " + Math.round((c.confidence || 0) * 100) + "%";
      if (c.precision !== null && c.precision !== undefined) {
        label += " · " + T.precision + " " + Math.round(c.precision * 100) + "%";
      }
    } else {
      if (c.valence !== null && c.valence !== undefined) label += " " + (c.valence > 0 ? "+" : c.valence < 0 ? "−" : "0");
      if (c.intensity !== null && c.intensity !== undefined) label += " i" + c.intensity;
      if (c.coder && !c.mine) label += " · " + c.coder;
    }
    b.textContent = label;
    b.title = c.label + (c.memo ? "\n" + c.memo : "") + (c.retired ? "\n(" + T.retired + ")" : "") +
      (c.source === "model" && c.precision !== null && c.precision !== undefined ? "\n" + T.measured : "");
    return b;
  }

  function renderMargin(i, items) {
    var margin = blocks[i].nextElementSibling;
    if (!margin) return;
    var own = items.filter(function (c) { return c.id && blockIndex(Math.max(c.start, starts[0])) === i; });
    own.sort(function (x, y) { return x.start - y.start || x.id - y.id; });
    margin.replaceChildren.apply(margin, own.map(function (c) {
      if (c.source !== "model") return chip(c);
      var wrap = document.createElement("span");
      wrap.className = "ws-sugg";
      wrap.appendChild(chip(c));
      [["✓", "accept", T.accept], ["✗", "reject", T.reject]].forEach(function (x) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "ws-decide ws-" + x[1];
        btn.textContent = x[0];
        btn.title = x[2];
        btn.setAttribute("aria-label", x[2] + " " + c.code);
        btn.dataset.id = c.id;
        btn.dataset.action = x[1];
        wrap.appendChild(btn);
      });
      return wrap;
    }));
  }

  function renderSpan(start, end) {
    var i = Math.max(blockIndex(start), 0);
    for (; i < blocks.length && starts[i] < Math.max(end, start + 1); i++) renderBlock(i);
  }

  // --- saving --------------------------------------------------------------------------------

  function setState(state, message) {
    stateEl.dataset.state = state;
    stateEl.textContent = message || T[state] || "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (resp) {
      return resp.json().catch(function () { return { ok: false, message: T.error }; }).then(function (json) {
        json.status = resp.status;
        return json;
      });
    });
  }

  function urlFor(name, id) { return data.urls[name].replace(/\/0\//, "/" + id + "/").replace(/\/0$/, "/" + id); }

  function formValues() {
    var v = picker.querySelector('input[name="ws-valence"]:checked').value;
    var i = document.getElementById("ws-intensity").value;
    return {
      valence: v === "" ? null : +v,
      intensity: i === "" ? null : +i,
      memo: document.getElementById("ws-memo").value
    };
  }

  function apply(code) {
    if (!code) return;
    var values = formValues();
    errorEl.textContent = "";
    setState("saving");
    var request;
    if (editing) {
      var body = { version: editing.version, code_id: code.id, valence: values.valence, intensity: values.intensity, memo: values.memo };
      request = post(urlFor("update", editing.id), body);
    } else if (pending) {
      request = post(data.urls.create, { start: pending.start, end: pending.end, code_id: code.id,
        valence: values.valence, intensity: values.intensity, memo: values.memo });
    } else return;
    var before = editing;
    request.then(function (json) {
      if (!json.ok) { setState("error"); errorEl.textContent = json.message || T.error; return; }
      var c = json.coding;
      remember(before ? { kind: "update", id: c.id, before: before } : { kind: "create", id: c.id, coding: c });
      codings[c.id] = c;
      var span = pending || c;
      pending = null;
      editing = null;
      closePicker();
      renderSpan(Math.min(span.start, c.start), Math.max(span.end, c.end));
      setState("saved");
      root.dataset.saved = String(c.id);
    }).catch(function () { setState("offline"); errorEl.textContent = T.offline; });
  }

  function remove() {
    if (!editing) return;
    var c = editing;
    setState("saving");
    post(urlFor("delete", c.id)).then(function (json) {
      if (!json.ok) { setState("error"); errorEl.textContent = json.message || T.error; return; }
      delete codings[c.id];
      var gone = Object.assign({}, c, { version: json.version });
      remember({ kind: "delete", id: c.id, coding: gone });
      editing = null;
      closePicker();
      renderSpan(c.start, c.end);
      setState("saved");
      toast(T.deleted + " (" + c.code + ")", undoStack[undoStack.length - 1]);
    }).catch(function () { setState("offline"); });
  }

  // --- undo (Ctrl+Z, or "Undo" in the toast): through the normal API, with versions ----------

  var undoStack = [];   // the user's own changes in this page, last one last
  var toastEl = document.getElementById("ws-toast");
  var toastTimer = null;
  var toastEntry = null;  // the change the toast's "Undo" button undoes

  function remember(entry) {
    undoStack.push(entry);
    if (undoStack.length > 100) undoStack.shift();
  }

  function toast(message, entry) {
    toastEntry = entry || null;
    toastEl.querySelector(".ws-toast-text").textContent = message;
    toastEl.querySelector("button").hidden = !toastEntry;
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toastEl.hidden = true; }, 8000);
  }

  function undo(chosen) {
    // Ctrl+Z undoes the last change; the toast's button undoes the delete it announced, even
    // if another change came in between
    var at = chosen ? undoStack.indexOf(chosen) : undoStack.length - 1;
    var entry = at >= 0 ? undoStack.splice(at, 1)[0] : null;
    if (!entry) { toast(T.nothing); return; }
    // the version this page last saw: our own later changes moved it on
    var known = codings[entry.id] || entry.coding || entry.before;
    var request;
    if (entry.kind === "create") {
      request = post(urlFor("delete", entry.id), { version: known.version, undo: true });
    } else if (entry.kind === "delete") {
      request = post(urlFor("restore", entry.id), { version: entry.coding.version });
    } else {
      var b = entry.before;
      request = post(urlFor("update", entry.id), { version: known.version, undo: true, code_id: b.code_id,
        valence: b.valence, intensity: b.intensity, memo: b.memo, start: b.start, end: b.end });
    }
    setState("saving");
    request.then(function (json) {
      if (!json.ok) {
        setState("error", json.message);
        toast(T.undoFailed + " " + (json.message || ""));
        return;
      }
      var old = codings[entry.id] || known;
      if (entry.kind === "create") delete codings[entry.id];
      else codings[entry.id] = json.coding;
      var now = codings[entry.id] || old;
      renderSpan(Math.min(old.start, now.start), Math.max(old.end, now.end));
      setState("saved");
      toast(T.undone);
      root.dataset.undone = String((+root.dataset.undone || 0) + 1);
    }).catch(function () { undoStack.push(entry); setState("offline"); });
  }

  toastEl.querySelector("button").addEventListener("click", function () {
    toastEl.hidden = true;
    if (toastEntry) undo(toastEntry);
  });
  document.addEventListener("keydown", function (ev) {
    if (typing(ev) || ev.altKey || ev.shiftKey || !(ev.ctrlKey || ev.metaKey)) return;
    if (ev.key.toLowerCase() !== "z") return;
    ev.preventDefault();
    undo();
  });

  // --- the code picker -----------------------------------------------------------------------

  function fold(s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }

  function matches() {
    var words = fold(search.value).split(/\s+/).filter(Boolean);
    return codes.filter(function (c) {
      var hay = fold(c.key + " " + c.label + " " + c.family);
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    });
  }

  function renderList() {
    var found = matches();
    activeOption = Math.min(activeOption, Math.max(found.length - 1, 0));
    list.replaceChildren.apply(list, found.map(function (c, k) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = "ws-code-" + c.id;
      li.dataset.id = c.id;
      li.className = "ws-code" + (k === activeOption ? " active" : "");
      li.setAttribute("aria-selected", k === activeOption ? "true" : "false");
      li.style.setProperty("--ink", c.colour);
      li.title = c.definition || "";
      var key = document.createElement("strong");
      key.textContent = c.key;
      var lab = document.createElement("span");
      lab.textContent = " " + c.label;
      li.append(key, lab);
      return li;
    }));
    if (!found.length) {
      var none = document.createElement("li");
      none.className = "hint";
      none.textContent = T.nocode;
      list.appendChild(none);
    } else {
      search.setAttribute("aria-activedescendant", "ws-code-" + found[activeOption].id);
      var act = list.querySelector(".active");
      if (act) act.scrollIntoView({ block: "nearest" });
    }
    return found;
  }

  function openPicker(span, coding) {
    var previous = pending;
    pending = coding ? null : span;
    editing = coding || null;
    document.getElementById("ws-picker-title").textContent = coding ? T.edit : T.code;
    document.getElementById("ws-excerpt").textContent = excerpt(span.start, span.end);
    document.getElementById("ws-delete").hidden = !coding;
    var val = coding && coding.valence !== null ? String(coding.valence) : "";
    picker.querySelector('input[name="ws-valence"][value="' + val + '"]').checked = true;
    document.getElementById("ws-intensity").value = coding && coding.intensity !== null ? String(coding.intensity) : "";
    document.getElementById("ws-memo").value = coding ? coding.memo : "";
    errorEl.textContent = "";
    search.value = coding ? coding.code : "";
    activeOption = 0;
    picker.hidden = false;
    renderList();
    if (previous) renderSpan(previous.start, previous.end);
    if (pending) renderSpan(pending.start, pending.end);
    search.focus();
  }

  function closePicker() {
    var previous = pending;
    picker.hidden = true;
    pending = null;
    editing = null;
    if (previous) renderSpan(previous.start, previous.end);
    if (lastBlock) lastBlock.focus({ preventScroll: true });
  }

  search.addEventListener("input", function () { activeOption = 0; renderList(); });
  search.addEventListener("keydown", function (ev) {
    var found = matches();
    if (ev.key === "ArrowDown") { activeOption = Math.min(activeOption + 1, found.length - 1); renderList(); ev.preventDefault(); }
    else if (ev.key === "ArrowUp") { activeOption = Math.max(activeOption - 1, 0); renderList(); ev.preventDefault(); }
    else if (ev.key === "Enter") { ev.preventDefault(); apply(found[activeOption]); }
    else if (ev.key === "Escape") { ev.preventDefault(); closePicker(); }
  });
  list.addEventListener("click", function (ev) {
    var li = ev.target.closest(".ws-code");
    if (li) apply(codeById[li.dataset.id]);
  });
  document.getElementById("ws-apply").addEventListener("click", function () { apply(matches()[activeOption]); });
  document.getElementById("ws-cancel").addEventListener("click", closePicker);
  document.getElementById("ws-delete").addEventListener("click", remove);
  picker.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { ev.preventDefault(); closePicker(); } });

  // --- selection with the mouse and the keyboard ---------------------------------------------

  var lastBlock = null;

  root.addEventListener("mouseup", function (ev) {
    if (ev.target.closest(".ws-margin")) return;
    var span = selectionSpan();
    if (span) openPicker(span);
  });

  function focusBlock(i) {
    if (i < 0 || i >= blocks.length) return;
    lastBlock = blocks[i];
    lastBlock.focus({ preventScroll: true });
    lastBlock.scrollIntoView({ block: "nearest" });
    var sel = window.getSelection();
    sel.removeAllRanges();
    var r = document.createRange();
    r.setStart(lastBlock, 0);
    r.collapse(true);
    sel.addRange(r);
  }

  function currentBlockIndex() {
    var el = document.activeElement && document.activeElement.closest && document.activeElement.closest(".ws-text");
    if (!el) {
      var sel = window.getSelection();
      if (sel && sel.rangeCount) { var p = pointOffset(sel.focusNode, sel.focusOffset); if (p) return p.block; }
      return lastBlock ? blocks.indexOf(lastBlock) : -1;
    }
    return blocks.indexOf(el);
  }

  function typing(ev) {
    var t = ev.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  var EXTEND = { ArrowLeft: "backward", ArrowRight: "forward", ArrowUp: "backward", ArrowDown: "forward" };

  document.addEventListener("keydown", function (ev) {
    if (typing(ev) || ev.altKey || ev.metaKey) return;
    var sel = window.getSelection();
    if (ev.shiftKey && EXTEND[ev.key] && sel && sel.rangeCount && root.contains(sel.anchorNode)) {
      var unit = ev.key === "ArrowUp" || ev.key === "ArrowDown" ? "line" : ev.ctrlKey ? "word" : "character";
      sel.modify("extend", EXTEND[ev.key], unit);
      ev.preventDefault();
      return;
    }
    if (ev.ctrlKey) return;
    var key = ev.key.toLowerCase();
    if (key === "j" || (key === "arrowdown" && !ev.shiftKey && root.contains(document.activeElement))) {
      focusBlock(currentBlockIndex() + 1); ev.preventDefault();
    } else if (key === "k" || (key === "arrowup" && !ev.shiftKey && root.contains(document.activeElement))) {
      focusBlock(Math.max(currentBlockIndex() - 1, 0)); ev.preventDefault();
    } else if (key === "c" || (key === "enter" && root.contains(document.activeElement))) {
      var span = selectionSpan();
      var i = currentBlockIndex();
      if (!span && i >= 0) span = wholeTurn(i);
      if (span) { ev.preventDefault(); openPicker(span); }
    } else if (key === "delete" && document.activeElement && document.activeElement.classList.contains("ws-mine")) {
      var own = codings[+document.activeElement.dataset.id];
      if (own) { editing = own; remove(); ev.preventDefault(); }
    } else if (key === "n") {
      nextSuggestion(); ev.preventDefault();
    } else if ((key === "a" || key === "r") && currentSuggestion) {
      decide(currentSuggestion, key === "a" ? "accept" : "reject"); ev.preventDefault();
    } else if (key === "escape" && !picker.hidden) {
      closePicker();
    }
  });

  function wholeTurn(i) {
    // the turn without its speaker label ("Interviewé : ...")
    var m = /^[^\n:]{1,40}\s?:\s*/.exec(texts[i]);
    var from = m && m[0].length < texts[i].length ? m[0].length : 0;
    return trim(starts[i] + from, blockEnd(i));
  }

  // --- codings in the margin -----------------------------------------------------------------

  root.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button");
    if (!btn || !root.contains(btn)) return;
    var id = +btn.dataset.id;
    if (btn.classList.contains("ws-decide")) { decide(id, btn.dataset.action); return; }
    if (btn.dataset.kind === "suggestion") { selectSuggestion(id); return; }
    var c = codings[id];
    if (c && c.mine) openPicker(c, c);
  });

  // --- suggestions ---------------------------------------------------------------------------

  function orderedSuggestions() {
    return Object.keys(suggestions).map(function (k) { return suggestions[k]; })
      .sort(function (x, y) { return x.start - y.start || y.confidence - x.confidence; });
  }

  function selectSuggestion(id) {
    currentSuggestion = id;
    root.querySelectorAll(".ws-chip.current").forEach(function (el) { el.classList.remove("current"); });
    var el = root.querySelector('.ws-chip[data-kind="suggestion"][data-id="' + id + '"]');
    if (el) { el.classList.add("current"); el.focus({ preventScroll: true }); el.scrollIntoView({ block: "nearest" }); }
  }

  function nextSuggestion() {
    var all = orderedSuggestions();
    if (!all.length) { currentSuggestion = null; return; }
    var k = all.findIndex(function (s) { return s.id === currentSuggestion; });
    selectSuggestion(all[(k + 1) % all.length].id);
  }

  function decide(id, action) {
    var s = suggestions[id];
    if (!s) return;
    var next = orderedSuggestions().filter(function (x) { return x.start >= s.start && x.id !== id; })[0];
    setState("saving");
    post(urlFor(action, id)).then(function (json) {
      if (!json.ok) { setState("error", json.message); return; }
      delete suggestions[id];
      if (json.coding) codings[json.coding.id] = json.coding;
      renderSpan(s.start, s.end);
      setState("saved");
      root.dataset.decided = String(id);
      if (next) selectSuggestion(next.id); else currentSuggestion = null;
    }).catch(function () { setState("offline"); });
  }

  var suggestBtn = document.getElementById("ws-suggest");
  var progressBox = document.getElementById("ws-progress");
  var floorInput = document.getElementById("ws-floor");
  var FLOOR_KEY = "milieu.suggestionFloor";
  if (floorInput) {
    try { if (localStorage.getItem(FLOOR_KEY)) floorInput.value = localStorage.getItem(FLOOR_KEY); } catch (e) { /* private mode */ }
    floorInput.addEventListener("change", function () {
      try { localStorage.setItem(FLOOR_KEY, floorInput.value); } catch (e) { /* private mode */ }
    });
  }

  function loadSuggestions() {
    return fetch(data.urls.suggestions, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (json) {
        var touched = Object.keys(suggestions).map(function (k) { return suggestions[k]; });
        suggestions = {};
        (json.suggestions || []).forEach(function (s) { suggestions[s.id] = s; touched.push(s); });
        var seen = {};
        touched.forEach(function (s) {
          var i = blockIndex(s.start);
          if (!seen[i]) { seen[i] = true; renderSpan(s.start, s.end); }
        });
        root.dataset.suggestions = String(Object.keys(suggestions).length);
      });
  }

  function poll(job) {
    progressBox.hidden = false;
    progressBox.querySelector("progress").value = job.progress || 0;
    progressBox.querySelector(".hint").textContent = T.suggesting + " " + (job.message || "");
    if (job.status === "done") {
      progressBox.querySelector(".hint").textContent = T.suggested;
      suggestBtn.disabled = false;
      loadSuggestions().then(nextSuggestion);
      return;
    }
    if (job.status === "failed") {
      progressBox.querySelector(".hint").textContent = T.failed + ": " + (job.error || "");
      suggestBtn.disabled = false;
      return;
    }
    setTimeout(function () {
      fetch(urlFor("job", job.id), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (json) { poll(json.job); })
        .catch(function () { setTimeout(function () { poll(job); }, 2000); });
    }, 600);
  }

  if (suggestBtn) {
    suggestBtn.addEventListener("click", function () {
      suggestBtn.disabled = true;
      post(data.urls.suggest, floorInput ? { floor: floorInput.value } : {}).then(function (json) {
        if (!json.ok) { suggestBtn.disabled = false; setState("error", json.message); return; }
        poll(json.job);
      }).catch(function () { suggestBtn.disabled = false; setState("offline"); });
    });
  }

  // --- start ---------------------------------------------------------------------------------

  data.codings.forEach(function (c) { codings[c.id] = c; });
  data.suggestions.forEach(function (s) { suggestions[s.id] = s; });
  var dirty = {};
  data.codings.concat(data.suggestions).forEach(function (c) {
    for (var i = Math.max(blockIndex(c.start), 0); i < blocks.length && starts[i] < c.end; i++) dirty[i] = true;
  });
  Object.keys(dirty).forEach(function (i) { renderBlock(+i); });
  root.dataset.suggestions = String(data.suggestions.length);
  if (data.focus !== null && data.focus !== undefined) {
    var fi = blockIndex(data.focus);
    if (fi >= 0) { blocks[fi].classList.add("ws-focus"); focusBlock(fi); blocks[fi].scrollIntoView({ block: "center" }); }
  }
  // opened from a search hit: the hit is selected, ready to code
  if (data.select) {
    var hit = trim(data.select[0], data.select[1]);
    if (hit) openPicker(hit);
  }
  root.dataset.ready = "1";
})();
