#!/usr/bin/env bash
# .device/run.sh (copied there by bench/device/pack.sh): one pass over the
# benchmarks and the tests on a lent machine, about 2 minutes on 16 cores.
# Results go to $OUT in five files (the device tool returns only a few):
# cpu.txt (machine, switch, task cycle, NOP), file_io.txt, pool.txt,
# threads.txt (cross-thread attach, echo server), tests.txt.
D=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH=$D/lib
O=${OUT:-/tmp/prio-device}; mkdir -p "$O"
B=$D/bin
C=$(( $(nproc) > 4 ? 5 : 1 ))  # single-threaded benchmarks pinned to one CPU
G="--benchmark_color=false"
R="$G --benchmark_repetitions=7 --benchmark_enable_random_interleaving=true --benchmark_min_time=0.2"
T0=$(date +%s)
el() { echo "[+$(( $(date +%s) - T0 ))s] $*"; }
{
  uname -a; nproc; lscpu | sed -n 1,25p; free -g; df -T "$D"; uptime
  for r in 1 2; do timeout 60 taskset -c $C $B/switch_bench $G --benchmark_min_time=0.5; done
  timeout 40 taskset -c $C $B/task_cycle_bench $G --benchmark_min_time=0.3
  timeout 90 taskset -c $C $B/nop_roundtrip_bench $R
} > "$O/cpu.txt" 2>&1
el cpu
mkdir -p "$D/data"
{
  PRIO_BENCH_DIR=$D/data timeout 100 taskset -c $C $B/random_read_bench $R --benchmark_filter='direct:0'
  PRIO_BENCH_DIR=$D/data timeout 60 taskset -c $C $B/random_read_bench $G --benchmark_repetitions=3 \
    --benchmark_enable_random_interleaving=true --benchmark_min_time=0.3 --benchmark_filter='direct:1'
} > "$O/file_io.txt" 2>&1
rm -rf "$D/data"
el file_io
timeout 120 $B/pool_bench $G --benchmark_repetitions=3 --benchmark_min_time=0.2 > "$O/pool.txt" 2>&1
el pool
{
  timeout 40 $B/attach_bench $G --benchmark_min_time=0.3
  timeout 60 $B/echo_bench $G
} > "$O/threads.txt" 2>&1
el threads
timeout 150 bash "$D/tests.sh" > "$O/tests.txt" 2>&1
head -3 "$O/tests.txt"
el tests
