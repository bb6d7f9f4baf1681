#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test kernel (bzImage + modules) from $TREE into $OBJ.
# Usage: build.sh [extra.config ...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/tree.sh"
"$TOP/scripts/kconfig.sh" "$@"

kernel_cc

step "building the kernel ($JOBS jobs, CC=$KCC); about 10 minutes from scratch on 2 cores, a few with ccache"
run_logged "$IMG/build.log" \
	make -C "$TREE" O="$OBJ" ARCH=x86_64 CC="$KCC" -j"$JOBS" bzImage modules
step "installing kernel headers"
run_logged "$IMG/headers.log" \
	make -C "$TREE" O="$OBJ" ARCH=x86_64 headers_install INSTALL_HDR_PATH="$OBJ/usr"
