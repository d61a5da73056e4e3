#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The Debian package, as a user gets it:
#   - built from the release tarball (make dist) with dpkg-buildpackage -b
#     (unit tests off: make check ran them), named acme-diag_VERSION_ARCH.deb
#     with VERSION from scripts/version.sh --debian;
#   - lintian reports no error (its warnings are printed as comments);
#   - every tool of the Makefile's TOOLS is in it with its man page and
#     bash, zsh and fish completions, in Debian's places;
#   - installed with apt-get into a clean Debian root of this machine's
#     release (mmdebstrap --variant=apt: essential packages and apt, then
#     'apt-get install ./acme-diag_*.deb', so Depends must be complete),
#     where every tool's --version runs and names the version and the
#     libraries;
#   - with the lab: the packaged acme-dnscheck, run in that root inside the
#     lab's namespace, diagnoses a healthy zone and a filtering resolver.
# Needs root and Debian's mirror (for the clean root), dpkg-buildpackage,
# debhelper, lintian and mmdebstrap (scripts/install-deps.sh test).
# MMDEBSTRAP_MIRROR overrides mmdebstrap's mirror (deb.debian.org).
. "$(dirname "$0")/../lib/tap.sh"

# Under make sanitize the same package would be built again: nothing in it
# depends on the build under test.
if [ -n "${ASAN_OPTIONS:-}" ]; then
	echo "1..0 # SKIP make sanitize (make check runs this test)"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root (a chroot)"
	exit 0
fi
for c in dpkg-buildpackage dh lintian mmdebstrap; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "1..0 # SKIP $c not installed (scripts/install-deps.sh test)"
		exit 0
	fi
done

read -r -a tools <<<"$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s -C "$TOP" print-tools)"
version=$("$TOP/scripts/version.sh")
debversion=$("$TOP/scripts/version.sh" --debian)
arch=$(dpkg --print-architecture)
. /etc/os-release
suite=${VERSION_CODENAME:-bookworm}
deb=acme-diag_${debversion}_$arch.deb
src=$T_TMP/src
root=$T_TMP/root
plan $((14 + 6 * ${#tools[@]}))

# 1. Build from the tarball, outside the tree.
mkdir -p "$src"
tarball=$("$TOP/scripts/dist.sh" "$version" "$T_TMP" 2>"$T_TMP/err")
RC=$?
check "make dist: the tarball" test "$RC" -eq 0 -a -f "$tarball"
tar -C "$src" -xzf "$tarball"
# In a clean environment, as a packager's: nothing of the make that runs
# this test (MAKEFLAGS, BUILD, CFLAGS...) reaches the package's build.
mkdir -p "$T_TMP/home"
(cd "$src/acme-diag-$version" &&
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$T_TMP/home" \
		LC_ALL=C.UTF-8 DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
		dpkg-buildpackage -us -uc -b) >"$T_TMP/build.log" 2>&1
RC=$?
check "dpkg-buildpackage -us -uc -b succeeds" rc_is 0
[ "$RC" -eq 0 ] || tail -n 30 "$T_TMP/build.log" | sed 's/^/# build: /' >&2
check "the package is $deb" test -f "$src/$deb"

# 2. lintian: no errors; warnings are listed.
changes=$(ls "$src"/acme-diag_*_"$arch".changes 2>/dev/null | head -n1)
lintian --fail-on error --tag-display-limit 0 "$changes" >"$T_TMP/lintian.out" 2>"$T_TMP/lintian.err"
RC=$?   # 0 clean, 2 a tag of --fail-on's level, anything else lintian failed
sed 's/^/# lintian: /' "$T_TMP/lintian.out" >&2
check "lintian checks the .changes and its packages" bash -c "[ -n '$changes' ] && { [ $RC -eq 0 ] || [ $RC -eq 2 ]; }"
check "lintian: no errors" bash -c "[ $RC -eq 0 ] && ! grep -q '^E:' '$T_TMP/lintian.out'"

# 3. What is in it.
dpkg-deb -c "$src/$deb" 2>/dev/null | awk '{print $6}' | sed 's|^\./|/|' >"$T_TMP/contents"
in_deb() { grep -qx -- "$1" "$T_TMP/contents"; }
check "copyright in /usr/share/doc/acme-diag" in_deb /usr/share/doc/acme-diag/copyright
for t in "${tools[@]}"; do
	check "$t: /usr/bin/$t" in_deb "/usr/bin/$t"
	check "$t: man page in man1" in_deb "/usr/share/man/man1/$t.1.gz"
	check "$t: bash completion" in_deb "/usr/share/bash-completion/completions/$t"
	check "$t: zsh completion" in_deb "/usr/share/zsh/vendor-completions/_$t"
	check "$t: fish completion" in_deb "/usr/share/fish/vendor_completions.d/$t.fish"
done

# 4. apt-get install into a clean root of this release.
mmdebstrap --variant=apt --quiet \
	--customize-hook="copy-in $src/$deb /tmp" \
	--customize-hook="chroot \"\$1\" apt-get install -y -q --no-install-recommends /tmp/$deb" \
	--customize-hook='rm -f "$1"/tmp/*.deb' \
	"$suite" "$root" ${MMDEBSTRAP_MIRROR:+"$MMDEBSTRAP_MIRROR"} >"$T_TMP/root.log" 2>&1
RC=$?
[ "$RC" -eq 0 ] || tail -n 30 "$T_TMP/root.log" | sed 's/^/# mmdebstrap: /' >&2
check "apt-get install ./$deb in a clean $suite root" rc_is 0
installed_version() { [ "$(chroot "$root" dpkg-query -W -f='${Status} ${Version}' acme-diag)" = "install ok installed $debversion" ]; }
check "dpkg there says acme-diag $debversion is installed" installed_version
for t in "${tools[@]}"; do
	chroot "$root" "/usr/bin/$t" --version >"$T_TMP/out" 2>"$T_TMP/err"
	RC=$?
	check "$t --version in the clean root: '$t (acme-diag) $version' and the libraries" \
		bash -c "[ $RC -eq 0 ] && [ \"\$(head -n1 '$T_TMP/out')\" = '$t (acme-diag) $version' ] &&
			grep -q '^c-ares [0-9].*, ldns [0-9].*, libcurl [0-9].*, OpenSSL [0-9].*, jansson [0-9]' '$T_TMP/out'"
done

# 5. A real diagnosis by the packaged binary, in the lab.
if [ -z "${LAB_STATE:-}" ] || [ ! -f "$LAB_STATE/env" ]; then
	for i in 1 2 3 4 5 6; do T_N=$((T_N + 1)); echo "ok $T_N - lab diagnosis $i # SKIP no lab"; done
	done_testing
fi
BIN=/usr/bin
export TOOL_WRAP="chroot $root"
run_tool acme-dnscheck --json --ns 192.0.2.10 --expect healthy-token-value healthy.test
check "packaged acme-dnscheck, healthy.test: exit 0" rc_is 0
check "packaged acme-dnscheck, healthy.test: verdict ok, its version in the document" \
	jq_true ".verdict == \"ok\" and .version == \"$version\""
check "packaged acme-dnscheck, healthy.test: the TXT record at the resolver" finding dns01.txt 192.0.2.10 ok
run_tool acme-dnscheck --json --ns 192.0.2.11 healthy.test
check "packaged acme-dnscheck behind a filtering router: exit 1" rc_is 1
check "packaged acme-dnscheck: the router filters SOA" finding dns.resolver.soa-filtered 192.0.2.11 fail
check "packaged acme-dnscheck: the zone is still found" finding dns.zone _acme-challenge.healthy.test ok
done_testing
