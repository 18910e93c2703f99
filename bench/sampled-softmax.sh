#!/bin/bash
# Full vs sampled softmax on a large vocabulary: seconds per training epoch and validation
# NDCG@10, side by side in one run, on a generated log (no large public log with web events is
# in ../shared/data).
#
# usage: bench/sampled-softmax.sh [--vocab V] [--users U] [--events E] [--epochs N] [--draws K] [--threads T]
#   defaults: 100000 actions, 2000 users × 50 events, 2 epochs, 1024 drawn classes, 2 threads
# The log: each user starts at a Zipf-distributed action (exponent 1); with probability 0.6 the
# next action follows a fixed successor rule, else it is a fresh Zipf draw, so there is
# something to learn and the vocabulary's long tail is real.
set -euo pipefail
cd "$(dirname "$0")/.."

vocab=100000 users=2000 events=50 epochs=2 draws=1024 threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --vocab) vocab=$2; shift ;;
    --users) users=$2; shift ;;
    --events) events=$2; shift ;;
    --epochs) epochs=$2; shift ;;
    --draws) draws=$2; shift ;;
    --threads) threads=$2; shift ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "sampled-softmax.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/build.sh native >/dev/null
hunch=build/native/hunch
work=build/bench/sampled-softmax
mkdir -p "$work"
log="$work/events-v$vocab.csv"
awk -v V="$vocab" -v U="$users" -v E="$events" 'BEGIN {
  srand(7); print "user,action"
  # Zipf(1) over 1..V by inverting the continuous CDF log(x)/log(V+1)
  for (u = 0; u < U; u++) {
    a = int(exp(rand() * log(V + 1)))
    for (e = 0; e < E; e++) {
      print "u" u ",a" a
      if (rand() < 0.6) a = (a * 7 + 13) % V + 1; else a = int(exp(rand() * log(V + 1)))
    }
  }
}' > "$log"

flags="--format csv --session-gap 0 --min-count 1 --min-users 1 --max-vocab $((vocab + 1)) --arch transformer
       --epochs $epochs --patience 0 --threads $threads --float"
printf '| softmax | vocabulary | s per epoch | valid NDCG@10 | valid HR@10 |\n|---|---|---|---|---|\n'
for mode in full sampled; do
  extra=$([ "$mode" = sampled ] && echo "--sampled-softmax $draws" || echo "")
  # shellcheck disable=SC2086
  $hunch train "$log" -o "$work/$mode.hunch" $flags $extra > "$work/$mode.log" 2>&1 ||
    { tail -5 "$work/$mode.log"; exit 1; }
  v=$(grep -m1 "action vocabulary" "$work/$mode.log" | awk '{print $NF}')
  best=$(grep "^best epoch" "$work/$mode.log")
  # "best epoch 3: valid NDCG@10 0.1234 HR@10 0.2345; 12.3 s per epoch"
  ndcg=$(echo "$best" | sed -E 's/.*NDCG@10 ([0-9.]+).*/\1/')
  hr=$(echo "$best" | sed -E 's/.*HR@10 ([0-9.]+);.*/\1/')
  sec=$(echo "$best" | sed -E 's/.*; ([0-9.]+) s per epoch.*/\1/')
  label=$([ "$mode" = sampled ] && echo "sampled ($draws drawn classes)" || echo "full")
  printf '| %s | %s | %s | %s | %s |\n' "$label" "$v" "$sec" "$ndcg" "$hr"
done
