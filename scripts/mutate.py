#!/usr/bin/env python3
"""Reads tests/mutants/*.mutant and applies or checks them (helper of
scripts/mutate.sh; see tests/mutants/README.md for the format).

  mutate.py check SRC MUTANT...      every find string matches exactly once
  mutate.py tests MUTANT...          the tests a mutant names, one line each
  mutate.py file MUTANT              the file it mutates (relative)
  mutate.py apply SRC MUTANT         mutates the file in SRC (prints its path)

A find string matches as written, except that any run of whitespace in it
matches any run of whitespace (newlines included) in the file: mutants
survive re-indentation and re-wrapping, not a change of the code itself.
Exit status 3 and a message naming the mutant when a find string matches
nowhere or more than once: a mutant that no longer applies must be looked
at, never silently skipped."""
import os
import re
import sys


class MutantError(Exception):
    pass


def unescape(s):
    return s.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")


def parse(path):
    m = {"name": os.path.basename(path)[: -len(".mutant")], "path": path,
         "file": None, "tests": [], "pairs": []}
    pending = None
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise MutantError(f"{path}:{no}: expected 'key: value', got {line!r}")
            key, value = key.strip(), value.strip()
            if key == "file":
                m["file"] = value
            elif key == "tests":
                m["tests"] = value.split()
            elif key == "find":
                if pending is not None:
                    raise MutantError(f"{path}:{no}: 'find' without its 'replace'")
                if not value:
                    raise MutantError(f"{path}:{no}: empty find string")
                pending = unescape(value)
            elif key == "replace":
                if pending is None:
                    raise MutantError(f"{path}:{no}: 'replace' without a 'find' before it")
                m["pairs"].append((pending, unescape(value)))
                pending = None
            else:
                raise MutantError(f"{path}:{no}: unknown key {key!r}")
    if pending is not None:
        raise MutantError(f"{path}: the last 'find' has no 'replace'")
    if not m["file"] or not m["tests"] or not m["pairs"]:
        raise MutantError(f"{path}: needs 'file:', 'tests:' and at least one find/replace pair")
    return m


def pattern(find):
    parts = re.split(r"(\s+)", find)
    return re.compile("".join(r"\s+" if p.isspace() else re.escape(p) for p in parts if p))


def mutated(src, m):
    target = os.path.join(src, m["file"])
    try:
        with open(target, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise MutantError(f"mutant {m['name']}: cannot read {m['file']}: {e.strerror}")
    for find, repl in m["pairs"]:
        hits = list(pattern(find).finditer(text))
        if len(hits) != 1:
            where = "nowhere" if not hits else f"{len(hits)} times"
            raise MutantError(f"mutant {m['name']}: find string {find!r} matches {where} in {m['file']} "
                              "(the code moved or changed: review tests/mutants/" + m["name"] + ".mutant)")
        h = hits[0]
        text = text[: h.start()] + repl + text[h.end():]
    return target, text


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    try:
        if cmd == "check":
            src, paths, bad = argv[2], argv[3:], 0
            for p in paths:
                try:
                    mutated(src, parse(p))
                except MutantError as e:
                    print(f"mutate: {e}", file=sys.stderr)
                    bad += 1
            return 3 if bad else 0
        if cmd == "file":
            print(parse(argv[2])["file"])
            return 0
        if cmd == "tests":
            for p in argv[2:]:
                print(" ".join(parse(p)["tests"]))
            return 0
        if cmd == "apply":
            target, text = mutated(argv[2], parse(argv[3]))
            with open(target, "w", encoding="utf-8") as f:
                f.write(text)
            print(target)
            return 0
    except MutantError as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 3
    print(f"mutate.py: unknown command {cmd!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
