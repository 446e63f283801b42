#!/usr/bin/python3
"""Deterministic generator of a large rendered-manifest tree for the benchmarks.

Writes about 10,000 YAML files (25-30 MB) under OUT/teams/<team>/<app>/:
deployment.yaml, service.yaml and a few configmap-*.yaml per app, the way a
rendered GitOps repository for a large organisation looks. The same seed
always gives byte-identical files (no clock, no hash randomisation).

usage: gen-tree.py OUT [--files N] [--seed S]
"""
import argparse
import os
import random

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee "
         "zulu payments ledger search catalog checkout billing ingest render notify audit").split()


def deployment(team, app, rng):
    replicas = rng.randint(1, 12)
    port = rng.choice([8080, 8443, 9000, 3000, 5000])
    envs = "".join(
        f"            - name: {rng.choice(WORDS).upper()}_{i}\n"
        f"              value: \"{rng.choice(WORDS)}-{rng.randint(0, 99999)}\"\n"
        for i in range(rng.randint(4, 14)))
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {team}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/part-of: {team}
    app.kubernetes.io/managed-by: ocisync
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {app}
        app.kubernetes.io/part-of: {team}
    spec:
      serviceAccountName: {app}
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {app}
          image: registry.example.com/{team}/{app}:{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 200)}
          ports:
            - name: http
              containerPort: {port}
          env:
{envs}          resources:
            requests:
              cpu: {rng.choice([50, 100, 250, 500])}m
              memory: {rng.choice([64, 128, 256, 512])}Mi
            limits:
              memory: {rng.choice([256, 512, 1024])}Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
"""


def service(team, app, rng):
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {team}
  labels:
    app.kubernetes.io/name: {app}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {app}
  ports:
    - name: http
      port: 80
      targetPort: http
"""


def configmap(team, app, n, rng, size):
    lines = []
    total = 0
    i = 0
    while total < size:
        line = f"    {rng.choice(WORDS)}.{rng.choice(WORDS)}.{i} = {' '.join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))}\n"
        lines.append(line)
        total += len(line)
        i += 1
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config-{n}\n"
            f"  namespace: {team}\ndata:\n  application.properties: |\n" + "".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20260101)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    written = 0
    nbytes = 0
    team_no = 0
    while written < args.files:
        team = f"team-{team_no:03d}"
        team_no += 1
        for a in range(rng.randint(8, 20)):
            if written >= args.files:
                break
            app = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{a}"
            d = os.path.join(args.out, "teams", team, app)
            os.makedirs(d, exist_ok=True)
            files = {"deployment.yaml": deployment(team, app, rng),
                     "service.yaml": service(team, app, rng)}
            for n in range(rng.randint(1, 4)):
                files[f"configmap-{n}.yaml"] = configmap(team, app, n, rng, rng.randint(1000, 7400))
            for name in sorted(files):
                if written >= args.files:
                    break
                data = files[name].encode()
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
                written += 1
                nbytes += len(data)
    print(f"{written} files, {nbytes} bytes in {args.out}")


if __name__ == "__main__":
    main()
