#!/usr/bin/env python3
"""Lines of code of kernel files, comments and blank lines left out: the handouts' measure of how
much a student writes at each rung of the abstraction ladder (session 11's table).

    grader/loc.py FILE...          one line a file: "LINES  FILE", then the total

C, C++ and CUDA (.c .h .cu .cuh .cpp .hpp): // and /* */ comments (not inside string or character
literals). Python (.py): # comments and docstrings (a string literal that is a statement of its
own). A line counts when anything else is left on it. A file it cannot read or whose kind it does
not know is named in one line on stderr, and the exit status is 1.
"""
import ast
import io
import sys
import tokenize

C_KINDS = (".c", ".h", ".cu", ".cuh", ".cpp", ".hpp", ".cc")


def c_lines(text):
    """Lines of C-family text with code left after comments are taken out."""
    counted = set()
    line, i, n = 1, 0, len(text)
    state = "code"  # code, line_comment, block_comment, string, char
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == "\n":
            line += 1
            if state == "line_comment":
                state = "code"
            i += 1
            continue
        if state == "code":
            if ch == "/" and nxt == "/":
                state, i = "line_comment", i + 2
                continue
            if ch == "/" and nxt == "*":
                state, i = "block_comment", i + 2
                continue
            if not ch.isspace():
                counted.add(line)
            if ch in "\"'":
                state = "string" if ch == '"' else "char"
            i += 1
        elif state == "block_comment":
            if ch == "*" and nxt == "/":
                state, i = "code", i + 2
                continue
            i += 1
        elif state in ("string", "char"):
            counted.add(line)
            if ch == "\\":
                i += 2
                continue
            if ch == ('"' if state == "string" else "'"):
                state = "code"
            i += 1
        else:  # line_comment
            i += 1
    return len(counted)


def python_lines(text):
    """Lines of Python with code on them, comments and docstrings out."""
    docstring_lines = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for stmt in body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                    docstring_lines.update(range(stmt.lineno, stmt.end_lineno + 1))
    counted = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in skip:
            continue
        for ln in range(tok.start[0], tok.end[0] + 1):
            if ln not in docstring_lines:
                counted.add(ln)
    return len(counted)


def count(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".py"):
        return python_lines(text)
    if path.endswith(C_KINDS):
        return c_lines(text)
    raise ValueError("not a C, C++, CUDA or Python file")


def main(paths):
    if not paths:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 64
    total, status = 0, 0
    for p in paths:
        try:
            n = count(p)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as e:
            print(f"loc: {p}: {e}", file=sys.stderr)
            status = 1
            continue
        total += n
        print(f"{n:6d}  {p}")
    print(f"{total:6d}  total")
    return status


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # a reader that stopped early (| head): not an error of ours
        sys.exit(0)
