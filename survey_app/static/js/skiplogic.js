/*
 * Milieu skip-logic expressions in the browser.
 *
 * The same language and the same rules as survey_app/instruments/expr.py (the server is
 * the authority; this copy only shows and hides questions live). Hand-written tokenizer
 * and recursive-descent parser; nothing here calls eval or Function.
 *
 *   MilieuExpr.evaluate("a4 >= 4 and selected(a2, 'agent')", {a4: "5", a2: ["agent"]})
 */
(function (root) {
  "use strict";

  var MISSING = { dont_know: true, refused: true, not_asked: true };
  var KEY_RE = /^[a-z][a-z0-9_]{0,31}$/;
  // XML whitespace and ASCII digits only, as in XPath (and as expr.py agrees).
  var NUMBER_RE = /^[ \t\r\n]*-?([0-9]+(\.[0-9]*)?|\.[0-9]+)[ \t\r\n]*$/;
  var KEYWORDS = { and: true, or: true, not: true };
  var FUNCTIONS = { selected: 2, count_selected: 1, string_length: 1 };
  var ALIASES = { "count-selected": "count_selected", "string-length": "string_length" };
  var TOKEN_RE =
    /([ \t\r\n]+)|([0-9]+(?:\.[0-9]*)?|\.[0-9]+)|('[^']*'|"[^"]*")|(\$\{[^}]*\})|([A-Za-z_][A-Za-z0-9_-]*)|(!=|<=|>=|=|<|>)|([(),.\-])/y;
  var KINDS = [null, "ws", "number", "string", "dollar", "name", "op", "punct"];
  var MAX_DEPTH = 50;

  function ExprError(message, source, pos) {
    this.name = "ExprError";
    this.message = message + " at position " + pos + " in '" + source + "'";
    this.pos = pos;
  }
  ExprError.prototype = Object.create(Error.prototype);

  function tokenize(source) {
    var tokens = [];
    var pos = 0;
    while (pos < source.length) {
      TOKEN_RE.lastIndex = pos;
      var m = TOKEN_RE.exec(source);
      if (m === null) {
        throw new ExprError("unexpected character '" + source[pos] + "'", source, pos);
      }
      var kind = null;
      for (var g = 1; g < KINDS.length; g++) {
        if (m[g] !== undefined) { kind = KINDS[g]; break; }
      }
      if (kind !== "ws") tokens.push({ kind: kind, text: m[0], pos: pos });
      pos = TOKEN_RE.lastIndex;
    }
    tokens.push({ kind: "end", text: "", pos: source.length });
    return tokens;
  }

  function parse(source) {
    if (source.length > 2000) throw new ExprError("expression too long", source.slice(0, 40), 2000);
    var tokens = tokenize(source);
    var i = 0;
    var depth = 0;

    function peek() { return tokens[i]; }
    function take() { return tokens[i++]; }
    function fail(message, tok) { return new ExprError(message, source, (tok || peek()).pos); }
    function expect(text) {
      var tok = take();
      if (tok.text !== text) throw fail("expected '" + text + "'", tok);
    }
    function isName(text) { return peek().kind === "name" && peek().text === text; }

    function nest() {
      depth += 1;
      if (depth > MAX_DEPTH) throw fail("expression nested too deeply");
    }
    function orExpr() {
      nest();
      var node = andExpr();
      while (isName("or")) { take(); node = { t: "bool", op: "or", left: node, right: andExpr() }; }
      depth -= 1;
      return node;
    }
    function andExpr() {
      var node = notExpr();
      while (isName("and")) { take(); node = { t: "bool", op: "and", left: node, right: notExpr() }; }
      return node;
    }
    function notExpr() {
      if (isName("not")) {
        take();
        nest();
        var negated = { t: "not", operand: notExpr() };
        depth -= 1;
        return negated;
      }
      return comparison();
    }
    function comparison() {
      var node = primary();
      if (peek().kind === "op") {
        var op = take().text;
        node = { t: "cmp", op: op, left: node, right: primary() };
        if (peek().kind === "op") throw fail("chained comparison: use 'and'");
      }
      return node;
    }
    function ref(key, tok) {
      if (!KEY_RE.test(key) || KEYWORDS[key]) throw fail("invalid question key '" + key + "'", tok);
      if (peek().kind === "punct" && peek().text === ".") throw fail("attribute access is not allowed");
      return { t: "ref", key: key };
    }
    function call(tok) {
      var name = ALIASES.hasOwnProperty(tok.text) ? ALIASES[tok.text] : tok.text;
      if (!FUNCTIONS.hasOwnProperty(name)) throw fail("unknown function '" + tok.text + "'", tok);
      expect("(");
      var args = [];
      if (peek().text !== ")") {
        args.push(orExpr());
        while (peek().text === ",") { take(); args.push(orExpr()); }
      }
      expect(")");
      if (args.length !== FUNCTIONS[name]) throw fail(tok.text + "() takes " + FUNCTIONS[name] + " argument(s)", tok);
      return { t: "call", name: name, args: args };
    }
    function primary() {
      var tok = take();
      if (tok.kind === "number") return { t: "lit", value: parseFloat(tok.text) };
      if (tok.kind === "punct" && tok.text === "-") {
        var nxt = take();
        if (nxt.kind !== "number") throw fail("'-' must be followed by a number", nxt);
        return { t: "lit", value: -parseFloat(nxt.text) };
      }
      if (tok.kind === "string") return { t: "lit", value: tok.text.slice(1, -1) };
      if (tok.kind === "dollar") return ref(tok.text.slice(2, -1).trim(), tok);
      if (tok.kind === "punct" && tok.text === ".") return { t: "current" };
      if (tok.kind === "punct" && tok.text === "(") {
        var inner = orExpr();
        expect(")");
        return inner;
      }
      if (tok.kind === "name") {
        if (tok.text === "not" && peek().text === "(") {
          take();
          var negated = orExpr();
          expect(")");
          return { t: "not", operand: negated };
        }
        if (peek().text === "(") return call(tok);
        if (KEYWORDS[tok.text]) throw fail("misplaced '" + tok.text + "'", tok);
        return ref(tok.text, tok);
      }
      throw fail("unexpected '" + (tok.text || "end") + "'", tok);
    }

    if (peek().kind === "end") throw fail("empty expression");
    var node = orExpr();
    if (peek().kind !== "end") throw fail("unexpected '" + peek().text + "'");
    return node;
  }

  function numberString(x) {
    if (isNaN(x)) return "NaN";
    return String(x);
  }

  function nodeString(value) {
    if (value === null || value === undefined) return "";
    if (value === true) return "yes";
    if (value === false) return "no";
    if (Array.isArray(value)) return value.map(nodeString).join(" ");
    if (typeof value === "number") return numberString(value);
    var text = String(value);
    return MISSING.hasOwnProperty(text) ? "" : text;
  }

  function toNumber(v) {
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "number") return v;
    return NUMBER_RE.test(v) ? parseFloat(v) : NaN;
  }
  function toStr(v) {
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") return numberString(v);
    return v;
  }
  function toBool(v) {
    if (typeof v === "boolean") return v;
    if (typeof v === "number") return !isNaN(v) && v !== 0;
    return v !== "";
  }
  function splitWords(s) { return s.split(/[ \t\r\n]+/).filter(function (w) { return w !== ""; }); }

  function compare(op, a, b) {
    if (op === "=" || op === "!=") {
      var equal;
      if (typeof a === "boolean" || typeof b === "boolean") equal = toBool(a) === toBool(b);
      else if (typeof a === "number" || typeof b === "number") equal = toNumber(a) === toNumber(b);
      else equal = a === b;
      return op === "=" ? equal : !equal;
    }
    var x = toNumber(a), y = toNumber(b);
    if (isNaN(x) || isNaN(y)) return false;
    if (op === "<") return x < y;
    if (op === "<=") return x <= y;
    if (op === ">") return x > y;
    return x >= y;
  }

  function lookup(answers, key) {
    return Object.prototype.hasOwnProperty.call(answers, key) ? answers[key] : undefined;
  }

  function ev(node, answers, current) {
    switch (node.t) {
      case "lit": return node.value;
      case "ref": return nodeString(lookup(answers, node.key));
      case "current": return nodeString(current);
      case "cmp": return compare(node.op, ev(node.left, answers, current), ev(node.right, answers, current));
      case "bool":
        var left = toBool(ev(node.left, answers, current));
        if (node.op === "and") return left && toBool(ev(node.right, answers, current));
        return left || toBool(ev(node.right, answers, current));
      case "not": return !toBool(ev(node.operand, answers, current));
      case "call":
        var args = node.args.map(function (a) { return ev(a, answers, current); });
        if (node.name === "selected") return splitWords(toStr(args[0])).indexOf(toStr(args[1])) >= 0;
        if (node.name === "count_selected") return splitWords(toStr(args[0])).length;
        return Array.from(toStr(args[0])).length;
    }
    throw new Error("unknown node " + node.t);
  }

  var cache = {};
  function parsed(source) {
    if (!Object.prototype.hasOwnProperty.call(cache, source)) cache[source] = parse(source);
    return cache[source];
  }

  function evaluate(source, answers, current) {
    return toBool(ev(parsed(source), answers || {}, current));
  }

  function refs(source) {
    var found = {};
    (function walk(node) {
      if (node.t === "ref") found[node.key] = true;
      if (node.left) walk(node.left);
      if (node.right) walk(node.right);
      if (node.operand) walk(node.operand);
      if (node.args) node.args.forEach(walk);
    })(parsed(source));
    return Object.keys(found);
  }

  /* --- live skip logic in a page ------------------------------------------------------
   * Works on forms built by survey_app/instruments/forms.py: every input carries
   * data-question (its key), data-type, and data-relevant when skip logic applies. A
   * question's block is the element with data-question-block="<key>" if the template has
   * one, else the closest ".milieu-question", else the input's own list or the input.
   * Answers from other sections can be given as JSON in the form's data-answers.
   */
  var MISSING_SUFFIX = "__missing";

  function collectAnswers(form, base) {
    var answers = {};
    var key;
    for (key in base || {}) if (Object.prototype.hasOwnProperty.call(base, key)) answers[key] = base[key];
    var lists = {};
    var missing = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      if (el.name.slice(-MISSING_SUFFIX.length) === MISSING_SUFFIX) {
        if (el.checked && el.value) missing[el.name.slice(0, -MISSING_SUFFIX.length)] = el.value;
        return;
      }
      var type = el.getAttribute("data-type");
      if (el.type === "checkbox" && type === "consent") {
        answers[el.name] = el.checked ? "yes" : "";
      } else if (el.type === "checkbox") {
        lists[el.name] = lists[el.name] || [];
        if (el.checked) lists[el.name].push(el.value);
      } else if (el.type === "radio") {
        if (el.checked) answers[el.name] = el.value;
        else if (!(el.name in answers)) answers[el.name] = "";
      } else {
        answers[el.name] = el.value;
      }
    });
    for (key in lists) answers[key] = lists[key];
    for (key in missing) answers[key] = missing[key];
    return answers;
  }

  function questionBlock(form, key) {
    var block = form.querySelector('[data-question-block="' + key + '"]');
    if (block) return block;
    var el = form.querySelector('[data-question="' + key + '"]');
    if (!el) return null;
    return (el.closest && el.closest(".milieu-question")) || el;
  }

  function setShown(block, shown) {
    block.hidden = !shown;
    var inputs = block.querySelectorAll ? block.querySelectorAll("input, select, textarea") : [];
    Array.prototype.forEach.call(inputs, function (input) { input.disabled = !shown; });
    if (block.matches && block.matches("input, select, textarea")) block.disabled = !shown;
  }

  function bindForm(form, options) {
    options = options || {};
    var base = options.answers;
    if (!base && form.getAttribute("data-answers")) base = JSON.parse(form.getAttribute("data-answers"));
    var rules = [];
    var seen = {};
    Array.prototype.forEach.call(form.querySelectorAll("[data-relevant]"), function (el) {
      var key = el.getAttribute("data-question");
      if (!key || seen[key]) return;
      seen[key] = true;
      rules.push({ key: key, relevant: el.getAttribute("data-relevant"), block: questionBlock(form, key) });
    });

    function refresh() {
      rules.forEach(function (rule) { setShown(rule.block, true); });
      var answers = collectAnswers(form, base);
      // In page order, so a question hidden earlier counts as not asked further down.
      rules.forEach(function (rule) {
        var shown = evaluate(rule.relevant, answers);
        if (!shown) answers[rule.key] = "not_asked";
        setShown(rule.block, shown);
      });
      return answers;
    }

    form.addEventListener("input", refresh);
    form.addEventListener("change", refresh);
    refresh();
    return { refresh: refresh, answers: function () { return collectAnswers(form, base); } };
  }

  var api = {
    evaluate: evaluate,
    parse: parse,
    refs: refs,
    ExprError: ExprError,
    collectAnswers: collectAnswers,
    bindForm: bindForm,
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  root.MilieuExpr = api;
})(typeof window !== "undefined" ? window : globalThis);
