#!/usr/bin/env bash
# bench/device/pack.sh [build-dir] [test-build-dir]: gathers what a
# run on a lent machine needs into .device/ (git-ignored): the release
# benchmarks (stripped), the shared libraries they use that such a machine
# may lack (liburing, Google Benchmark, Boost.Context, oneTBB, mimalloc),
# the test programs of a plain build with its tests.list, and the scripts
# of this folder. Then, with the `device` tool:
#   the device tool's run, carry [".device"], command `bash .device/run.sh`
# Everything it writes goes to $OUT. About 40 MB.
# A sanitizer build as the test build (build-tsan, build-asan) packs its
# tests with their symbols (for the reports) and its sanitizer runtime; they
# travel as .device/bp.tar.xz (~15 MB; unpacked ~60 MB, over the carry
# limit), which run.sh's tests section unpacks and runs without ASLR, as
# .ci/test does for TSan.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
rel=${1:-build-rel}
plain=${2:-build-plain}
cd "$top"
rm -rf .device
mkdir -p .device/bin .device/lib .device/bp
for b in context/switch_bench executors/nop_roundtrip_bench executors/task_cycle_bench \
         executors/attach_bench io/file/random_read_bench io/net/echo_bench pool/pool_bench; do
  cp "$rel/bench/$b" .device/bin/
done
strip .device/bin/*
for l in liburing.so.2 libmimalloc.so.2 libbenchmark.so.1debian libboost_context.so.1.74.0 libtbb.so.12; do
  p=$(ldconfig -p | awk -v l="$l" '$1 == l { print $NF; exit }')
  [ -n "$p" ] && cp -L "$p" .device/lib/
done
# The plain build's tests, as meson lists them (name|path|timeout|gdb|args).
python3 - "$plain" <<'PY'
import json, os, shutil, sys
b = sys.argv[1].rstrip('/')
root = os.path.abspath(b) + '/'
lines = []
for t in json.load(open(b + '/meson-info/intro-tests.json')):
    rel = t['cmd'][0][len(root):]
    os.makedirs(os.path.dirname('.device/bp/' + rel), exist_ok=True)
    shutil.copy(t['cmd'][0], '.device/bp/' + rel)
    gdb = 'gdb' if 'LD_LIBRARY_PATH' in t['env'] else '-'
    lines.append(f"{t['name']}|{rel}|{t['timeout'] or 30}|{gdb}|{' '.join(t['cmd'][1:])}")
open('.device/tests.list', 'w').write('\n'.join(lines) + '\n')
PY
san=$(ldd "$plain"/tests/executors/*_test 2>/dev/null | awk '$1 ~ /^lib(tsan|asan|ubsan)\.so/ { print $3 }' | sort -u || true)
if [ -n "$san" ]; then
  find .device/bp -type f -exec strip --strip-debug {} + 2>/dev/null || true
  cp -L $san .device/lib/
else
  find .device/bp -type f -exec strip {} + 2>/dev/null || true
fi
mkdir -p .device/bp/gdb .device/bp/tests/gdb
cp "$plain/gdb/libthread_db.so.1" .device/bp/gdb/ 2>/dev/null || true
cp "$plain/tests/gdb/gdb_target" .device/bp/tests/gdb/ 2>/dev/null || true  # unstripped: gdb reads it
cp bench/device/run.sh bench/device/tests.sh .device/
[ -z "$san" ] || (cd .device && tar cJf bp.tar.xz bp && rm -rf bp)
du -sh .device
