#!/usr/bin/env python3
"""Writes the clients' wire types and codecs from ``protocol/schema.json``.

    python3 protocol/generate.py          # rewrite the generated files
    python3 protocol/generate.py --check  # exit 1, naming them, when a generated file is stale

``schema.json`` is read out of the Rust types by ``protocol/tests/schema.rs``. For every struct
and enum this writes a Python dataclass or ``IntEnum`` (``client-py/headroom/wire_types.py``) and
a TypeScript interface or union (``client-ts/src/wireTypes.ts``), with the Rust doc comments, and
a ``write``/``read`` pair per type that walks its fields in wire order. Those call a small
hand-written layer (``w``: a writer, ``r``: a strict reader) that stays in ``wire.py`` and
``wire.ts`` with the framing. See protocol/README.md, "Changing the wire".
"""

import json
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "protocol" / "schema.json"
PY_OUT = ROOT / "client-py" / "headroom" / "wire_types.py"
TS_OUT = ROOT / "client-ts" / "src" / "wireTypes.ts"
HEADER = "Generated from protocol/schema.json by protocol/generate.py; do not edit."
WIDTH = 100

PRIMITIVES = ("u8", "u32", "u64", "f32", "bool", "string", "bytes")
PY_HINTS = {"u8": "int", "u32": "int", "u64": "int", "f32": "float", "bool": "bool", "string": "str", "bytes": "bytes"}
TS_HINTS = {"u8": "number", "u32": "number", "u64": "bigint", "f32": "number", "bool": "boolean", "string": "string",
            "bytes": "Uint8Array"}
PY_ZEROS = {"u8": "0", "u32": "0", "u64": "0", "f32": "0.0", "bool": "False"}
F32_NOTE = "An `f32` on the wire: values not exactly representable come back rounded."
# Python structs that are frozen: immutable, hashable values callers keep and compare.
PY_FROZEN = {"MemoryScope"}


# --- The schema -------------------------------------------------------------------------------


def wrapper(t):
    """``("option", "T")`` for ``option<T>``, ``("vec", "T")`` for ``vec<T>``, else ``None``."""
    m = re.fullmatch(r"(option|vec)<(.+)>", t)
    return (m[1], m[2]) if m else None


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def screaming(name):
    return snake(name).upper()


def size(n):
    return f"{n >> 20} * 1024 * 1024" if n % (1 << 20) == 0 else str(n)


class Schema:
    def __init__(self, data):
        self.data = data
        self.types = {t["name"]: t for t in data["types"]}
        self.order, self._visiting = [], set()  # every type after the types it names
        for t in data["types"]:
            self._visit(t["name"])

    def _visit(self, name):
        if name in self.order or name in self._visiting:
            return
        self._visiting.add(name)
        for dep in self.names_in(self.types[name]):
            self._visit(dep)
        self.order.append(name)

    def names_in(self, t):
        wires = [f["type"] for f in t.get("fields", [])] + [v["payload"] for v in t.get("variants", []) if v["payload"]]
        out = []
        for w in wires:
            while wrapper(w):
                w = wrapper(w)[1]
            if w not in PRIMITIVES:
                if w not in self.types:
                    sys.exit(f"generate.py: {t['name']} names unknown type {w}")
                out.append(w)
        return out

    def is_unit_enum(self, name):
        t = self.types.get(name)
        return t is not None and t["kind"] == "enum" and all(v["payload"] is None for v in t["variants"])

    def variant_names(self, t):
        """The variants' names as the serde JSON (and so the clients) spell them."""
        rename = t.get("rename_all")
        if rename not in (None, "snake_case"):
            sys.exit(f"generate.py: rename_all {rename!r} of {t['name']} is not supported")
        return [snake(v["name"]) if rename else v["name"] for v in t["variants"]]


def rust_links(doc):
    """Rust intra-doc links ([`Reply`], [`crate::X`]) as plain code spans."""
    return re.sub(r"\[`(?:crate::)?([^`]+)`\]", r"`\1`", doc)


