#!/usr/bin/env bash
# Debian tools the test suite feeds tracehound's output to (real validators, real browser) and
# the benchmarks compare with. Installed only when missing; tests that need an absent tool skip
# with the reason, so a developer without root still runs everything else.
set -u
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
command -v yara >/dev/null || need+=(yara)  # the YARA command-line scanner bench/bench_sweep.py compares with
command -v osslsigncode >/dev/null || need+=(osslsigncode)
command -v openssl >/dev/null || need+=(openssl)
command -v named-checkzone >/dev/null || need+=(bind9-utils)
command -v unbound-checkconf >/dev/null || need+=(unbound)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v nft >/dev/null || need+=(nftables)
command -v mke2fs >/dev/null || [ -x /usr/sbin/mke2fs ] || need+=(e2fsprogs)  # ext4 images built at test time
command -v mformat >/dev/null || need+=(mtools)  # FAT images built at test time
[ -x /sbin/mkntfs ] || command -v mkntfs >/dev/null || need+=(ntfs-3g)  # NTFS images (mkntfs, ntfscp) built at test time
command -v qemu-img >/dev/null || need+=(qemu-utils)  # VMDK, VHDX, QCOW2 made from test images
command -v ewfacquire >/dev/null || need+=(ewf-tools)  # E01 made from test images
command -v bgzip >/dev/null || need+=(tabix)  # BGZF logs (htslib bgzip) split across workers in tests
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import hivex" 2>/dev/null || need+=(python3-hivex)  # tests write keys into hive copies
want_suricata=0
command -v suricata >/dev/null || want_suricata=1
[ ${#need[@]} -eq 0 ] && [ $want_suricata = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-system-deps: not root or no apt-get; missing: ${need[*]} (tests needing them will skip)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Suricata 7 comes from bookworm-backports: add that suite with the same archive and key as the
# machine's own Debian sources (nothing else is configured or downloaded).
src=/etc/apt/sources.list.d/debian.sources
bp=/etc/apt/sources.list.d/tracehound-backports.sources
if [ $want_suricata = 1 ] && [ -f "$src" ] && [ ! -f "$bp" ] && grep -q '^Suites:.*bookworm' "$src"; then
  awk 'BEGIN{RS="";ORS="\n\n"} NR==1{sub(/Suites:[^\n]*/,"Suites: bookworm-backports"); print}' "$src" > "$bp"
fi
apt-get update -qq >/dev/null || true
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || echo "install-system-deps: apt-get failed for: ${need[*]} (tests needing them will skip)" >&2
fi
if [ $want_suricata = 1 ]; then
  apt-get install -y -qq -t bookworm-backports suricata >/dev/null 2>&1 || apt-get install -y -qq suricata >/dev/null 2>&1 \
    || echo "install-system-deps: suricata not installable (its tests will skip)" >&2
fi
exit 0
