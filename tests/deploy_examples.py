#!/usr/bin/env python3
"""Checks the deploy/ examples so they cannot rot (tests/integration/deploy_examples.sh).

1. Structure: every Kubernetes document has apiVersion, kind and metadata.name;
   pod specs mount only volumes they define, run as the image's non-root user
   65532, name the ServiceAccount rbac.yaml defines; probes and the Service and
   ServiceMonitor use the named port "metrics"; the pull secret is a Docker
   config; every file an ocisync argument names lies on a mount that provides
   it; kubectl applies what ocisync publishes. The CI examples have the shape
   GitHub Actions and GitLab CI read.
2. Every ocisync command line (container command/args, CI scripts) uses only
   options its `ocisync <cmd> --help` (or the global `ocisync --help`) lists,
   and parses: run against an unreachable registry, with the files it names
   made (paths mapped into a scratch tree), it does not end in a usage error
   (exit 2) or an option error.

usage: deploy_examples.py OCISYNC DEPLOY_DIR WORK
"""
import json
import os
import re
import shlex
import socket
import subprocess
import sys

import yaml

OCISYNC, DEPLOY, WORK = sys.argv[1:4]
FS = os.path.join(WORK, "fs")          # absolute paths of the examples, mapped here
CIDIR = os.path.join(WORK, "ci")       # the CI jobs' working directory
failures = []
checked = {"documents": 0, "commands": 0, "options": 0}


def fail(where, msg):
    failures.append(f"{where}: {msg}")


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---------------------------------------------------------------- structure

def pod_spec(doc):
    kind = doc.get("kind")
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return doc["spec"]["template"]["spec"]
    return None


