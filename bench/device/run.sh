#!/usr/bin/env bash
# .device/run.sh [section...] (copied there by bench/device/pack.sh): one pass
# over the benchmarks and the tests on a lent machine, about 3 minutes on 16
# cores for all sections. Sections, run in the order given (default: all, in
# this order): cpu nop file_io pool threads tests. Each writes one file to $OUT
# (the device tool returns only a few): cpu.txt (machine, switch, task cycle),
# nop.txt (NOP round trip: paired chunks, then separate rows), file_io.txt,
# pool.txt, threads.txt (cross-thread attach, echo server), tests.txt.
D=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH=$D/lib
O=${OUT:-/tmp/prio-device}; mkdir -p "$O"
B=$D/bin
C=$(( $(nproc) > 4 ? 5 : 1 ))  # single-threaded benchmarks pinned to one CPU
G="--benchmark_color=false"
R="$G --benchmark_repetitions=7 --benchmark_enable_random_interleaving=true --benchmark_min_time=0.2"
T0=$(date +%s)
el() { echo "[+$(( $(date +%s) - T0 ))s] $*"; }
cpu() {
  uname -a; nproc; lscpu | sed -n 1,25p; free -g; df -T "$D"; uptime
  for r in 1 2; do timeout 60 taskset -c $C $B/switch_bench $G --benchmark_min_time=0.5; done
  timeout 40 taskset -c $C $B/task_cycle_bench $G --benchmark_min_time=0.3
}
nop() {
  for r in 1 2 3; do timeout 60 taskset -c $C $B/nop_roundtrip_bench $G --benchmark_filter=paired; done
  timeout 90 taskset -c $C $B/nop_roundtrip_bench $R --benchmark_filter='^BM_(prio|raw|bare)_'
}
file_io() {
  mkdir -p "$D/data"
  PRIO_BENCH_DIR=$D/data timeout 100 taskset -c $C $B/random_read_bench $R --benchmark_filter='direct:0'
  PRIO_BENCH_DIR=$D/data timeout 60 taskset -c $C $B/random_read_bench $G --benchmark_repetitions=3 \
    --benchmark_enable_random_interleaving=true --benchmark_min_time=0.3 --benchmark_filter='direct:1'
  rm -rf "$D/data"
}
pool() { timeout 120 $B/pool_bench $G --benchmark_repetitions=3 --benchmark_min_time=0.2; }
threads() {
  timeout 40 $B/attach_bench $G --benchmark_min_time=0.3
  timeout 60 $B/echo_bench $G
}
tests() {
  if [ -f "$D/bp.tar.xz" ]; then  # a sanitizer build (pack.sh)
    [ -d "$D/bp" ] || tar xJf "$D/bp.tar.xz" -C "$D"
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      timeout 300 setarch "$(uname -m)" -R bash "$D/tests.sh"
  else
    timeout 150 bash "$D/tests.sh"
  fi
}
[ $# -gt 0 ] || set -- cpu nop file_io pool threads tests
for s in "$@"; do
  case "$s" in
    cpu|nop|file_io|pool|threads|tests) "$s" > "$O/$s.txt" 2>&1 ;;
    *) echo "unknown section: $s (cpu nop file_io pool threads tests)" >&2; exit 2 ;;
  esac
  [ "$s" = tests ] && head -3 "$O/tests.txt"
  el "$s"
done
