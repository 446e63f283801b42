#!/usr/bin/env python3
"""Each command's options (its --help, written from its spec) and the
options its man page documents are the same set.

usage: cli_man_check.py OCISYNC SRCDIR -- prints one line per mismatch,
exits 1 when there is any. A page documents an option when it shows it in
bold (*--name*, *-x, --name*); an option in a definition line of the page
(a line starting with *-) must belong to a command of the page or be a
global option. -h/--help is every command's and is not counted."""
import os
import re
import subprocess
import sys

ocisync, srcdir = sys.argv[1], sys.argv[2]


def out(*args):
    return subprocess.run([ocisync, *args], check=True, capture_output=True, text=True).stdout


overview = out("--help")
commands = re.findall(r"^  ([a-z]+) ", overview.split("Commands:\n", 1)[1].split("\n\n", 1)[0], re.M)
globals_ = set(re.findall(r"^  (?:-\w, )?--([a-z0-9-]+)", overview.split("Global options", 1)[1], re.M))

aliases = dict(re.findall(r"\['ocisync-([a-z]+)', 'ocisync-([a-z]+)'\]",
                          open(os.path.join(srcdir, "man", "meson.build")).read()))
pages = {}
for cmd in commands:
    page = aliases.get(cmd, cmd)
    pages.setdefault(page, []).append(cmd)

problems = []
for page, cmds in sorted(pages.items()):
    path = os.path.join(srcdir, "man", "ocisync-%s.1.scd" % page)
    if not os.path.exists(path):
        problems.append("%s: no man page man/ocisync-%s.1.scd" % (", ".join(cmds), page))
        continue
    text = open(path).read()
    # bold spans: *...* ; options inside them
    bold = set()
    for span in re.findall(r"\*([^*\n]+)\*", text):
        bold.update(re.findall(r"(?:^|[ ,|\[])--([a-z0-9][a-z0-9-]*)", span))
    defined = set()
    for line in text.splitlines():
        if line.startswith("*-"):
            defined.update(re.findall(r"--([a-z0-9][a-z0-9-]*)", line))
    table = set()
    for cmd in cmds:
        helptext = out(cmd, "--help").split("\nGlobal options:")[0]
        own = set(re.findall(r"^  (?:-\w, )?--([a-z0-9-]+)", helptext, re.M)) - {"help"}
        table |= own
        for opt in sorted(own - bold):
            problems.append("ocisync %s --%s: not in man/ocisync-%s.1.scd" % (cmd, opt, page))
    for opt in sorted(defined - table - globals_ - {"help"}):
        problems.append("man/ocisync-%s.1.scd documents --%s, which %s does not take" % (page, opt, " or ".join(cmds)))

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
