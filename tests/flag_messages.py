#!/usr/bin/env python3
"""liboci's messages name no program's flags (liboci(3), "Conventions"):
what the caller could change travels as an oci_hint that the CLI renders
(cli/common.c), and sync's status file carries the hint's name. This scans
the string literals of liboci/src (comments left out) for "--flag" and
fails on one not in ALLOWED; it also fails when an allowed one is gone, so
the table only shrinks -- and it is empty now: any flag name fails.
Usage: flag_messages.py LIBOCI_SRC_DIR"""
import os
import re
import sys

# (file under liboci/src, flag): why it is still there. Empty, and it
# stays so: a new message gets a hint, not an entry here.
ALLOWED = {}

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
FLAG = re.compile(r"--[a-z][a-z-]*")


def main():
    src = sys.argv[1]
    found = {}
    for dirpath, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".c"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)
            with open(path, encoding="utf-8") as f:
                text = COMMENT.sub("", f.read())
            for lit in STRING.findall(text):
                for flag in FLAG.findall(lit):
                    found.setdefault((rel, flag), lit)
    bad = 0
    for key, lit in sorted(found.items()):
        if key not in ALLOWED:
            print(f"{key[0]}: a message names the flag {key[1]}: {lit}\n"
                  f"  give the error an oci_hint instead (oci_error_hint_set) and render it in cli/common.c")
            bad = 1
    for key in sorted(set(ALLOWED) - set(found)):
        print(f"{key[0]}: {key[1]} is gone: remove it from ALLOWED in tests/flag_messages.py")
        bad = 1
    if not bad:
        print(f"{len(found)} allowed flag names left in liboci's messages")
    return bad


if __name__ == "__main__":
    sys.exit(main())
