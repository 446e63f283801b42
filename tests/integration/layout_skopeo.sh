# skopeo, an independent client, accepts our oci-layout and we read the
# layout skopeo writes (through a real docker-registry).
. "$(dirname "$0")/lib.sh"
start_registry
cd "$WORK"

ok push "oci-layout:$WORK/store:v1" "$TESTDATA/manifests"
digest=${OUT##*@}

step "skopeo copy oci:store:v1 docker://registry accepts our layout"
skopeo copy --quiet --dest-tls-verify=false "oci:$WORK/store:v1" "docker://$REG/shop/manifests:v1" \
	|| fail "skopeo refused our layout"
inspect=$(skopeo inspect --raw --tls-verify=false "docker://$REG/shop/manifests:v1")
got="sha256:$(printf '%s' "$inspect" | sha256sum | cut -d' ' -f1)"
assert_eq "$got" "$digest" "digest of the manifest skopeo pushed"

step "skopeo copy docker://registry oci:copy:v1 is readable by ocisync pull"
skopeo copy --quiet --src-tls-verify=false "docker://$REG/shop/manifests:v1" "oci:$WORK/copy:v1" \
	|| fail "skopeo copy to a layout failed"
ok pull "oci-layout:$WORK/copy:v1" "$WORK/out"
same_tree "$TESTDATA/manifests" "$WORK/out"
ok resolve "oci-layout:$WORK/copy:v1"
assert_eq "$OUT" "$digest"
echo ok