def field_doc(f):
    doc = f["doc"]
    if f["type"] in ("f32", "option<f32>"):
        doc = f"{doc}\n{F32_NOTE}" if doc else F32_NOTE
    return doc


# --- Python -----------------------------------------------------------------------------------


def py_doc(doc):
    return re.sub(r"`([^`]+)`", r"``\1``", rust_links(doc)).replace("\\", "\\\\")


def py_docstring(doc, indent):
    if not doc:
        return []
    body = "\n".join(f"{indent}{line}" if line and i else line for i, line in enumerate(py_doc(doc).split("\n")))
    return [f'{indent}"""{body}"""']


def py_comment(doc, indent, marker="#:"):
    return [f"{indent}{marker} {line}".rstrip() for line in py_doc(doc).split("\n")] if doc else []


class Python:
    def __init__(self, schema):
        self.s = schema

    def hint(self, t):
        w = wrapper(t)
        if w:
            return f"Optional[{self.hint(w[1])}]" if w[0] == "option" else f"list[{self.hint(w[1])}]"
        return PY_HINTS.get(t, t)

    def default(self, t):
        """The zero value a field of wire type ``t`` defaults to, or ``None`` when it has none."""
        if t.startswith("option<"):
            return "None"
        if t.startswith("vec<"):
            return "field(default_factory=list)"
        if t in PY_ZEROS:
            return PY_ZEROS[t]
        if self.s.is_unit_enum(t):
            return f"{t}.{self.s.variant_names(self.s.types[t])[0]}"
        st = self.s.types.get(t)
        if st and st["kind"] == "struct" and all(self.default(f["type"]) for f in st["fields"]):
            return f"field(default_factory={t})"
        return None

    def write(self, t, x):
        w = wrapper(t)
        if w:
            return f"w.{w[0]}({x}, {self.writer(w[1])})"
        if t in PRIMITIVES:
            return f"w.{t}({x})"
        if self.s.is_unit_enum(t):
            return f"w.enum({x})"
        return f"write_{snake(t)}(w, {x})"

    def writer(self, t):
        if t in PRIMITIVES:
            return f"w.{t}"
        if self.s.is_unit_enum(t):
            return "w.enum"
        return f"lambda x: {self.write(t, 'x')}"

    def read(self, t):
        w = wrapper(t)
        if w:
            return f"r.{w[0]}({self.reader(w[1])})"
        if t in PRIMITIVES:
            return f"r.{t}()"
        if self.s.is_unit_enum(t):
            return f"r.enum({t})"
        return f"read_{snake(t)}(r)"

    def reader(self, t):
        return f"r.{t}" if t in PRIMITIVES else f"lambda: {self.read(t)}"

    @staticmethod
    def variant_class(v):
        """The class of a variant: its payload's, or for a variant without one, a class named after it."""
        return v["payload"] or v["name"]

    def struct(self, t):
        frozen = ", frozen=True" if t["name"] in PY_FROZEN else ""
        out = ["", "", f"@dataclass(slots=True{frozen})", f"class {t['name']}:"]
        out += py_docstring(t["doc"], "    ") or (["    pass"] if not t["fields"] else [])
        fields = t["fields"]
        defaults = [self.default(f["type"]) for f in fields]
        first_default = len(fields)
        while first_default > 0 and defaults[first_default - 1]:
            first_default -= 1
        if fields and t["doc"]:
            out.append("")
        for i, f in enumerate(fields):
            out += py_comment(field_doc(f), "    ")
            tail = f" = {defaults[i]}" if i >= first_default else ""
            out.append(f"    {f['name']}: {self.hint(f['type'])}{tail}")
        return out

    def enum(self, t):
        name = t["name"]
        if self.s.is_unit_enum(name):
            spelling = " `.name` is the serde spelling." if t.get("rename_all") else ""
            out = ["", "", f"class {name}(enum.IntEnum):"]
            out += py_docstring(f"{t['doc']}\n\nThe value is the wire index.{spelling}".strip(), "    ")
            out.append("")
            for i, (v, spelled) in enumerate(zip(t["variants"], self.s.variant_names(t))):
                out += py_comment(v["doc"], "    ")
                out.append(f"    {spelled} = {i}")
            return out
        out = []
        for v in t["variants"]:
            if v["payload"] is None:
                cls = v["name"]
                if cls in self.s.types:
                    sys.exit(f"generate.py: the class of {name}::{v['name']} would shadow type {cls}")
                doc = v["doc"] or f"`{name}::{v['name']}`, which carries nothing."
                out += ["", "", "@dataclass(slots=True)", f"class {cls}:"] + py_docstring(doc, "    ")
        classes = [self.variant_class(v) for v in t["variants"]]
        if len(set(classes)) != len(classes):
            sys.exit(f"generate.py: two variants of {name} carry the same type; isinstance cannot tell them apart")
        out += ["", ""] + py_comment(t["doc"], "") + [f"{name} = Union["]
        for i, (v, cls) in enumerate(zip(t["variants"], classes)):
            out += py_comment(f"{i} {v['name']}: {v['doc']}" if v["doc"] else f"{i} {v['name']}", "    ", "#")
            out.append(f"    {cls},")
        return out + ["]"]

    def codecs(self, t):
        name, fn = t["name"], snake(t["name"])
        if t["kind"] == "struct":
            body = [f"    {self.write(f['type'], 'v.' + f['name'])}" for f in t["fields"]] or ["    pass"]
            args = [f"{f['name']}={self.read(f['type'])}" for f in t["fields"]]
            one_line = f"    return {name}({', '.join(args)})"
            read = [one_line] if len(one_line) <= WIDTH else (
                [f"    return {name}("] + [f"        {a}," for a in args] + ["    )"])
        else:
            body, read = [], [f'    index = r.variant("{name}", {len(t["variants"])})']
            last = len(t["variants"]) - 1
            for i, v in enumerate(t["variants"]):
                cls = self.variant_class(v)
                body += [f"    {'if' if i == 0 else 'elif'} isinstance(v, {cls}):", f"        w.u32({i})"]
                value = f"read_{snake(v['payload'])}(r)" if v["payload"] else f"{cls}()"
                if v["payload"]:
                    body.append(f"        write_{snake(v['payload'])}(w, v)")
                read += [f"    if index == {i}:", f"        return {value}"] if i < last else [f"    return {value}"]
            body += ["    else:", f'        raise TypeError(f"{name} has no variant of type {{type(v).__name__}}")']
        return ["", "", f"def write_{fn}(w: _Writer, v: {name}) -> None:"] + body + [
            "", "", f"def read_{fn}(r: _Reader) -> {name}:"] + read

    def module(self):
        s = self.s
        names, types = ["PROTOCOL_VERSION", "MAX_FRAME"], []
        for name in s.order:
            t = s.types[name]
            if t["kind"] == "enum" and not s.is_unit_enum(name):
                names += [v["name"] for v in t["variants"] if v["payload"] is None]
            names.append(name)
            types += self.struct(t) if t["kind"] == "struct" else self.enum(t)
        quoted = ", ".join(f'"{n}"' for n in names)
        out = [
            f'"""{HEADER}',
            "",
            "The wire types of ``protocol/src/message.rs`` with their fields in wire order, and a",
            "``write_x(w, value)`` / ``read_x(r)`` pair per type. ``headroom.wire`` re-exports the types and",
            'holds the writer ``w`` and the strict reader ``r`` these call."""',
            "",
            "from __future__ import annotations",
            "",
            "import enum",
            "from dataclasses import dataclass, field",
            "from typing import TYPE_CHECKING, Optional, Union",
            "",
            "if TYPE_CHECKING:",
            "    from .wire import _Reader, _Writer",
            "",
            "__all__ = [",
            textwrap.fill(quoted, WIDTH, initial_indent="    ", subsequent_indent="    "),
            "]",
            "",
            "#: The protocol version this client speaks; ``Hello`` carries it.",
            f"PROTOCOL_VERSION = {s.data['protocol_version']}",
            "",
            "#: The daemon's default limit on a frame body. Larger requests are not sent: the call fails open.",
            f"MAX_FRAME = {size(s.data['default_max_frame'])}",
        ]
        out += types
        out += ["", "", "# --- Codecs " + "-" * (WIDTH - 12)]
        for name in s.order:
            if not s.is_unit_enum(name):
                out += self.codecs(s.types[name])
        return "\n".join(out) + "\n"


