#!/usr/bin/env python3
"""The layering rule of liboci/src (liboci/README.md), checked twice.

Each subsystem folder may use its own folder and the folders BELOW it in
LAYERS. Including a private header of a folder above it, or (given the
static library) calling a function defined in a folder above it, is a
back-edge and fails, unless it is listed in ALLOWED / ALLOWED_CALLS with the
reason. The call check reads `nm` of liboci_internal.a, so calls through
the public headers (oci/*.h) count too, which the include check cannot see. ALLOWED holds the back-edges the code has today;
later steps of issue 11 remove them (and their lines here), and no new one
may be added without a reason written next to it.

Also fails on: a private header whose name is in two folders (bare-name
includes would become ambiguous), an include of a header no folder has, a
file in a folder not in LAYERS, and a stale ALLOWED entry (an allowed edge
that no longer exists must be deleted, so the list only shrinks).

Usage: layering.py [SRC_DIR [LIBOCI_INTERNAL_A]]
  SRC_DIR defaults to liboci/src next to this script; without the archive
  only the includes are checked.
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
}

# Calls up the list present today: (calling file, called function) -> why.
ALLOWED_CALLS = {
    ('core/tmpfile.c', 'oci__rmtree_at'): ALLOWED[('core/tmpfile.c', 'extract_internal.h')],
    ('sync/sync_metrics.c', 'oci_sync_status_name'):
        'the names of sync results are defined next to the sync pass '
        '(ops/sync.c); they move into sync/ with the next edit of sync.c '
        '(moved files stay byte-identical in this step)',
}

# meson names liboci's objects after their source: src/core/error.c ->
# src_core_error.c.o (folders have no '_').
OBJECT = re.compile(r'(?:^|/)src_([a-z]+)_(.+\.c)\.o$')


def check_calls(archive, rank, errors):
    """Back-edges among the archive's objects; returns (calls, allowed seen)."""
    import subprocess
    out = subprocess.run(['nm', '-A', archive], check=True, capture_output=True, text=True).stdout
    defined = {}   # symbol -> folder/file.c
    undefined = set()  # (folder/file.c, symbol)
    for line in out.splitlines():
        # archive:member.o:VALUE TYPE NAME  or  archive:member.o:  U NAME
        head, _, rest = line.rpartition(':')
        member = head.rpartition(':')[2] if head.count(':') else head
        m = OBJECT.search(member)
        parts = rest.split()
        if not m or len(parts) < 2:
            continue
        rel = f'{m.group(1)}/{m.group(2)}'
        kind, name = parts[-2], parts[-1]
        if kind == 'U':
            undefined.add((rel, name))
        elif kind in 'TDBR':
            defined[name] = rel
    if not defined:
        errors.append(f'{archive}: no liboci objects found (named src_<folder>_<file>.c.o)')
    seen = set()
    calls = 0
    for rel, name in sorted(undefined):
        if name not in defined:
            continue  # libc, curl, ...
        calls += 1
        caller, callee = rel.split('/')[0], defined[name].split('/')[0]
        if caller not in rank or callee not in rank or rank[callee] <= rank[caller]:
            continue
        if (rel, name) in ALLOWED_CALLS:
            seen.add((rel, name))
            continue
        errors.append(f'{rel}: calls {name}() from {defined[name]}, a layer above {caller}/ '
                      f'(calls go down: {" < ".join(LAYERS)}); move the code')
    for key in sorted(set(ALLOWED_CALLS) - seen):
        errors.append(f'{key[0]} -> {key[1]}(): allowed back-edge no longer exists; delete it from ALLOWED_CALLS')
    return calls, len(seen)


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

    calls = allowed_calls = None
    if len(sys.argv) > 2:
        calls, allowed_calls = check_calls(sys.argv[2], rank, errors)

    for e in errors:
        print('layering: ' + e, file=sys.stderr)
    if errors:
        return 1
    print(f'layering: {len(files)} files, {edges} private includes, '
          f'{len(seen_allowed)} allowed back-edges, no new ones')
    if calls is not None:
        print(f'layering: {calls} calls between liboci objects, '
              f'{allowed_calls} allowed back-edges, no new ones')
    return 0


if __name__ == '__main__':
    sys.exit(main())
