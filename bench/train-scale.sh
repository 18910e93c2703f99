#!/bin/bash
# Training throughput: events/s per epoch at 1 and 2 processes (mpirun, one thread each) and the
# scaling efficiency, and at vocabularies of 1k, 20k and 100k actions with the full and the
# sampled softmax. Each figure is the median epoch of a short run (epochs 2..E; the first pays
# for warm-up), read from `hunch train`'s epoch lines.
#
# usage: bench/train-scale.sh [--users U] [--epochs E] [--repeats R] [--skip-vocab] [--skip-whole] [--dp EPS] [--shard]
#   --users   synthetic shop users for the process rows (default 20000: about 500k events)
#   --epochs  epochs per run (default 4)
#   --repeats rounds of the three process runs, interleaved (default 1); each speed-up is the
#             median over rounds of the ratio within a round (runs close in time saw the same load)
#   --skip-vocab  only the process rows (the vocabulary rows of the last run are kept)
#   --skip-whole  without the whole runs' wall times (below)
#   --dp EPS  the process rows with differentially private training (--dp-epsilon EPS: one
#             clipped gradient per sampled user), written to bench/results/train-scale-dp.md;
#             no vocabulary rows
#   --shard   instead: memory and time of whole runs (hunch train's defaults, one thread per
#             process) in one process, under mpirun -np 2, and under mpirun -np 2 --shard (each
#             process holds its own users only), with each process's peak RSS (GNU time) and the
#             int8 model's validation NDCG@10 through the core; written to
#             bench/results/train-sharded.md
# Whole runs: the wall time of the same three runs with hunch train's defaults for the rest (the
# count head's fit, E epochs and their validations, the export's validation through the core):
# what a user waits for, where the once-per-run work counts beside the epochs.
# The vocabulary rows use a generated log: 2,000 users × 30 events over V actions drawn Zipf(1),
# each user drifting along the catalogue (so there is something to learn).
# Prints the table and writes bench/results/train-scale.md. Timings on a busy machine are
# noise: the load average is printed with them.
set -euo pipefail
cd "$(dirname "$0")/.."

users=20000 epochs=4 vocab=1 repeats=1 dp="" whole=1 shard=0
while [ $# -gt 0 ]; do
  case "$1" in
    --users) users=$2; shift ;;
    --epochs) epochs=$2; shift ;;
    --repeats) repeats=$2; shift ;;
    --skip-vocab) vocab=0 ;;
    --skip-whole) whole=0 ;;
    --dp) dp=$2; vocab=0; shift ;;
    --shard) shard=1 ;;
    -h|--help) sed -n 2,29p "$0"; exit 0 ;;
    *) echo "train-scale.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
hunch=${HUNCH:-build/native/hunch}
[ -x "$hunch" ] || { echo "train-scale.sh: $hunch not built (bash scripts/build.sh native)" >&2; exit 1; }
data=build/bench-data/train
mkdir -p "$data"
out=bench/results/train-scale.md
[ -n "$dp" ] && out=bench/results/train-scale-dp.md
tmp=$(mktemp)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# Median events/s over epochs 2.. of a run's output.
rate() {
  grep -E '^epoch +[0-9]+ +loss' "$1" | sed -E 's/.*\(([0-9]+) ev\/s\).*/\1/' | tail -n +2 | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'
}
common=(--epochs "$epochs" --patience 0 --progress never --embed 64 --batch 128 -o "$data/scratch.hunch")