# --- TypeScript -------------------------------------------------------------------------------


def ts_text(doc):
    return rust_links(doc).replace("`None`", "`null`")


def ts_doc(doc, indent, bullets=()):
    """A JSDoc block: ``doc``, then a ``- `name`: doc`` line per documented bullet."""
    lines = ts_text(doc).split("\n") if doc else []
    items = [(n, ts_text(d).split("\n")) for n, d in bullets if d]
    if items:
        lines += [""] if lines else []
        for n, (first, *rest) in items:
            lines += [f"- `{n}`: {first}"] + [f"  {line}" for line in rest]
    if not lines:
        return []
    if len(lines) == 1 and len(indent) + len(lines[0]) + 7 <= WIDTH:
        return [f"{indent}/** {lines[0]} */"]
    return [f"{indent}/**"] + [f"{indent} * {line}".rstrip() for line in lines] + [f"{indent} */"]


class TypeScript:
    def __init__(self, schema):
        self.s = schema

    def hint(self, t):
        w = wrapper(t)
        if w:
            inner = self.hint(w[1])
            return f"{inner} | null" if w[0] == "option" else (f"({inner})[]" if "|" in inner else f"{inner}[]")
        return TS_HINTS.get(t, t)

    def names_const(self, name):
        return f"{screaming(name)}_NAMES"

    def write(self, t, x):
        w = wrapper(t)
        if w:
            return f"w.{w[0]}({x}, (x) => {self.write(w[1], 'x')})"
        if t in PRIMITIVES:
            return f"w.{t}({x})"
        if self.s.is_unit_enum(t):
            return f'w.variant({self.names_const(t)}, {x}, "{t}")'
        return f"write{t}(w, {x})"

    def read(self, t):
        w = wrapper(t)
        if w:
            return f"r.{w[0]}(() => {self.read(w[1])})"
        if t in PRIMITIVES:
            return f"r.{t}()"
        if self.s.is_unit_enum(t):
            return f'r.variant({self.names_const(t)}, "{t}")'
        return f"read{t}(r)"

    def struct(self, t):
        out = [""] + ts_doc(t["doc"], "") + [f"export interface {t['name']} {{"]
        for f in t["fields"]:
            out += ts_doc(field_doc(f), "  ") + [f"  {f['name']}: {self.hint(f['type'])};"]
        return out + ["}"]

    def enum(self, t):
        name, spelled = t["name"], self.s.variant_names(t)
        docs = [(n, v["doc"]) for n, v in zip(spelled, t["variants"])]
        out = [""] + ts_doc(t["doc"], "", docs)
        members = [f'"{n}"' if v["payload"] is None else f"{{ {n}: {v['payload']} }}"
                   for n, v in zip(spelled, t["variants"])]
        one_line = f"export type {name} = {' | '.join(members)};"
        out += [one_line] if len(one_line) <= WIDTH else [f"export type {name} ="] + [f"  | {m}" for m in members]
        out[-1] += "" if out[-1].endswith(";") else ";"
        head, tail = (f": readonly {name}[] = [", "];") if self.s.is_unit_enum(name) else (" = [", "] as const;")
        head = f"const {self.names_const(name)}{head}"
        one_line = head + ", ".join(f'"{n}"' for n in spelled) + tail
        if len(one_line) <= WIDTH:
            return out + [one_line]
        return out + [head] + [f'  "{n}",' for n in spelled] + [tail]

    def codecs(self, t):
        name = t["name"]
        out = ["", f"export function write{name}(w: Writer, v: {name}): void {{"]
        if t["kind"] == "struct":
            out += [f"  {self.write(f['type'], 'v.' + f['name'])};" for f in t["fields"]]
            args = [f"{f['name']}: {self.read(f['type'])}" for f in t["fields"]]
            one_line = f"  return {{ {', '.join(args)} }};" if args else "  return {};"
            read = [one_line] if len(one_line) <= WIDTH else ["  return {"] + [f"    {a}," for a in args] + ["  };"]
        else:
            # Variants without payload are strings: compare those first (`in` needs an object).
            units = [(i, v) for i, v in enumerate(t["variants"]) if v["payload"] is None]
            payloads = [(i, v) for i, v in enumerate(t["variants"]) if v["payload"]]
            for k, (i, v) in enumerate(units):
                out.append(f'  {"if" if k == 0 else "else if"} (v === "{v["name"]}") w.u32({i});')
            for k, (i, v) in enumerate(payloads):
                keyword = "if" if k == 0 and not units else "else if"
                close = "  } " if k else "  "
                out += [f'{close}{keyword} ("{v["name"]}" in v) {{', f"    w.u32({i});",
                        f"    write{v['payload']}(w, v.{v['name']});"]
            out += [f'  }} else w.unknown("{name}", v);' if payloads else f'  else w.unknown("{name}", v);']
            read = [f'  switch (r.variant({self.names_const(name)}, "{name}")) {{']
            for v in t["variants"]:
                value = f"{{ {v['name']}: read{v['payload']}(r) }}" if v["payload"] else f'"{v["name"]}"'
                read += [f'    case "{v["name"]}":', f"      return {value};"]
            read.append("  }")
        return out + ["}", "", f"export function read{name}(r: Reader): {name} {{"] + read + ["}"]

    def module(self):
        s = self.s
        out = [
            f"// {HEADER}",
            "//",
            "// The wire types of protocol/src/message.rs, shaped like their serde JSON (the form of the test",
            "// vectors): structs are objects keyed by field name, enum variants without payload are strings,",
            "// variants with one are one-key objects, `u64` is `bigint`, `u32` is `number`, byte vectors are",
            "// `Uint8Array`. A `writeX(w, value)` / `readX(r)` pair per type walks the fields in wire order;",
            "// `./wire.js` re-exports the types and holds the writer `w`, the strict reader `r` and framing.",
            "",
            'import type { Reader, Writer } from "./wire.js";',
            "",
            "/** The protocol version this client speaks (`PROTOCOL_VERSION` in `protocol/src/lib.rs`). */",
            f"export const PROTOCOL_VERSION = {s.data['protocol_version']};",
            "",
            "/** The daemon's default limit on a body; larger requests are not even sent. */",
            f"export const DEFAULT_MAX_FRAME = {size(s.data['default_max_frame'])};",
        ]
        for name in s.order:
            t = s.types[name]
            out += self.struct(t) if t["kind"] == "struct" else self.enum(t)
        out += ["", "// --- Codecs " + "-" * (WIDTH - 12)]
        for name in s.order:
            if not s.is_unit_enum(name):
                out += self.codecs(s.types[name])
        return "\n".join(out) + "\n"


# --- Main -------------------------------------------------------------------------------------


def main(argv):
    if argv not in ([], ["--check"]):
        sys.exit("usage: python3 protocol/generate.py [--check]")
    schema = Schema(json.loads(SCHEMA.read_text(encoding="utf-8")))
    outputs = {PY_OUT: Python(schema).module(), TS_OUT: TypeScript(schema).module()}
    stale = [path for path, text in outputs.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    if argv == ["--check"]:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: it is not what protocol/schema.json generates. "
                  "Run python3 protocol/generate.py (and do not edit it by hand).", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(outputs[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
