#!/usr/bin/env bash
# The API is a contract: liboci.so exports exactly the functions the public
# headers declare with OCI_EXTERN, all named oci_*. Fails on an exported
# symbol that is not oci_* or not declared in liboci/include/oci/, and on a
# declared function the library does not export (declared but never built).
# Usage: symbols.sh LIBOCI_SO INCLUDE_DIR
set -euo pipefail
so=$1 inc=$2
[ -f "$so" ] || { echo "symbols: no library at $so" >&2; exit 1; }
exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | sort -u)
# Declarations: OCI_EXTERN ... name( possibly with the name on a later
# line; comments and the macro's own definition (common.h) left out.
declared=$(cat "$inc"/oci/*.h | perl -0pe 's{/\*.*?\*/}{}gs' | tr '\n' ' ' | grep -o 'OCI_EXTERN [^;(]*(' \
	| grep -v '__attribute__' | grep -o '[A-Za-z_][A-Za-z0-9_]*[[:space:]]*($' | tr -d '( ' | sort -u)
[ -n "$declared" ] || { echo "symbols: found no OCI_EXTERN declarations under $inc" >&2; exit 1; }
fail=0
for s in $exported; do
	case $s in
	oci_*) ;;
	*) echo "symbols: liboci.so exports $s, which is not oci_* (mark private functions static or leave them without OCI_EXTERN)" >&2; fail=1; continue ;;
	esac
	if ! grep -qx "$s" <<<"$declared"; then
		echo "symbols: liboci.so exports $s, which no public header declares with OCI_EXTERN" >&2
		fail=1
	fi
done
for s in $declared; do
	if ! grep -qx "$s" <<<"$exported"; then
		echo "symbols: $s is declared OCI_EXTERN in a public header but liboci.so does not export it" >&2
		fail=1
	fi
done
[ "$fail" = 0 ] || exit 1
echo "symbols: $(wc -l <<<"$exported") exported, all oci_* and declared in the public headers"
