#!/usr/bin/env bash
# Debian tools the test suite feeds tracehound's output to (real validators, real browser) and
# the benchmarks compare with. Installed only when missing; tests that need an absent tool skip
# with the reason, so a developer without root still runs everything else.
set -u
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
command -v osslsigncode >/dev/null || need+=(osslsigncode)
command -v openssl >/dev/null || need+=(openssl)
command -v named-checkzone >/dev/null || need+=(bind9-utils)
command -v unbound-checkconf >/dev/null || need+=(unbound)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v nft >/dev/null || need+=(nftables)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-system-deps: not root or no apt-get; missing: ${need[*]} (tests needing them will skip)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || echo "install-system-deps: apt-get failed for: ${need[*]} (tests needing them will skip)" >&2
exit 0