shop="$data/shop-$users.csv.gz"
[ -s "$shop" ] || "$hunch" synth --users "$users" --seed 1 -o "$shop" --quiet
# --item-weights train: the count head's fit (seconds to a minute per run, before epoch 1, every
# rank alike) is not what the epochs measure; the network trained is the same.
proc=(--item-weights train --threads)
[ -n "$dp" ] && proc=(--dp-epsilon "$dp" "${proc[@]}")
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'; }
help=$("$hunch" train --help 2>&1 || true)
has_mpi=0
command -v mpirun >/dev/null && [[ "$help" == *mpirun* ]] && ldd "$hunch" | grep -q libmpi && has_mpi=1
r1s="" r2s="" rts="" s2s="" sts=""
w1s="" w2s="" wts=""
# Wall seconds of a command (its output discarded; a failure stops the bench).
wall() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > "$tmp.w" 2>&1 || { cat "$tmp.w" >&2; echo "train-scale.sh: failed: $*" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}
wflags=(--threads)
[ -n "$dp" ] && wflags=(--dp-epsilon "$dp" "${wflags[@]}")
if [ "$shard" = 1 ]; then
  [ "$has_mpi" = 1 ] || { echo "train-scale.sh: --shard needs mpirun and an MPI build" >&2; exit 1; }
  [ -x /usr/bin/time ] || { echo "train-scale.sh: needs GNU time: apt-get install -y time" >&2; exit 1; }
  out=bench/results/train-sharded.md
  # One run: $1 = processes (1: no mpirun), the rest hunch train's extra flags. Prints
  # "wall epoch_rate ndcg rss_list" (RSS in MB, per process).
  sharded_run() {
    local np=$1; shift
    rm -f "$tmp".rss.*
    local t0 t1
    t0=$(date +%s.%N)
    if [ "$np" = 1 ]; then
      /usr/bin/time -f "%M" -o "$tmp.rss.0" "$hunch" train "$shop" "${common[@]}" --threads 1 "$@" > "$tmp.s" 2>&1
    else
      mpirun --allow-run-as-root --oversubscribe -np "$np" sh -c 'exec /usr/bin/time -f "%M" -o "$0.rss.$OMPI_COMM_WORLD_RANK" "$@"' \
        "$tmp" "$hunch" train "$shop" "${common[@]}" --threads 1 "$@" > "$tmp.s" 2>&1
    fi || { cat "$tmp.s" >&2; echo "train-scale.sh: failed: -np $np $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    local ndcg rss
    ndcg=$(sed -nE 's/.*int8 NDCG@10 ([0-9.]+).*/\1/p' "$tmp.s" | tail -1)
    rss=$(for f in "$tmp".rss.*; do awk '{ printf "%.0f ", $1 / 1024 }' "$f"; done)
    # The epochs that trained (a count head's validation-only epoch shows 0 ev/s).
    grep -v ' (0 ev/s)' "$tmp.s" > "$tmp.e" || true
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') $(rate "$tmp.e") $ndcg $rss"
  }
  {
    echo "| run | wall s | epoch events/s | int8 valid NDCG@10 (core) | peak RSS MB per process |"
    echo "|---|---|---|---|---|"
    for row in "1 process|1" "mpirun -np 2|2" "mpirun -np 2 --shard|2 --shard"; do
      read -r w r n rss <<< "$(sharded_run ${row#*|})"
      echo "| ${row%|*} | $w | $r | $n | $(echo $rss | sed 's/ /, /g') |"
    done
  } > "$tmp.table"
  {
    echo "# Training on a sharded log"
    echo
    echo "\`bash bench/train-scale.sh --shard --users $users --epochs $epochs\` on $(date -u +%Y-%m-%d), $(nproc) cores"
    echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')): whole runs of \`hunch train\` (its defaults; $epochs epochs,"
    echo "--embed 64 --batch 128, one thread per process) on the synthetic shop's $users users, in one process,"
    echo "under mpirun -np 2 (every process holds every event), and under mpirun -np 2 --shard (each process"
    echo "holds its own users' events). Load average at the start: $load0."
    echo
    cat "$tmp.table"
  } > "$out"
  cat "$out"
  rm -f "$tmp" "$tmp".*
  exit 0
fi
for ((round = 1; round <= repeats; round++)); do
  "$hunch" train "$shop" "${common[@]}" "${proc[@]}" 1 > "$tmp.1" 2>&1
  r1=$(rate "$tmp.1")
  r1s+="$r1 "
  if [ "$has_mpi" = 1 ]; then
    mpirun --allow-run-as-root --oversubscribe -np 2 "$hunch" train "$shop" "${common[@]}" "${proc[@]}" 1 > "$tmp.2" 2>&1
    "$hunch" train "$shop" "${common[@]}" "${proc[@]}" 2 > "$tmp.t2" 2>&1
    r2=$(rate "$tmp.2") rt=$(rate "$tmp.t2")
    r2s+="$r2 " rts+="$rt "
    s2s+="$(awk -v a="$r1" -v b="$r2" 'BEGIN { print b / a }') " sts+="$(awk -v a="$r1" -v b="$rt" 'BEGIN { print b / a }') "
    echo "round $round: 1 process $r1 ev/s, 2 processes $r2, 2 threads $rt (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    if [ "$whole" = 1 ]; then
      w1=$(wall "$hunch" train "$shop" "${common[@]}" "${wflags[@]}" 1)
      w2=$(wall mpirun --allow-run-as-root --oversubscribe -np 2 "$hunch" train "$shop" "${common[@]}" "${wflags[@]}" 1)
      wt=$(wall "$hunch" train "$shop" "${common[@]}" "${wflags[@]}" 2)
      w1s+="$w1 " w2s+="$w2 " wts+="$wt "
      echo "round $round, whole runs: 1 process $w1 s, 2 processes $w2 s, 2 threads $wt s" >&2
    fi
  fi
done
r1=$(echo $r1s | tr ' ' '\n' | median)
mpi=""
if [ "$has_mpi" = 1 ]; then
  r2=$(echo $r2s | tr ' ' '\n' | median) rt=$(echo $rts | tr ' ' '\n' | median)
  s2=$(echo $s2s | tr ' ' '\n' | median) st=$(echo $sts | tr ' ' '\n' | median)
  mpi=$(awk -v a="$r1" -v b="$r2" -v t="$rt" -v s2="$s2" -v st="$st" 'BEGIN {
    printf "| 1 process, 1 thread | %d | 1.00 | |\n| 2 processes (mpirun), 1 thread each | %d | %.2f | %.2f |\n| 1 process, 2 threads | %d | %.2f | %.2f |\n",
      a, b, s2, s2 / 2, t, st, st / 2 }')
  [ "$repeats" -gt 1 ] && mpi+=$'\n'$'\n'"Rounds (events/s, 1 process / 2 processes / 2 threads): $(paste -d/ <(echo $r1s | tr ' ' '\n') <(echo $r2s | tr ' ' '\n') <(echo $rts | tr ' ' '\n') | paste -sd' ')"
fi
old_vocab=""
[ "$vocab" = 0 ] && [ -f "$out" ] && old_vocab=$(sed -n '/^## Vocabulary/,/^Load average at the end/{/^Load average at the end/!p}' "$out" | { grep -v "^(the vocabulary rows are an earlier run's" || true; })
{
  echo "# Training throughput"
  echo
  echo "\`bash bench/train-scale.sh --users $users --epochs $epochs --repeats $repeats${dp:+ --dp $dp}\` on $(date -u +%Y-%m-%d), $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); load average $load0 at the start."
  echo "Transformer, --embed 64, batch 128; events/s = the median epoch after the first (the median"
  echo "over rounds; a speed-up is the median over rounds of the ratio within a round)."
  echo
  echo "## Processes (synthetic shop, $users users${dp:+; differentially private: --dp-epsilon $dp})"
  echo
  echo "| run | events/s | speed-up | efficiency |"
  echo "|---|---|---|---|"
  if [ -n "$mpi" ]; then echo "$mpi"; else echo "| 1 process, 1 thread | $r1 | 1.00 | |"; echo; echo "(no mpirun or no MPI build: the 2-process row is missing)"; fi
  if [ -n "$mpi" ] && [ "$whole" = 1 ]; then
    echo
    echo '## Whole runs (the same, with the count head'"'"'s fit: wall seconds of `hunch train`)'
    echo
    echo "Reading, the count head's fit, $epochs epochs and their validations, the export's validation"
    echo "through the core (the median over rounds; a speed-up is the median of the ratios within a round)."
    echo
    echo "| run | wall seconds | speed-up |"
    echo "|---|---|---|"
    paste <(echo $w1s | tr ' ' '\n') <(echo $w2s | tr ' ' '\n') <(echo $wts | tr ' ' '\n') |
      awk '{ a[NR] = $1; b[NR] = $2; c[NR] = $3; sb[NR] = $1 / $2; sc[NR] = $1 / $3 }
           function med(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
                                           return x[int((n + 1) / 2)] }
           END { n = NR; printf "| 1 process, 1 thread | %.1f | 1.00 |\n", med(a, n)
                 printf "| 2 processes (mpirun), 1 thread each | %.1f | %.2f |\n", med(b, n), med(sb, n)
                 printf "| 1 process, 2 threads | %.1f | %.2f |\n", med(c, n), med(sc, n) }'
    if [ "$repeats" -gt 1 ]; then
      echo
      echo "Rounds (wall seconds, 1 process / 2 processes / 2 threads): $(paste -d/ <(echo $w1s | tr ' ' '\n') <(echo $w2s | tr ' ' '\n') <(echo $wts | tr ' ' '\n') | paste -sd' ')"
    fi
  fi
} > "$out"

if [ "$vocab" = 1 ]; then
  {
    echo
    echo "## Vocabulary (generated log: 2,000 users × 30 events, Zipf over V actions; 2 epochs, the second timed)"
    echo
    echo "| V (actions in the vocabulary) | full softmax: events/s | sampled softmax (--sampled-softmax 256): events/s | ratio |"
    echo "|---|---|---|---|"
  } >> "$out"
  for v in 1000 20000 100000; do
    log="$data/zipf-$v.csv.gz"
    if [ ! -s "$log" ]; then
      awk -v V="$v" 'BEGIN {
        srand(7); print "user,time,item"
        # Zipf(1) by inverse CDF over harmonic weights, shifted per user and drifting in time.
        H = 0; for (k = 1; k <= V; k++) H += 1 / k
        for (u = 0; u < 2000; u++) {
          base = int(rand() * V)
          for (e = 0; e < 30; e++) {
            x = rand() * H; k = 1; s = 1
            while (s < x && k < V) { k = k * 2; s = log(k) + 0.5772 }
            item = (base + k + e) % V
            print "u" u "," 1700000000 + u * 100000 + e * 60 ",i" item
          }
        }
      }' | gzip -1 > "$log"
    fi
    vflags=(--threads 1 --min-count 1 --min-users 1 --max-vocab 200000 --epochs 2)
    "$hunch" train "$log" "${common[@]}" "${vflags[@]}" > "$tmp.f" 2>&1 || true
    "$hunch" train "$log" "${common[@]}" "${vflags[@]}" --sampled-softmax 256 > "$tmp.s" 2>&1 || true
    f=$(rate "$tmp.f" || true); s=$(rate "$tmp.s" || true)
    kept=$(awk '/action vocabulary \(with <unk>\)/ { print $NF }' "$tmp.f")
    awk -v v="$v" -v k="${kept:-0}" -v f="${f:-0}" -v s="${s:-0}" 'BEGIN {
      printf "| %d (%d kept) | %d | %d | %.1f |\n", v, k, f, s, (f > 0 ? s / f : 0) }' >> "$out"
  done
fi
if [ "$vocab" = 0 ] && [ -n "$old_vocab" ]; then
  { echo; echo "$old_vocab" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; echo; echo "(the vocabulary rows are an earlier run's: this one had --skip-vocab)"; } >> "$out"
fi
echo >> "$out"
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)." >> "$out"
cat "$out"
rm -f "$tmp" "$tmp".*