def check_k8s(files):
    docs = []
    for path in files:
        for d in load(path):
            where = f"{os.path.relpath(path, DEPLOY)} {d.get('kind')}/{(d.get('metadata') or {}).get('name')}"
            checked["documents"] += 1
            for key in ("apiVersion", "kind"):
                if not isinstance(d.get(key), str) or not d[key]:
                    fail(where, f"no {key}")
            if not (d.get("metadata") or {}).get("name"):
                fail(where, "no metadata.name")
            docs.append((where, d))
    by_kind = {}
    for where, d in docs:
        by_kind.setdefault(d.get("kind"), []).append(d)
    accounts = {d["metadata"]["name"] for d in by_kind.get("ServiceAccount", [])}
    roles = {(d["kind"], d["metadata"]["name"]) for d in by_kind.get("Role", []) + by_kind.get("ClusterRole", [])}
    for d in by_kind.get("RoleBinding", []) + by_kind.get("ClusterRoleBinding", []):
        ref = d.get("roleRef") or {}
        if (ref.get("kind"), ref.get("name")) not in roles:
            fail(f"{d['kind']}/{d['metadata']['name']}", f"roleRef {ref} names no Role defined here")
        for s in d.get("subjects") or []:
            if s.get("kind") == "ServiceAccount" and s.get("name") not in accounts:
                fail(f"{d['kind']}/{d['metadata']['name']}", f"subject {s.get('name')} is no ServiceAccount here")
    secrets = {d["metadata"]["name"]: d for d in by_kind.get("Secret", [])}
    configmaps = {d["metadata"]["name"]: d for d in by_kind.get("ConfigMap", [])}
    for name, s in secrets.items():
        if s.get("type") == "kubernetes.io/dockerconfigjson":
            try:
                cfg = json.loads(s["stringData"][".dockerconfigjson"])
                if "auths" not in cfg:
                    fail(f"Secret/{name}", "the Docker config has no auths")
            except (KeyError, ValueError) as e:
                fail(f"Secret/{name}", f".dockerconfigjson is not a Docker config: {e}")
    commands = []
    for where, d in docs:
        spec = pod_spec(d)
        if spec is None:
            continue
        sa = spec.get("serviceAccountName")
        if sa not in accounts:
            fail(where, f"serviceAccountName {sa} is not defined in rbac.yaml")
        sc = spec.get("securityContext") or {}
        if sc.get("runAsUser") != 65532 or sc.get("runAsNonRoot") is not True:
            fail(where, "the pod must run as the image's user 65532 (runAsNonRoot)")
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
        roots = []
        for c in containers:
            cwhere = f"{where} container {c.get('name')}"
            if not c.get("image"):
                fail(cwhere, "no image")
            mounts = c.get("volumeMounts") or []
            for m in mounts:
                if m.get("name") not in volumes:
                    fail(cwhere, f"mounts volume {m.get('name')}, which the pod does not define")
            for probe in ("livenessProbe", "readinessProbe"):
                p = (c.get(probe) or {}).get("httpGet")
                if p and p.get("port") not in [port.get("name") for port in c.get("ports") or []]:
                    fail(cwhere, f"{probe} uses port {p.get('port')}, which the container does not name")
            cmd = list(c.get("command") or []) + list(c.get("args") or [])
            if cmd and os.path.basename(str(cmd[0])) == "ocisync":
                argv = [str(a) for a in cmd[1:]]
                check_mounts(cwhere, argv, mounts, volumes, secrets, configmaps)
                root = option_value(argv, "--root")
                if root:
                    roots.append(root)
                commands.append((cwhere, argv))
        # what ocisync publishes is what kubectl applies
        for c in containers:
            text = " ".join(str(a) for a in list(c.get("command") or []) + list(c.get("args") or []))
            if "kubectl" in text and "apply" in text:
                if not any(f"{r.rstrip('/')}/current" in text for r in roots):
                    fail(f"{where} container {c.get('name')}", f"kubectl applies something else than {roots}/current")
        if d.get("kind") == "Deployment":
            ocs = [c for c in containers if os.path.basename(str((c.get("command") or [""])[0])) == "ocisync"]
            for c in ocs:
                paths = {((c.get(p) or {}).get("httpGet") or {}).get("path") for p in ("livenessProbe", "readinessProbe")}
                if paths != {"/healthz", "/readyz"}:
                    fail(where, f"the loop's probes ask {paths}, not /healthz and /readyz")
                if not any(a.startswith("--http-bind") for a in c.get("args") or []):
                    fail(where, "the loop serves no --http-bind")
    for s in by_kind.get("Service", []):
        if "metrics" not in [p.get("name") for p in s["spec"].get("ports") or []]:
            fail(f"Service/{s['metadata']['name']}", "no port named metrics")
    for m in by_kind.get("ServiceMonitor", []):
        for e in m["spec"].get("endpoints") or []:
            if e.get("port") != "metrics":
                fail(f"ServiceMonitor/{m['metadata']['name']}", f"scrapes port {e.get('port')}, not metrics")
    return commands


def option_value(argv, name):
    for i, a in enumerate(argv):
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
    return None


FILE_OPTIONS = ("--registry-config", "--verify-key", "--key", "--ca-file", "--cert-file", "--key-file")


def check_mounts(where, argv, mounts, volumes, secrets, configmaps):
    """Every file an option names is provided by a mount; --root is writable."""
    for opt in FILE_OPTIONS + ("--root",):
        path = option_value(argv, opt)
        if not path or not path.startswith("/"):
            continue
        best = None
        for m in mounts:
            mp = m["mountPath"].rstrip("/")
            if path == mp or path.startswith(mp + "/"):
                if best is None or len(mp) > len(best["mountPath"].rstrip("/")):
                    best = m
        if best is None:
            fail(where, f"{opt} {path} is on no mount")
            continue
        if opt == "--root":
            if best.get("readOnly"):
                fail(where, f"--root {path} is on a read-only mount")
            continue
        vol = volumes.get(best["name"]) or {}
        rel = os.path.relpath(path, best["mountPath"])
        if "secret" in vol:
            items = vol["secret"].get("items")
            names = [i["path"] for i in items] if items else list((secrets.get(vol["secret"]["secretName"]) or {}).get("stringData", {}))
        elif "configMap" in vol:
            items = vol["configMap"].get("items")
            names = [i["path"] for i in items] if items else list((configmaps.get(vol["configMap"]["name"]) or {}).get("data", {}))
        else:
            continue
        if rel not in names:
            fail(where, f"{opt} {path}: the volume {best['name']} provides {names}, not {rel}")


