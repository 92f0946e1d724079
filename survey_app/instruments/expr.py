"""A small, safe expression language for skip logic (`relevant`) and checks (`constraint`).

Grammar (lowest precedence first)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := primary (("=" | "!=" | "<" | "<=" | ">" | ">=") primary)?
    primary    := NUMBER | "-" NUMBER | STRING | KEY | "${" KEY "}" | "."
                | FUNC "(" args ")" | "(" expr ")"

Functions: ``selected(key, 'value')``, ``count_selected(key)`` (also ``count-selected``),
``string_length(x)`` (also ``string-length``). Values behave as in XLSForm/XPath 1.0:
answers are strings, an unanswered question is the empty string, relational operators
compare numbers (anything not numeric is NaN, so the comparison is false), ``=``/``!=``
compare numbers when one side is a number and strings otherwise. A don't-know, refused or
not-asked answer counts as unanswered. The same rules are implemented in
``survey_app/static/js/skiplogic.js``; nothing here ever calls ``eval``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MISSING_VALUES = frozenset({"dont_know", "refused", "not_asked"})
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# XML whitespace and ASCII digits only, as in XPath (and as JavaScript's regexes agree).
_NUMBER_RE = re.compile(r"^[ \t\r\n]*-?([0-9]+(\.[0-9]*)?|\.[0-9]+)[ \t\r\n]*$")
_WORDS_RE = re.compile(r"[^ \t\r\n]+")
KEYWORDS = frozenset({"and", "or", "not"})
#: Canonical function name -> (arity, XLSForm spelling).
FUNCTIONS: dict[str, tuple[int, str]] = {
    "selected": (2, "selected"),
    "count_selected": (1, "count-selected"),
    "string_length": (1, "string-length"),
}
_ALIASES = {"count-selected": "count_selected", "string-length": "string_length"}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
MAX_DEPTH = 50  # nesting of parentheses, `not` and calls: far beyond any real skip rule


class ExprError(ValueError):
    """An expression that cannot be parsed."""

    def __init__(self, message: str, source: str, pos: int) -> None:
        super().__init__(f"{message} at position {pos} in {source!r}")
        self.short = message
        self.pos = pos


# --- AST ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: float | str


@dataclass(frozen=True)
class Ref:
    key: str


@dataclass(frozen=True)
class Current:
    pass


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Literal | Ref | Current | Compare | BoolOp | Not | Call


# --- tokenizer ---------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[\ \t\r\n]+)
  | (?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<dollar>\$\{[^}]*\})
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<punct>[(),.\-])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens, refusing any character outside the language."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN_RE.match(source, pos)
        if m is None:
            raise ExprError(f"unexpected character {source[pos]!r}", source, pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


# --- parser ------------------------------------------------------------------------------


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, message: str, tok: Token | None = None) -> ExprError:
        return ExprError(message, self.source, (tok or self.peek()).pos)

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise self.fail(f"expected {text!r}, found {tok.text or 'end'!r}", tok)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.fail("empty expression")
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail(f"unexpected {self.peek().text!r}")
        return node

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("expression nested too deeply")

    def or_expr(self) -> Node:
        self.nest()
        node = self.and_expr()
        while self.peek().kind == "name" and self.peek().text == "or":
            self.take()
            node = BoolOp("or", node, self.and_expr())
        self.depth -= 1
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.peek().kind == "name" and self.peek().text == "and":
            self.take()
            node = BoolOp("and", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.peek().kind == "name" and self.peek().text == "not":
            self.take()
            self.nest()
            node = Not(self.not_expr())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        node = self.primary()
        if self.peek().kind == "op":
            op = self.take().text
            node = Compare(op, node, self.primary())
            if self.peek().kind == "op":
                raise self.fail("chained comparison: use 'and'")
        return node

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "number":
            return Literal(float(tok.text))
        if tok.kind == "punct" and tok.text == "-":
            nxt = self.take()
            if nxt.kind != "number":
                raise self.fail("'-' must be followed by a number", nxt)
            return Literal(-float(nxt.text))
        if tok.kind == "string":
            return Literal(tok.text[1:-1])
        if tok.kind == "dollar":
            return self.ref(tok.text[2:-1].strip(), tok)
        if tok.kind == "punct" and tok.text == ".":
            return Current()
        if tok.kind == "punct" and tok.text == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if tok.kind == "name":
            if tok.text == "not" and self.peek().text == "(":
                self.take()
                node = self.or_expr()
                self.expect(")")
                return Not(node)
            if self.peek().text == "(":
                return self.call(tok)
            if tok.text in KEYWORDS:
                raise self.fail(f"misplaced {tok.text!r}", tok)
            return self.ref(tok.text, tok)
        raise self.fail(f"unexpected {tok.text or 'end'!r}", tok)

    def ref(self, key: str, tok: Token) -> Ref:
        if not KEY_RE.match(key) or key in KEYWORDS:
            raise self.fail(f"invalid question key {key!r}", tok)
        if self.peek().kind == "punct" and self.peek().text == ".":
            raise self.fail("attribute access is not allowed")
        return Ref(key)

    def call(self, tok: Token) -> Call:
        name = _ALIASES.get(tok.text, tok.text)
        if name not in FUNCTIONS:
            raise self.fail(f"unknown function {tok.text!r}", tok)
        self.expect("(")
        args: list[Node] = []
        if self.peek().text != ")":
            args.append(self.or_expr())
            while self.peek().text == ",":
                self.take()
                args.append(self.or_expr())
        self.expect(")")
        arity = FUNCTIONS[name][0]
        if len(args) != arity:
            raise self.fail(f"{tok.text}() takes {arity} argument(s), got {len(args)}", tok)
        return Call(name, tuple(args))


@lru_cache(maxsize=1024)
def parse(source: str) -> Node:
    """Parse an expression into an AST (raise ExprError if it is not valid)."""
    if len(source) > 2000:
        raise ExprError("expression too long", source[:40] + "...", 2000)
    return _Parser(source).parse()


def refs(node: Node) -> set[str]:
    """Return the question keys an expression reads."""
    if isinstance(node, Ref):
        return {node.key}
    return set().union(*(refs(child) for child in _children(node)))


def uses_current(node: Node) -> bool:
    """Tell whether the expression reads the current value `.`."""
    return isinstance(node, Current) or any(uses_current(c) for c in _children(node))


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Compare | BoolOp):
        return (node.left, node.right)
    if isinstance(node, Not):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    return ()


# --- evaluation --------------------------------------------------------------------------

Value = float | str | bool


def node_string(value: Any) -> str:
    """Convert a stored answer to the string an XForm node would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set):
        return " ".join(node_string(v) for v in value)
    if isinstance(value, int | float):
        return _number_string(float(value))
    text = str(value)
    return "" if text in MISSING_VALUES else text


