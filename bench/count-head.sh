#!/bin/bash
# The count head's own validation NDCG@10 on every log bench/next-action.sh reads, in minutes: each
# log trains with a 1-second budget and the line `count head (…): training columns' NDCG@10 A -> B;
# valid NDCG@10 V [s]` (printed before the network's epochs) is kept. For comparing count-head
# variants (NOTES.md, "The count head's …" sections); the shipped figures are bench/next-action.sh's.
#
# usage: bench/count-head.sh [-- extra train flags]      (HUNCH=path picks the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = -- ] && shift
hunch=${HUNCH:-build/native/hunch}
[ -x "$hunch" ] || bash scripts/build.sh native
data=../shared/data
# The logs as bench/next-action.sh and bench/sessions.sh write them (run one of those once).
for f in build/bench-next-action/amazon-toys.txt build/bench-sessions/taobao.csv build/bench-sessions/shop.csv.gz; do
  [ -f "$f" ] || { echo "count-head.sh: $f missing: run bench/next-action.sh once (it writes the logs)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {
  local name=$1
  shift
  local line
  line=$("$hunch" train "$@" -o "$tmp/$name.hunch" --time-budget 1 --min-users 1 "${extra[@]}" 2>&1 |
         grep "^count head (" | sed "s/.*training columns' //") || line="(no count head)"
  printf '%-10s %s\n' "$name" "$line"
}
extra=("$@")
run toys build/bench-next-action/amazon-toys.txt
run sports build/bench-next-action/amazon-sports.txt
run shop build/bench-sessions/shop.csv.gz --protocol sessions
run taobao build/bench-sessions/taobao.csv --protocol sessions
run rees46 "$data/rees46-sample/2019-Oct_head17k.csv" --time-column event_time --action-column product_id --protocol sessions
run yoochoose "$data/yoochoose-sample/yoochoose-clicks-100k_train_full.txt" --protocol sessions
run access-log "$data/access-log/apache.log" --format access-log --protocol sessions
run otto "$data/otto-sample/train_20sessions.jsonl" --protocol sessions
