#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write $OBJ/.config: tinyconfig + config/testbed.config (+ extra fragments),
# merged with the kernel's merge_config.sh, then check that Kconfig kept every
# option the fragments ask for; when fragments set one option differently,
# the last one wins (as in merge_config.sh) and is the one checked.
# Usage: kconfig.sh [extra.config ...]
# KCONF_TREE, KCONF_OBJ, KCONF_LOG: configure another source tree / object
# directory / log than $TREE, $OBJ, $IMG/kconfig.log (used by check.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
TREE=${KCONF_TREE:-$TREE}
OBJ=${KCONF_OBJ:-$OBJ}
log=${KCONF_LOG:-$IMG/kconfig.log}

frags=("$TOP/config/testbed.config" "$@")
mkdir -p "$OBJ"
new=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$OBJ/.config" ] && [ "$(cat "$OBJ/.config.fragments" 2>/dev/null)" = "$new" ] &&
   [ "$OBJ/.config" -nt "$TREE/.git/series-applied" ]; then
	exit 0
fi
step "configuring: tinyconfig + ${frags[*]##*/}"
make -s -C "$TREE" O="$OBJ" ARCH=x86_64 tinyconfig >"$log" 2>&1 ||
	die "tinyconfig failed (see $log)"
(cd "$OBJ" && "$TREE/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "${frags[@]}") \
	>>"$log" 2>&1 || die "merge_config.sh failed (see $log)"
make -s -C "$TREE" O="$OBJ" ARCH=x86_64 olddefconfig >>"$log" 2>&1 ||
	die "olddefconfig failed (see $log)"

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
done < <(cat "${frags[@]}" | sed 's/[[:space:]]*#.*//' | grep '^CONFIG_' | tac | awk -F= '!seen[$1]++')
[ "$bad" = 0 ] || die "the kernel config lacks options the fragments ask for"
echo "$new" >"$OBJ/.config.fragments"
info "config ok: $(grep -c '=[ym]$' "$OBJ/.config") options set"