# ---------------------------------------------------------------- CI examples

GITHUB_CONTEXT = {
    "github.sha": "3f1c0de5a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "github.ref_name": "main",
    "github.server_url": "https://github.com",
    "github.repository": "example/shop",
}
CI_VARS = {
    "CI_REGISTRY": "registry.example.com",
    "CI_REGISTRY_IMAGE": "registry.example.com/shop",
    "CI_REGISTRY_USER": "ci",
    "CI_REGISTRY_PASSWORD": "secret",
    "CI_COMMIT_SHA": "3f1c0de5a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "CI_COMMIT_REF_NAME": "main",
    "CI_PROJECT_URL": "https://gitlab.example.com/shop/manifests",
    "COSIGN_KEY": "cosign.key",   # GitLab: a file variable holds the path
    "COSIGN_PASSWORD": "ocisync-test",
}


def expand(text, env):
    def gh(m):
        expr = m.group(1).strip()
        if expr.startswith("secrets."):
            return "secret"
        if expr.startswith("env."):
            return env.get(expr[4:], "")
        if expr in GITHUB_CONTEXT:
            return GITHUB_CONTEXT[expr]
        fail("CI", f"unknown expression ${{{{ {expr} }}}}")
        return "x"
    text = re.sub(r"\$\{\{(.*?)\}\}", gh, text)
    for _ in range(3):  # variables defined through variables
        text = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), m.group(0)), text)
    return text


