#!/usr/bin/env bash
# Installs what libquay needs from Debian (only what is missing), then
# configures and builds into ./build. Safe to run again; later runs are quick.
#   scripts/setup.sh            build dependencies only
#   scripts/setup.sh --tests    also the tools the tests drive (end-to-end clients,
#                               clang and libFuzzer for the fuzz targets), and
#                               ./build with warnings as errors, as CI builds it
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(g++ meson ninja-build pkg-config libcpp-httplib-dev libsqlitecpp-dev libsqlite3-dev
            rapidjson-dev libssl-dev libfmt-dev doctest-dev libsodium-dev libyaml-cpp-dev libxxhash-dev
            libcurl4-openssl-dev libpq-dev)
test_pkgs=(skopeo podman curl python3 jq sqlite3 openssl clang-14 libclang-rt-14-dev llvm-14
           python3-prometheus-client chromium chromium-driver python3-selenium
           ceph-mon ceph-osd radosgw postgresql nginx)

pkgs=("${build_pkgs[@]}")
[[ "${1:-}" == "--tests" ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" ||
    { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

# Warnings are errors for the tests (CI), not by default: a user's newer
# compiler may warn where ours does not (README, "Warnings").
werror=()
[[ "${1:-}" == "--tests" ]] && werror=(-Dwerror=true)
if [[ ! -f build/build.ninja ]]; then
  meson setup build "${werror[@]}"
elif ((${#werror[@]})) && ! meson introspect build --buildoptions |
       python3 -c 'import json,sys; sys.exit(not any(o["name"] == "werror" and o["value"] for o in json.load(sys.stdin)))'; then
  meson configure build "${werror[@]}"
fi
meson compile -C build
