#!/usr/bin/env python3
"""The layering rule of liboci/src (liboci/README.md), checked over #includes.

Each subsystem folder may include the private headers of its own folder and
of folders BELOW it in LAYERS; including a header of a folder above it is a
back-edge (a call going up the list) and fails, unless it is listed in
ALLOWED with the reason. ALLOWED holds the back-edges the code has today;
later steps of issue 11 remove them (and their lines here), and no new one
may be added without a reason written next to it.

Also fails on: a private header whose name is in two folders (bare-name
includes would become ambiguous), an include of a header no folder has, a
file in a folder not in LAYERS, and a stale ALLOWED entry (an allowed edge
that no longer exists must be deleted, so the list only shrinks).

Usage: layering.py [SRC_DIR]   (default: liboci/src next to this script)
"""
import os
import re
import sys

# Lowest layer first: a folder may call (include) its own and earlier ones.
LAYERS = ['core', 'bundle', 'net', 'auth', 'target', 'sign', 'sync', 'ops']

# Back-edges present today: (including file, included header) -> why.
ALLOWED = {
    ('core/tmpfile.c', 'extract_internal.h'):
        'sweeping temporaries removes trees with fsutil.c\'s symlink-safe '
        'rmtree; step 3 (one stream/filesystem layer) moves those helpers '
        'into core/',
    ('net/http.c', 'auth.h'):
        'http.c owns the auth object and calls into it mid-request (the '
        'http/auth ping-pong); step 2 gives net/ a small authorizer '
        'interface that auth/ implements',
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', 'liboci', 'src')
    rank = {d: i for i, d in enumerate(LAYERS)}
    errors = []
    owner = {}   # private header name -> folder
    files = []   # (folder, relative path)
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry)
        if not os.path.isdir(path):
            if entry.endswith(('.c', '.h')):
                errors.append(f'{entry}: sources belong in a subsystem folder, not in src/ itself')
            continue
        if entry not in rank:
            errors.append(f'{entry}/: a folder not in the layer list (add it to LAYERS in tests/layering.py and liboci/README.md)')
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith(('.c', '.h')):
                continue
            files.append((entry, f'{entry}/{name}'))
            if name.endswith('.h'):
                if name in owner:
                    errors.append(f'{name}: a private header in both {owner[name]}/ and {entry}/')
                owner[name] = entry

    seen_allowed = set()
    edges = 0
    for folder, rel in files:
        with open(os.path.join(src, rel), encoding='utf-8') as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            if inc.startswith('oci/'):
                continue  # the public API: checked by symbols.sh, not here
            if inc not in owner:
                errors.append(f'{rel}: includes "{inc}", which no subsystem folder has')
                continue
            to = owner[inc]
            edges += 1
            if rank[to] <= rank[folder]:
                continue
            if (rel, inc) in ALLOWED:
                seen_allowed.add((rel, inc))
                continue
            errors.append(f'{rel}: includes "{inc}" from {to}/, a layer above {folder}/ '
                          f'(calls go down: {" < ".join(LAYERS)}); move the code, or split the header')
    for key in sorted(set(ALLOWED) - seen_allowed):
        errors.append(f'{key[0]} -> {key[1]}: allowed back-edge no longer exists; delete it from ALLOWED')

    for e in errors:
        print('layering: ' + e, file=sys.stderr)
    if errors:
        return 1
    print(f'layering: {len(files)} files, {edges} private includes, '
          f'{len(seen_allowed)} allowed back-edges, no new ones')
    return 0


if __name__ == '__main__':
    sys.exit(main())