def shell_commands(where, script, env):
    """The ocisync commands of a shell script: argv lists, redirections dropped."""
    script = expand(script.replace("\\\n", " "), env)
    out = []
    for line in script.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        lex = shlex.shlex(line, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        tokens = list(lex)
        seg, skip = [], False
        for t in tokens + [";"]:
            if skip:
                skip = False
                continue
            if t in (">", ">>", "<", "2>"):
                skip = True
                continue
            if t in ("|", "&&", "||", ";"):
                if seg and seg[0] == "ocisync":
                    out.append((where, seg[1:], False))
                seg = []
                continue
            seg.append(t)
    return out


def check_github(path):
    commands = []
    for d in load(path):
        checked["documents"] += 1
        on = d.get("on", d.get(True))  # YAML 1.1 reads a bare `on` as true
        if not on or not isinstance(d.get("jobs"), dict) or not d.get("name"):
            fail(path, "a workflow needs name, on and jobs")
            continue
        env = dict(d.get("env") or {})
        for job, j in d["jobs"].items():
            if "runs-on" not in j or not isinstance(j.get("steps"), list):
                fail(f"{path} job {job}", "needs runs-on and steps")
                continue
            for i, step in enumerate(j["steps"]):
                if not ("run" in step or "uses" in step):
                    fail(f"{path} job {job} step {i}", "neither run nor uses")
                if "run" in step:
                    senv = dict(env, **{k: str(v) for k, v in (step.get("env") or {}).items()})
                    commands += shell_commands(f"{os.path.basename(path)} job {job} step {step.get('name', i)}", step["run"], senv)
    return commands


def check_gitlab(path):
    commands = []
    for d in load(path):
        checked["documents"] += 1
        stages = d.get("stages")
        if not isinstance(stages, list):
            fail(path, "no stages list")
            continue
        env = dict(CI_VARS)
        for k, v in (d.get("variables") or {}).items():
            env[k] = expand(str(v), env)
        default = d.get("default") or {}
        for s in default.get("before_script") or []:
            commands += shell_commands(f"{os.path.basename(path)} default", s, env)
        for job, j in d.items():
            if job in ("stages", "variables", "default", "workflow", "include") or not isinstance(j, dict):
                continue
            if j.get("stage") not in stages:
                fail(f"{path} job {job}", f"stage {j.get('stage')} is not in stages {stages}")
            if not isinstance(j.get("script"), list) or not j["script"]:
                fail(f"{path} job {job}", "no script")
                continue
            for s in j["script"]:
                commands += shell_commands(f"{os.path.basename(path)} job {job}", s, env)
    return commands


# ---------------------------------------------------------------- the command lines

HELP = {}


def help_text(cmd):
    if cmd not in HELP:
        args = [OCISYNC] + ([cmd, "--help"] if cmd else ["--help"])
        HELP[cmd] = subprocess.run(args, capture_output=True, text=True, timeout=30).stdout
    return HELP[cmd]


GLOBAL_WITH_VALUE = {"--ca-file", "--cert-file", "--key-file", "--registry-config", "-o", "--output", "--timeout", "--min-speed"}


def command_name(argv):
    """The command of an ocisync argv (global options may come first)."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name = argv[i].split("=", 1)[0]
        i += 2 if name in GLOBAL_WITH_VALUE and "=" not in argv[i] else 1
    return argv[i] if i < len(argv) else None


def check_options(where, argv):
    cmd = command_name(argv)
    if not cmd:
        fail(where, f"no command in ocisync {' '.join(argv)}")
        return None
    text = help_text(cmd) + help_text(None)
    if "Usage: ocisync" not in help_text(cmd):
        fail(where, f"ocisync {cmd} --help does not answer: is {cmd} a command?")
    for a in argv:
        if a == "--":
            break
        if a.startswith("-") and len(a) > 1 and not re.match(r"^-\d", a):
            name = a.split("=", 1)[0]
            checked["options"] += 1
            if not re.search(r"(^|[\s,\[(|])" + re.escape(name) + r"([\s,=\])|]|$)", text, re.M):
                fail(where, f"{name} is in no --help of ocisync {cmd}")
    return cmd


def command_positional(argv, cmd):
    """The first argument after the command that is not an option."""
    args = argv[argv.index(cmd) + 1:]
    return next((a for a in args if not a.startswith("-")), None)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


DEAD = f"127.0.0.1:{free_port()}"  # nothing listens: connection refused at once
REF = re.compile(r"^(oci://)?([a-z0-9.-]+\.[a-z]{2,}|localhost)(:\d+)?/")


def stage_file(option, cmd, path):
    """Makes the file an option names, where the mapped path points."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if os.path.exists(path):
        return
    if option == "--registry-config":
        with open(path, "w") as f:
            json.dump(CONFIG, f)
    elif option == "--key" and cmd == "sign":
        os.link(os.path.join(WORK, "keys", "cosign.key"), path)
    elif option in ("--key", "--verify-key"):
        os.link(os.path.join(WORK, "keys", "cosign.pub"), path)
    elif option in ("--ca-file", "--cert-file", "--key-file"):
        with open(path, "w") as f:
            f.write("placeholder\n")


def mapped(p):
    return FS + p if p.startswith("/") else p


def prepare(argv, cmd):
    """The argv to run: registries made unreachable, absolute paths mapped into
    the scratch tree (their files made), a loop bounded to one failure."""
    out = []
    i = 0
    while i < len(argv):
        a = argv[i]
        name, eq, val = a.partition("=")
        takes = name in FILE_OPTIONS + ("--root", "--http-bind", "--status-file", "--metrics-file")
        if takes and not eq and i + 1 < len(argv):
            val = argv[i + 1]
            i += 1
        if takes:
            if name == "--http-bind":
                val = f"127.0.0.1:{free_port()}"  # loopback only in tests
            else:
                val = mapped(val)
                if name in FILE_OPTIONS:
                    stage_file(name, cmd, val)
                else:
                    os.makedirs(os.path.dirname(val.rstrip("/")), exist_ok=True)
            out.append(f"{name}={val}")
        else:
            m = REF.match(a)
            if m:
                out.append(DEAD + "/" + a[m.end():])
            elif cmd in ("login", "logout") and a == command_positional(argv, cmd):
                out.append(DEAD)  # the registry host
            else:
                out.append(a)
        i += 1
    if cmd == "sync" and "--once" not in out and not any(x.startswith("--max-failures") for x in out):
        out.append("--max-failures=1")  # the loop ends after its first (unreachable) try
    return out


def run_commands(commands):
    for where, argv, _ in commands:
        checked["commands"] += 1
        cmd = check_options(where, argv)
        if not cmd:
            continue
        run = prepare(argv, cmd)
        env = dict(os.environ, COSIGN_PASSWORD=CI_VARS["COSIGN_PASSWORD"], HOME=os.path.join(WORK, "home"))
        try:
            p = subprocess.run([OCISYNC] + run, cwd=CIDIR, input="secret\n", capture_output=True, text=True,
                               timeout=120, env=env)
        except subprocess.TimeoutExpired:
            fail(where, f"ocisync {' '.join(run)} did not end within 120 s")
            continue
        line = f"ocisync {' '.join(run)}: exit {p.returncode}: {p.stderr.strip()}"
        print(f"{where}: {line}", file=sys.stderr)
        if p.returncode == 2 or re.search(r"unknown option|needs a value|see ocisync \w+ --help", p.stderr):
            fail(where, f"does not parse: {line}")
        elif p.returncode == 0 and cmd not in ("login",):
            fail(where, f"succeeded against an unreachable registry? {line}")


# ---------------------------------------------------------------- main

k8s = sorted(os.path.join(DEPLOY, "kubernetes", f) for f in os.listdir(os.path.join(DEPLOY, "kubernetes"))
             if f.endswith((".yaml", ".yml")))
commands = [(w, a, False) for w, a in check_k8s(k8s)]
secret_docs = [d for f in k8s for d in load(f) if d.get("kind") == "Secret" and d.get("type") == "kubernetes.io/dockerconfigjson"]
CONFIG = json.loads(secret_docs[0]["stringData"][".dockerconfigjson"]) if secret_docs else {"auths": {}}
# the config's per-registry files live under the mapped tree too
for reg in ((CONFIG.get("ocisync") or {}).get("registries") or {}).values():
    for k in ("caFile", "certFile", "keyFile"):
        if reg.get(k, "").startswith("/"):
            reg[k] = mapped(reg[k])
            stage_file("--ca-file", None, reg[k])
ci = os.path.join(DEPLOY, "ci")
for f in sorted(os.listdir(ci)):
    p = os.path.join(ci, f)
    if "github" in f:
        commands += check_github(p)
    elif "gitlab" in f:
        commands += check_gitlab(p)
    else:
        fail(p, "neither a GitHub Actions nor a GitLab CI example")

# what the CI jobs' working directory holds: the rendered tree and the keys
os.makedirs(os.path.join(CIDIR, "rendered", "envs", "prod"), exist_ok=True)
with open(os.path.join(CIDIR, "rendered", "envs", "prod", "app.yaml"), "w") as f:
    f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n")
for k in ("cosign.key", "cosign.pub"):
    if not os.path.exists(os.path.join(CIDIR, k)):
        os.link(os.path.join(WORK, "keys", k), os.path.join(CIDIR, k))

kinds = {command_name(a) for _, a, _ in commands}
for need in ("sync", "push", "sign", "copy", "verify", "login", "tag"):
    if need not in kinds:
        fail("deploy/", f"no example runs ocisync {need}")
if not any(command_name(a) == "copy" and "--with-signatures" in a for _, a, _ in commands):
    fail("deploy/ci", "no promotion with copy --with-signatures")
run_commands(commands)

print(f"checked {checked['documents']} documents, {checked['commands']} ocisync command lines, "
      f"{checked['options']} options", file=sys.stderr)
for f in failures:
    print(f"FAIL: {f}", file=sys.stderr)
sys.exit(1 if failures else 0)