def _number_string(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if x.is_integer():
        return str(int(x))
    return repr(x)


def _to_number(v: Value) -> float:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, float):
        return v
    return float(v) if _NUMBER_RE.match(v) else math.nan


def _to_string(v: Value) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _number_string(v)
    return v


def _to_bool(v: Value) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return not math.isnan(v) and v != 0
    return v != ""


def _compare(op: str, a: Value, b: Value) -> bool:
    if op in ("=", "!="):
        if isinstance(a, bool) or isinstance(b, bool):
            equal = _to_bool(a) == _to_bool(b)
        elif isinstance(a, float) or isinstance(b, float):
            equal = _to_number(a) == _to_number(b)  # NaN is never equal
        else:
            equal = a == b
        return equal if op == "=" else not equal
    x, y = _to_number(a), _to_number(b)
    if math.isnan(x) or math.isnan(y):
        return False
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _eval(node: Node, answers: dict[str, Any], current: Any) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return node_string(answers.get(node.key))
    if isinstance(node, Current):
        return node_string(current)
    if isinstance(node, Compare):
        return _compare(
            node.op, _eval(node.left, answers, current), _eval(node.right, answers, current)
        )
    if isinstance(node, BoolOp):
        left = _to_bool(_eval(node.left, answers, current))
        if node.op == "and":
            return left and _to_bool(_eval(node.right, answers, current))
        return left or _to_bool(_eval(node.right, answers, current))
    if isinstance(node, Not):
        return not _to_bool(_eval(node.operand, answers, current))
    return _call(node, [_eval(a, answers, current) for a in node.args])


def _call(node: Call, args: list[Value]) -> Value:
    if node.name == "selected":
        return _to_string(args[1]) in _WORDS_RE.findall(_to_string(args[0]))
    if node.name == "count_selected":
        return float(len(_WORDS_RE.findall(_to_string(args[0]))))
    return float(len(_to_string(args[0])))  # string_length


def evaluate(source: str, answers: dict[str, Any], current: Any = None) -> bool:
    """Evaluate an expression over answers (and the current value `.`) to a boolean."""
    return _to_bool(_eval(parse(source), answers, current))


# --- unparsing ---------------------------------------------------------------------------

_PRECEDENCE = {"or": 1, "and": 2}


def _prec(node: Node) -> int:
    if isinstance(node, BoolOp):
        return _PRECEDENCE[node.op]
    if isinstance(node, Not):
        return 3
    if isinstance(node, Compare):
        return 4
    return 5


def _unparse(node: Node, xlsform: bool) -> str:
    def sub(child: Node, minimum: int) -> str:
        text = _unparse(child, xlsform)
        return f"({text})" if _prec(child) < minimum else text

    if isinstance(node, Literal):
        if isinstance(node.value, float):
            return _number_string(node.value)
        quote = '"' if "'" in node.value else "'"
        return f"{quote}{node.value}{quote}"
    if isinstance(node, Ref):
        return f"${{{node.key}}}" if xlsform else node.key
    if isinstance(node, Current):
        return "."
    if isinstance(node, Compare):
        return f"{sub(node.left, 5)} {node.op} {sub(node.right, 5)}"
    if isinstance(node, BoolOp):
        p = _PRECEDENCE[node.op]
        return f"{sub(node.left, p)} {node.op} {sub(node.right, p + 1)}"
    if isinstance(node, Not):
        inner = _unparse(node.operand, xlsform)
        return f"not({inner})" if xlsform or _prec(node.operand) < 3 else f"not {inner}"
    name = FUNCTIONS[node.name][1] if xlsform else node.name
    return f"{name}({', '.join(_unparse(a, xlsform) for a in node.args)})"


def to_source(source: str) -> str:
    """Return the canonical Milieu spelling of an expression (bare keys)."""
    return _unparse(parse(source), xlsform=False)


def to_xlsform(source: str) -> str:
    """Return the XLSForm spelling of an expression (``${key}``, hyphenated functions)."""
    return _unparse(parse(source), xlsform=True)
