#!/bin/bash
# Passwords typed on a terminal (a pseudo-terminal driven by Python's pty):
# keygen asks twice without echo and refuses a mismatch; sign asks once,
# naming the key; nothing typed is echoed back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_lib.sh"

cd "$WORK"
unset COSIGN_PASSWORD

# on_tty EXPECTED_EXIT ANSWER... -- ocisync args: runs ocisync on a new
# pseudo-terminal, answers each password prompt, checks the exit code and
# that no answer was echoed; the terminal transcript goes to $WORK/tty.
on_tty() {
	/usr/bin/python3 - "$OCISYNC" "$@" <<'PY'
import os, pty, sys
ocisync, expect = sys.argv[1], int(sys.argv[2])
rest = sys.argv[3:]
sep = rest.index("--")
answers, args = rest[:sep], rest[sep + 1:]
env = {k: v for k, v in os.environ.items() if k != "COSIGN_PASSWORD"}
pid, fd = pty.fork()
if pid == 0:
    os.execve(ocisync, [ocisync] + args, env)
# A safety net, not a timing assertion: a prompt nobody answers must not hang the suite.
import signal
def give_up(*_):
    os.kill(pid, signal.SIGKILL)
    sys.exit("ocisync %s hung on the terminal" % " ".join(args))
signal.signal(signal.SIGALRM, give_up)
signal.alarm(60)
out = b""
pending = list(answers)
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    # answer each prompt once it has been shown
    while pending and out.count(b"password for private key") > len(answers) - len(pending):
        os.write(fd, pending.pop(0).encode() + b"\n")
_, status = os.waitpid(pid, 0)
open(os.environ["WORK"] + "/tty", "wb").write(out)
code = os.waitstatus_to_exitcode(status)
assert code == expect, "exit %d, expected %d: %r" % (code, expect, out)
for a in answers:
    assert a.encode() not in out, "password echoed: %r" % out
PY
}
export WORK

step "keygen asks twice, without echo"
on_tty 0 'tty secret 1' 'tty secret 1' -- keygen --prefix t || fail "keygen on a terminal"
assert_contains "$(cat "$WORK/tty")" "Enter password for private key: "
assert_contains "$(cat "$WORK/tty")" "Enter password for private key again: "
assert_eq "$(stat -c %a t.key)" 600
COSIGN_PASSWORD='tty secret 1' /usr/bin/python3 "$SRCDIR/tests/decrypt_cosign_key.py" t.key t.der 2>/dev/null ||
	fail "the typed password is not the key's password"
openssl pkey -inform DER -in t.der -pubout | cmp - t.pub || fail "public half"

step "a mismatch writes nothing"
on_tty 1 'one' 'two' -- keygen --prefix m || fail "keygen with mismatching passwords"
assert_contains "$(cat "$WORK/tty")" "the passwords do not match"
[ ! -e m.key ] && [ ! -e m.pub ] || fail "keygen wrote files after a mismatch"

step "sign asks once, naming the key"
L="$WORK/layout"
DIG=$(make_oci_image "$L" app)
on_tty 0 'tty secret 1' -- sign --key t.key "oci-layout:$L:app" || fail "sign on a terminal"
assert_contains "$(cat "$WORK/tty")" "Enter password for private key t.key: "
assert_contains "$(cat "$WORK/tty")" "oci-layout:$L@$DIG"
on_tty 1 'nope-typed' -- sign --key t.key "oci-layout:$L:app" || fail "sign with a wrong typed password"
assert_contains "$(cat "$WORK/tty")" "wrong password or corrupt key"
ok verify --key t.pub "oci-layout:$L:app"
assert_verified "oci-layout:$L@$DIG" t.pub
echo PASS
