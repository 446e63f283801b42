#!/usr/bin/python3
"""Runs one round of bench/fleet.sh: N `ocisync sync REF --root ROOT_i
--once` processes started together, each timed from its start to its exit
and killed at DEADLINE seconds (a deadline miss). A sync that fails is
started again (up to RETRIES times, as the next CronJob run would), to show
whether every one eventually succeeds. Prints one JSON object: latencies
(first attempts), failures of first attempts, syncs that never succeeded,
deadline misses, attempts, wall time."""
import json, subprocess, sys, threading, time

ocisync, ref, roots_dir, n, deadline, retries = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
extra = sys.argv[7:]
lat, first_fail, never, missed, attempts = [None] * n, [0] * n, [0] * n, [0] * n, [0] * n
errors = []
start = threading.Barrier(n)

def one(i):
    start.wait()
    for attempt in range(1 + retries):
        attempts[i] += 1
        t0 = time.monotonic()
        p = subprocess.Popen([ocisync] + extra + ["sync", ref, "--root", "%s/r%d" % (roots_dir, i), "--once"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, err = p.communicate(timeout=deadline)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            missed[i] += 1
        dt = time.monotonic() - t0
        if attempt == 0:
            lat[i] = dt
        if p.returncode == 0:
            return
        if attempt == 0:
            first_fail[i] = 1
            errors.append(err.decode(errors="replace").strip()[-300:])
    never[i] = 1

t0 = time.monotonic()
threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.monotonic() - t0
s = sorted(lat)
pct = lambda q: s[min(n - 1, int(q * n))]
print(json.dumps({"n": n, "wall": wall, "p50": pct(0.50), "p99": pct(0.99), "max": s[-1],
                  "first_failures": sum(first_fail), "never_succeeded": sum(never),
                  "deadline_misses": sum(missed), "attempts": sum(attempts),
                  "sample_errors": errors[:3]}))
