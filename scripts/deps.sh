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

# The base kernel source: the pinned version, or the newest 6.12 with a warning.
want=$(base_version)
have=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

if [ ${#missing[@]} -gt 0 ] || [ "$have" != "$want" ]; then
	step "apt-get update"
	$sudo apt-get update -q >/dev/null
fi
if [ "$have" != "$want" ]; then
	if apt-cache madison linux-source-6.12 | awk '{print $3}' | grep -qxF "$want"; then
		missing+=("linux-source-6.12=$want")
	else
		warn "linux-source-6.12 $want is no longer served; using the newest 6.12 instead."
		warn "Results are not for the pinned base. Update config/base-version."
		missing+=(linux-source-6.12)
	fi
fi
if [ ${#missing[@]} -gt 0 ]; then
	step "apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive run_logged "$BUILD/apt.log" \
		$sudo apt-get install -y -q --no-install-recommends --allow-downgrades "${missing[@]}"
fi
