#!/usr/bin/env bash
# `meson install` puts what a packager ships where it belongs: quayd, the
# systemd unit (its ExecStart naming the installed quayd, accepted by
# systemd-analyze verify when it is there), the public headers and quay.pc.
# Usage: install_layout.sh QUAYD_BINARY   (the build folder is its folder's parent)
set -euo pipefail
build=$(cd "$(dirname "$1")/.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --no-rebuild --destdir "$dest" --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
root=$dest$prefix
check "quayd installed" "[[ -x $root/bin/quayd ]]"
check "the installed quayd runs" "$root/bin/quayd --version | grep -q quayd"
unit=$root/lib/systemd/system/quayd.service
check "systemd unit installed" "[[ -f $unit ]]"
check "its ExecStart names the installed quayd" "grep -q '^ExecStart=$prefix/bin/quayd serve' $unit"
check "it is sandboxed" "grep -q '^ProtectSystem=strict' $unit && grep -q '^NoNewPrivileges=yes' $unit"
check "public headers installed" "[[ -f $root/include/quay/registry.h && -f $root/include/quay/quay.h ]]"
pc=$(find "$dest" -name quay.pc | head -1)
check "pkg-config file installed" "[[ -n '$pc' ]]"
if command -v systemd-analyze >/dev/null; then
  sed "s|^ExecStart=$prefix/bin/quayd|ExecStart=$root/bin/quayd|" "$unit" >"$dest/quayd.service"
  check "systemd-analyze verify accepts the unit" "systemd-analyze verify $dest/quayd.service"
fi
exit $fail
