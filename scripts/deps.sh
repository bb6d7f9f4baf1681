#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install, with apt-get, whatever the harness needs and is missing.
# Usage: deps.sh build|test|check
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(build-essential bc bison flex libelf-dev libssl-dev cpio kmod rsync
      xz-utils python3 git ccache busybox-static qemu-system-x86 perl)
case "${1:-test}" in
check) pkgs+=(sparse coccinelle python3-docutils) ;;
bench) pkgs+=(gnuplot-nox) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done

# The base kernel source, and for the gates Debian's own config of it (gate
# 10): the pinned version, or the newest 6.12 with a warning.
want=$(base_version)
pinned=(linux-source-6.12)
[ "${1:-test}" = check ] && pinned+=(linux-config-6.12)
stale=()
for p in "${pinned[@]}"; do
	[ "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)" = "$want" ] || stale+=("$p")
done

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

if [ ${#missing[@]} -gt 0 ] || [ ${#stale[@]} -gt 0 ]; then
	step "apt-get update"
	$sudo apt-get update -q >/dev/null
fi
for p in ${stale[@]+"${stale[@]}"}; do
	if apt-cache madison "$p" | awk '{print $3}' | grep -qxF "$want"; then
		missing+=("$p=$want")
	else
		warn "$p $want is no longer served; using the newest 6.12 instead."
		warn "Results are not for the pinned base. Update config/base-version."
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	step "apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive run_logged "$BUILD/apt.log" \
		$sudo apt-get install -y -q --no-install-recommends --allow-downgrades "${missing[@]}"
fi
