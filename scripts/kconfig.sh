#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write $OBJ/.config: tinyconfig + config/testbed.config (+ extra fragments),
# merged with the kernel's merge_config.sh, then check that Kconfig kept every
# option the fragments ask for.
# Usage: kconfig.sh [extra.config ...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

frags=("$TOP/config/testbed.config" "$@")
mkdir -p "$OBJ"
new=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$OBJ/.config" ] && [ "$(cat "$OBJ/.config.fragments" 2>/dev/null)" = "$new" ] &&
   [ "$OBJ/.config" -nt "$TREE/.git/series-applied" ]; then
	exit 0
fi
step "configuring: tinyconfig + ${frags[*]##*/}"
make -s -C "$TREE" O="$OBJ" ARCH=x86_64 tinyconfig >"$BUILD/kconfig.log" 2>&1 ||
	die "tinyconfig failed (see $BUILD/kconfig.log)"
(cd "$OBJ" && "$TREE/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "${frags[@]}") \
	>>"$BUILD/kconfig.log" 2>&1 || die "merge_config.sh failed (see $BUILD/kconfig.log)"
make -s -C "$TREE" O="$OBJ" ARCH=x86_64 olddefconfig >>"$BUILD/kconfig.log" 2>&1 ||
	die "olddefconfig failed (see $BUILD/kconfig.log)"

# Every option asked for must have survived, with the value asked for.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%%=*}
		grep -q "^$opt=" "$OBJ/.config" && { warn "Kconfig kept $opt (asked: n)"; bad=1; } ;;
	CONFIG_*=*)
		grep -qxF "$line" "$OBJ/.config" ||
			{ warn "Kconfig dropped $line (got: $(grep "^${line%%=*}=" "$OBJ/.config" || echo unset))"; bad=1; } ;;
	esac
done < <(cat "${frags[@]}" | sed 's/[[:space:]]*#.*//' | grep '^CONFIG_')
[ "$bad" = 0 ] || die "the kernel config lacks options the fragments ask for"
echo "$new" >"$OBJ/.config.fragments"
info "config ok: $(grep -c '=[ym]$' "$OBJ/.config") options set"
