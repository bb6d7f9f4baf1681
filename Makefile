# SPDX-License-Identifier: GPL-2.0
# Verbs for developers; each is a thin wrapper around ./testbed.
#   make demo     build, boot, walk through the feature
#   make bench    build a kernel without debug options, boot, benchmark
#   make test     what CI runs: vmtest, then check
#   make vmtest   build, boot, run the kselftests (TESTS=collection:test,... for some)
#   make build    kernel + initramfs only
#   make export   regenerate patches/ from build/linux
#   make check    upstream-readiness gates (GATES="1 9" for some)
#   make reset-tree  throw away local work in build/linux and re-apply patches/
#   make clean    remove build/ (keeps ccache)

.PHONY: demo bench test vmtest build export check reset-tree clean
demo bench test build export:
	./testbed $@
vmtest:
	./testbed $@ $(TESTS)
check:
	./testbed $@ $(GATES)
reset-tree:
	rm -f build/linux/.git/series-applied
	cd build/linux && git am --abort 2>/dev/null; git reset -q --hard && git checkout -q -B series pristine
	./scripts/tree.sh
clean:
	rm -rf build
