#!/usr/bin/env bash
# The layout rules of the house style that no compiler checks, over the C
# files named: lines of at most 80 columns (a tab is 8), indentation by
# tabs (but the four spaces of a continuation at the top level, the one
# of a label, a block comment's " *"), no trailing blanks; and, for the
# files under src/, functions of at most 80 lines and files of at most
# 1000.  Prints one line per offence and exits 1 if there is any.
#
# usage: tests/style.sh FILE...
exec python3 - "$@" <<'PY'
import re, sys

bad = 0
def offence(path, line, what):
    global bad
    bad += 1
    print("%s:%d: %s" % (path, line, what))

for path in sys.argv[1:]:
    lines = open(path, encoding="utf-8").read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    src = path.startswith("src/")
    if src and len(lines) > 1000:
        offence(path, len(lines), "file longer than 1000 lines (%d)" %
                len(lines))
    start = None
    for n, l in enumerate(lines, 1):
        if len(l.expandtabs(8)) > 80:
            offence(path, n, "longer than 80 columns")
        if l != l.rstrip():
            offence(path, n, "trailing blank")
        if (re.match(r"^ {5,}\S|^ {1,3}[^ *]", l) and
                not re.match(r"^ [A-Za-z_][A-Za-z_0-9]*:$", l)):
            offence(path, n, "indented with spaces")
        if l == "{":
            start = n
        elif l == "}" and start is not None:
            if src and n - start + 1 > 80:
                offence(path, start, "function longer than 80 lines (%d)"
                        % (n - start + 1))
            start = None
sys.exit(1 if bad else 0)
PY
