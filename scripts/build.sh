#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test kernel (bzImage + modules) from $TREE into $OBJ.
# Usage: build.sh [extra.config ...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/tree.sh"
"$TOP/scripts/kconfig.sh" "$@"

cc=gcc
if command -v ccache >/dev/null; then
	cc="ccache gcc"
	export CCACHE_BASEDIR=$TREE CCACHE_SLOPPINESS=time_macros,include_file_mtime
fi
# Reproducible version strings, so that ccache hits across rebuilds.
export KBUILD_BUILD_TIMESTAMP="@946684800" KBUILD_BUILD_USER=testbed KBUILD_BUILD_HOST=testbed

step "building the kernel ($JOBS jobs, CC=$cc); about 10 minutes from scratch on 2 cores, a few with ccache"
run_logged "$BUILD/build.log" \
	make -C "$TREE" O="$OBJ" ARCH=x86_64 CC="$cc" -j"$JOBS" bzImage modules
step "installing kernel headers"
run_logged "$BUILD/headers.log" \
	make -C "$TREE" O="$OBJ" ARCH=x86_64 headers_install INSTALL_HDR_PATH="$OBJ/usr"
