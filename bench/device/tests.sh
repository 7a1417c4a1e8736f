#!/usr/bin/env bash
# .device/tests.sh: runs the plain build's test programs that pack.sh put in
# .device/bp, 12 at a time, each under 3x its meson timeout; prints the
# summed gtest counts, the programs that did not exit 0, and their output.
D=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
export PRIO_SOURCE_ROOT=$(cd "$D/.." && pwd) PRIO_BUILD_ROOT=$D/bp D W
one() {
  IFS='|' read -r name rel to ld args <<< "$1"
  env LD_LIBRARY_PATH="$D/lib$([ "$ld" = gdb ] && echo ":$D/bp/gdb")" \
    timeout $((to * 3)) "$D/bp/$rel" $args > "$W/$name.txt" 2>&1
  echo "$name $?"
}
export -f one
xargs -P 12 -I{} bash -c 'one "$@"' _ {} < "$D/tests.list" > "$W/rc"
cat "$W"/*.txt | grep -hE '^\[  (PASSED  |FAILED  |SKIPPED )\] [0-9]' |
  awk '{n[$2] += $4} END {printf "passed %d, failed %d, skipped %d\n", n["PASSED"], n["FAILED"], n["SKIPPED"]}'
awk '$2 != 0' "$W/rc" | while read -r name rc; do
  echo "== $name exited $rc"; tail -n 40 "$W/$name.txt"
done
grep -h '^\[  SKIPPED \] .*(' "$W"/*.txt | sort -u
rm -rf "$W"
