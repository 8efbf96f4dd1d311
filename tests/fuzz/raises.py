"""Raising statements of the fuzzer: `assert` and guarded `raise`, with CPython's messages.

A function of a raising program (`FunctionGen.raising`) may contain `assert <likely>[, msg]`
and `if <rare>: raise E[(msg)]` at any depth (and, rarely, an unguarded `raise` ending a block
inside a branch or a loop). The conditions compare program values with thresholds that the
inputs of `inputs.py` cross now and then, so that a fair share of the calls raise.

A message is a string literal, one scalar, or an f-string whose fields use a mix of format
specs (fill/align, sign, `#`, `0`, width, precision, every numeric type letter). CPython's
`str(exc)` must come out bit for bit, so a message only formats values that are the same in
both runs, whatever the last bit of a libm result:

* ints and bools (the generator's exact types) of any expression;
* floats and f32 values that are *exact*: unmodified inputs (parameters frozen by
  `freeze`, which every caller passes an exact value), literals, `float(int)`, and one
  `+ - *` of two of those (IEEE-rounded the same in both: no fastmath);
* the single value of `raise KeyError(v)` (whose `str` is `repr(v)`, and so tells a numpy
  scalar from a Python one) is a Python scalar on every path: a literal, `len`, or a
  range variable.
"""

from __future__ import annotations

import numpy as np

from tests.fuzz.exprs import Expr, Var, lit_float, lit_int

EXCEPTIONS = ("ArithmeticError", "AssertionError", "Exception", "FloatingPointError",
              "IndexError", "KeyError", "LookupError", "NotImplementedError", "OverflowError",
              "RuntimeError", "TypeError", "ValueError", "ZeroDivisionError")
# Pieces of message text (the text itself, before any escaping).
WORDS = ["x", "bad value", "n =", "out of range", "it's", 'say "hi"', "back\\slash", "tab\there",
         "two\nlines", "50%", "%s %d", "{}", "{0} {x}", "}{", "é", "→ µs", "", " ", ": ", ", ",
         "(", ")", "[", "]", "=", "limit", "step", "got", "expected"]
FILLS = ["*", "0", "_", "-", " ", "#", "x", ":", "=", "<", "é"]
INT_TYPES = {"": 4, "d": 3, "x": 1, "X": 0.5, "o": 0.5, "b": 0.7, "e": 0.4, "E": 0.2, "f": 0.5,
             "F": 0.2, "g": 0.4, "G": 0.2, "%": 0.3}
FLOAT_TYPES = {"": 3, "e": 1, "E": 0.4, "f": 2, "F": 0.4, "g": 1, "G": 0.4, "%": 0.5}
SAMPLES = {"int": -3, "bool": True, "float": -1.5, "f32": np.float32(1.5)}
FLIP = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}


