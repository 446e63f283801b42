#!/bin/bash
# Basic auth (htpasswd): login checks the password before storing it, a
# wrong one stores nothing, commands without credentials suggest login, and
# the password never shows up in output, -v traces included.
. "$(dirname "$0")/lib.sh"

PW='S3cret-basic-Pw'
B64=$(printf 'alice:%s' "$PW" | base64)
start_registry_basic reg "alice:$PW"
make_oci_image "$WORK/img" v1 >/dev/null
skopeo copy --quiet --dest-creds "alice:$PW" --dest-tls-verify=false "oci:$WORK/img:v1" "docker://$REG/team/app:v1"
DIGEST=$(skopeo inspect --format '{{.Digest}}' --tls-verify=false --creds "alice:$PW" "docker://$REG/team/app:v1")
CONFIG="$HOME/.docker/config.json"

no_secret() { # what: neither the password nor its base64 form in stdout/stderr
	assert_not_contains "$OUT$ERR" "$PW" "$1"
	assert_not_contains "$OUT$ERR" "$B64" "$1"
}

step "login usage errors"
expect_fail 2 "read from standard input only: add --password-stdin" login "$REG" -u alice </dev/null
expect_fail 2 "-p/--password is not offered" login "$REG" -u alice -p "$PW"
no_secret "login -p"
expect_fail 2 "a user name is required" login "$REG" --password-stdin </dev/null
expect_fail 2 "standard input held no password" login "$REG" -u alice --password-stdin </dev/null
expect_fail 2 "login takes one HOST" login -u alice --password-stdin </dev/null
ok login --help
assert_contains "$OUT" "--password-stdin"
ok logout --help
[ ! -e "$HOME/.docker" ] || fail "a usage error created $HOME/.docker"

step "wrong password: exit 1, nothing stored"
run login "$REG" -u alice --password-stdin <<<"not-the-password"
[ "$RC" -eq 1 ] || fail "wrong password exited $RC: $ERR"
assert_contains "$ERR" "login to $REG failed: $REG: authentication failed for user alice (401 from registry)"
[ ! -e "$CONFIG" ] || fail "a failed login wrote $CONFIG"

step "no credentials: the message suggests login"
expect_fail 1 "registry $REG requires authentication: run 'ocisync login $REG'" resolve "$REG/team/app:v1"

step "login"
run -v login "$REG" -u alice --password-stdin <<<"$PW"
[ "$RC" -eq 0 ] || fail "login exited $RC: $ERR"
assert_eq "$OUT" "Login succeeded: $REG"
no_secret "login -v"
[ "$(stat -c %a "$CONFIG")" = 600 ] || fail "config mode $(stat -c %a "$CONFIG")"
[ "$(stat -c %a "$HOME/.docker")" = 700 ] || fail "config dir mode $(stat -c %a "$HOME/.docker")"
/usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"]; assert a==sys.argv[3], a' \
	"$CONFIG" "$REG" "$B64" || fail "config does not hold alice's credentials"

step "stored credentials are used (never shown)"
run -v resolve "$REG/team/app:v1"
[ "$RC" -eq 0 ] || fail "resolve exited $RC: $ERR"
assert_eq "$OUT" "$DIGEST" "resolved digest"
no_secret "resolve -v"
assert_not_contains "$ERR" "Authorization" "resolve -v"
ok tags "$REG/team/app"
assert_contains "$OUT" "v1"

step "login to another config (--registry-config, JSON) keeps its other keys"
CFG2="$WORK/other/config.json"
mkdir -p "$WORK/other"
printf '{"psFormat":"table","auths":{"elsewhere.example.com":{"auth":"eDp5"}}}' >"$CFG2"
run -o json --registry-config "$CFG2" login "https://$REG/v1/" -u alice --password-stdin <<<"$PW"
[ "$RC" -eq 0 ] || fail "login --registry-config exited $RC: $ERR"
assert_contains "$OUT" "\"host\":\"$REG\""
assert_contains "$OUT" "\"stored_in\":\"$CFG2\""
no_secret "login -o json"
/usr/bin/python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["psFormat"]=="table" and "elsewhere.example.com" in c["auths"] and sys.argv[2] in c["auths"], c' \
	"$CFG2" "$REG" || fail "other keys of $CFG2 were lost"
[ "$(stat -c %a "$CFG2")" = 600 ] || fail "$CFG2 mode $(stat -c %a "$CFG2")"
ok --registry-config "$CFG2" resolve "$REG/team/app:v1"
assert_eq "$OUT" "$DIGEST"

step "logout"
ok logout "$REG"
assert_eq "$OUT" "Removed credentials for $REG"
expect_fail 1 "not logged in to $REG" logout "$REG"
expect_fail 1 "requires authentication: run 'ocisync login $REG'" resolve "$REG/team/app:v1"
ok -o json --registry-config "$CFG2" logout "$REG"
assert_contains "$OUT" "\"removed_from\":\"$CFG2\""
/usr/bin/python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert "elsewhere.example.com" in c["auths"] and sys.argv[2] not in c["auths"]' \
	"$CFG2" "$REG" || fail "logout removed the wrong entries"

step "podman's REGISTRY_AUTH_FILE is read when the Docker config has nothing"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$B64" >"$WORK/podman-auth.json"
REGISTRY_AUTH_FILE="$WORK/podman-auth.json" run resolve "$REG/team/app:v1"
[ "$RC" -eq 0 ] || fail "resolve with REGISTRY_AUTH_FILE exited $RC: $ERR"
assert_eq "$OUT" "$DIGEST"

step "a stale password in the config is named as such"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf 'alice:stale' | base64)" >"$CONFIG"
expect_fail 1 "$REG: authentication failed for user alice (401 from registry)" resolve "$REG/team/app:v1"
assert_not_contains "$ERR" "stale"
step "login on a terminal asks for the user name, then the password without echo"
# a pseudo-terminal as ocisync's controlling terminal, as a person at a shell
cat >"$WORK/login_tty.py" <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
def read_until(s):
    global seen
    while s not in seen:
        d = os.read(fd, 1024)
        if not d:
            sys.exit("ended before %r: %r" % (s, seen))
        seen += d
read_until(b"Username: ")
os.write(fd, b"alice\n")
read_until(b"Password: ")
os.write(fd, os.environ["PW"].encode() + b"\n")
try:
    while True:
        d = os.read(fd, 1024)
        if not d:
            break
        seen += d
except OSError:  # EIO: the child has gone
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
set +e
TTY_OUT=$(PW="$PW" /usr/bin/python3 "$WORK/login_tty.py" "$OCISYNC" --registry-config "$WORK/tty.json" login "$REG")
TTY_RC=$?
set -e
[ "$TTY_RC" -eq 0 ] || fail "login on a terminal exited $TTY_RC: $TTY_OUT"
assert_contains "$TTY_OUT" "Username: alice" "the user name is echoed"
assert_not_contains "$TTY_OUT" "$PW" "the password is not echoed"
assert_contains "$TTY_OUT" "Login succeeded: $REG"
/usr/bin/python3 -c 'import json,sys; assert sys.argv[2] in json.load(open(sys.argv[1]))["auths"]' "$WORK/tty.json" "$REG" ||
	fail "login on a terminal stored nothing"
echo "auth_basic: ok"