def literal(text: str, fstring: bool) -> str:
    """`text` as the inside of a double-quoted (f-)string literal."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    out = out.replace("\t", "\\t")
    return out.replace("{", "{{").replace("}", "}}") if fstring else out


class RaiseMixin:
    """Mixed into FunctionGen: st_raise, st_assert and their conditions and messages."""

    # --- exact values --------------------------------------------------------------------
    def freeze(self, var: Var) -> None:
        """Make a float/f32 parameter an exact input: never assigned, so safe to format."""
        var.mutable = False
        var.exact = True

    def exact_expr(self, ty: str, depth: int = 1) -> Expr:
        """A value of type `ty` that is bit-identical under CPython and Ember."""
        if ty in ("int", "bool"):
            return self.pure(True, lambda: self.expr(ty, depth))
        if ty == "f32":
            vs = [v for v in self.vars_of("f32") if v.exact]
            if vs and self.chance(0.8):
                return Expr(self.rng.choice(vs).name, "f32", atom=True)
            value = self.rng.choice(["0.0", "1.0", "0.1", "2.5", "-3.0", "1e-05", "3e+38"])
            return Expr(f"np.float32({value})", "f32", atom=True)
        if depth > 0 and self.chance(0.25):
            a, b = self.exact_expr("float", 0), self.exact_expr("float", 0)
            return Expr(f"{a.p()} {self.rng.choice('+-*')} {b.p()}", "float")
        vs = [v for v in self.vars_of("float") if v.exact]
        kind = self.pick({"var": 5 if vs else 0, "lit": 2, "int": 1.5, "const": 0.3})
        if kind == "var":
            return Expr(self.rng.choice(vs).name, "float", atom=True)
        if kind == "int":
            return Expr(f"float({self.exact_expr('int', 1).text})", "float", atom=True)
        if kind == "const":
            return Expr(self.rng.choice(["math.pi", "math.inf", "-math.inf"]), "float")
        return lit_float(self.rng.choice([0.0, -0.0, 0.1, 1.5, -2.25, 1e-7, 123456.789,
                                          1e16, 2.5e-5, 1e22, -7.0, 0.3]))

    def python_scalar(self) -> Expr:
        """A value that is a Python (not numpy) scalar on every path, for KeyError(v)."""
        weak = [v for v in self.vars_of("int") if v.weak]
        kind = self.pick({"var": 3 if weak else 0, "len": 2 if self.scope.arrays else 0,
                          "int": 1, "float": 1, "bool": 0.3})
        if kind == "var":
            return Expr(self.rng.choice(weak).name, "int", atom=True)
        if kind == "len":
            a = self.rng.choice(list(self.scope.arrays.values()))
            return Expr(f"len({a.name})", "int", atom=True)
        if kind == "float":
            return lit_float(self.rng.choice([0.5, -1.0, 1e20, 3.25]))
        if kind == "bool":
            return Expr(self.rng.choice(["True", "False"]), "bool", atom=True)
        return lit_int(self.rng.choice([0, 7, -1, 123]))

    # --- messages ------------------------------------------------------------------------
    def spec(self, ty: str) -> str:
        """A random format spec valid for a value of type `ty` (CPython checks it here)."""
        if self.chance(0.35):
            return ""
        text = ""
        if self.chance(0.3):
            fill = self.rng.choice(FILLS) if self.chance(0.5) else ""
            text += fill + self.rng.choice("<>=^")
        if self.chance(0.25):
            text += self.rng.choice("+- ")
        if self.chance(0.15):
            text += "#"
        if self.chance(0.15):
            text += "0"
        if self.chance(0.5):
            text += str(self.rng.randint(1, 12))
        kind = self.pick(INT_TYPES if ty in ("int", "bool") else FLOAT_TYPES)
        floating = ty in ("float", "f32") or kind in FLOAT_TYPES and kind != ""
        if floating and self.chance(0.5):  # a precision: not for ints shown as ints
            text += f".{self.rng.randint(0, 10)}"
        text += kind
        try:
            format(SAMPLES[ty], text)
        except ValueError:
            return ""
        return text

    def field(self, short: bool = False) -> str:
        """One `{value:spec}`; `short`: a plain int or bool (messages stay under 1 KiB)."""
        ty = self.pick({"int": 5, "bool": 1.5, "float": 0 if short else 2.5,
                        "f32": 0 if short else
                        1 if any(v.exact for v in self.vars_of("f32")) else 0.2})
        e = self.exact_expr(ty, 0 if short else self.rng.choice([0, 1, 1, 2]))
        spec = "" if short else self.spec(ty)
        return "{" + e.text + (":" + spec if spec else "") + "}"

    def text(self) -> str:
        return "".join(self.rng.choice(WORDS) for _ in range(self.rng.choice([1, 1, 2, 3])))

    def fstring(self) -> str:
        short = self.chance(0.05)  # up to the limit of 16 values
        n = self.rng.randint(10, 16) if short else self.rng.choice([1, 1, 2, 2, 3, 4])
        parts = [literal(self.text(), True) if self.chance(0.7) else ""]
        for _ in range(n):
            parts.append(self.field(short))
            parts.append(literal(self.text(), True) if self.chance(0.6) else "")
        return 'f"' + "".join(parts) + '"'

    def message(self, exc: str) -> str | None:
        """The argument of `exc(...)` or of `assert c, ...`; None: no message at all."""
        form = self.pick({"none": 1.5, "literal": 2, "fstring": 5, "scalar": 1})
        if form == "none":
            return None
        if form == "literal":
            return f'"{literal(self.text(), False)}"'
        if form == "fstring":
            return self.fstring()
        if exc == "KeyError":
            return self.python_scalar().text
        ty = self.pick({"int": 3, "bool": 1, "float": 2, "f32": 0.5})
        return self.exact_expr(ty, 1).text

    # --- conditions ----------------------------------------------------------------------
    def rare(self) -> tuple[str, str, str] | str:
        """A condition that holds now and then: (lhs, op, rhs) or a whole bool expression."""
        kind = self.pick({"int": 4, "float": 3, "nan": 0.5, "and": 1.5, "any": 1})
        if kind == "int":
            a = self.int_atom()
            t = self.rng.choice([2, 3, 5, 8, 12, 15, 50])
            op = self.rng.choice([">", ">=", "<", "<=", "==", "=="])
            rhs = str(t) if op[0] == ">" else f"-{t}" if op[0] == "<" else \
                str(self.rng.choice([0, 1, 3, -1, 7]))
            return a.p(), op, rhs
        if kind == "float":
            a = self.float_atom() if self.chance(0.7) else self.float_expr(1)
            t = self.rng.choice(["2.0", "3.5", "4.0", "8.0", "9.5"])
            op = self.rng.choice([">", ">=", "<", "<="])
            return a.p(), op, t if op[0] == ">" else f"-{t}"
        if kind == "nan":
            x = self.float_atom()
            return (x.p(), "!=", x.p()) if self.chance(0.5) else f"math.isnan({x.text})"
        if kind == "and":
            return f"{self.bool_expr(1).p()} and {self.bool_expr(1).p()}"
        return self.bool_expr(1).text

    def likely(self) -> str:
        """The negation of a `rare` condition, for assert."""
        cond = self.rare()
        if isinstance(cond, tuple) and self.chance(0.7):
            lhs, op, rhs = cond
            return f"{lhs} {FLIP[op]} {rhs}"
        text = " ".join(cond) if isinstance(cond, tuple) else cond
        return f"not ({text})"

    # --- statements ----------------------------------------------------------------------
    def raise_stmt(self) -> str:
        exc = self.rng.choice(EXCEPTIONS)
        msg = self.message(exc)
        if msg is None:
            return f"raise {exc}" if self.chance(0.6) else f"raise {exc}()"
        return f"raise {exc}({msg})"

    def st_raise(self) -> bool:
        if self.indent > 1 and self.chance(0.1):  # inside a branch or loop: ends the block
            self.emit(self.raise_stmt())
            return True
        cond = self.rare()
        self.emit(f"if {' '.join(cond) if isinstance(cond, tuple) else cond}:")
        self.indent += 1
        self.emit(self.raise_stmt())
        self.indent -= 1
        return False

    def st_assert(self) -> None:
        msg = self.message("AssertionError")
        cond = self.likely()
        self.emit(f"assert {cond}" if msg is None else f"assert {cond}, {msg}")
