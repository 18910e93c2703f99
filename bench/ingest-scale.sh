#!/bin/bash
# Ingestion at scale: events/s and peak RSS of reading a gzip CSV log (`hunch train --dry-run`:
# read, clean, sort, sessionise, vocabulary, then stop), as the log grows, with and without
# --keep-last, beside the floor of the same bytes (`zcat | wc -l`: decompression alone).
#
# The log is the synthetic shop's users (`hunch synth`, seed 1, --users U) over M months, one
# file per month (the same users each month, so the histories lengthen while the users stay):
# what a site's monthly export parts look like, read as one log through a glob.
#
# With --np N it measures the sharded read instead (`mpirun -np N hunch train --dry-run`: every
# process reads every record and keeps only its own users' events, IngestOptions::shard) beside
# one process, each process's peak RSS, into bench/results/ingest-sharded.md.
#
# usage: bench/ingest-scale.sh [--users U] [--months "1 4 16"] [--keep-last N] [--np N]
#   --users      users per month (default 40000: about 1 M events a month)
#   --months     the log lengths to measure, in months (default "1 4 16"; "1 4 16 96" adds the
#                10^8-event row: 742 MB of gzip to generate, and 6.8 GB of RSS holding every event)
#   --keep-last  the bound for the second row of each length (default 100)
#   --np         processes of the sharded read (needs mpirun: scripts/setup.sh installs OpenMPI)
# Data goes to build/bench-data/ingest/ (generated once); the table is printed and written to
# bench/results/ingest-scale.md. Needs GNU time (/usr/bin/time, Debian's `time` package).
set -euo pipefail
cd "$(dirname "$0")/.."

users=40000 months="1 4 16" keep=100 np=0
while [ $# -gt 0 ]; do
  case "$1" in
    --users) users=$2; shift ;;
    --months) months=$2; shift ;;
    --keep-last) keep=$2; shift ;;
    --np) np=$2; shift ;;
    -h|--help) sed -n 2,21p "$0"; exit 0 ;;
    *) echo "ingest-scale.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
hunch=${HUNCH:-build/native/hunch}
[ -x "$hunch" ] || { echo "ingest-scale.sh: $hunch not built (bash scripts/build.sh native)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "ingest-scale.sh: needs GNU time: apt-get install -y time" >&2; exit 1; }
data=build/bench-data/ingest
mkdir -p "$data"
max=0
for m in $months; do [ "$m" -gt "$max" ] && max=$m; done
for ((i = 1; i <= max; i++)); do
  f=$(printf '%s/shop-u%s-m%02d.csv.gz' "$data" "$users" "$i")
  [ -s "$f" ] && continue
  # 28-day windows, back to back from 2024-01-01.
  start=$(date -u -d "2024-01-01 + $(( (i - 1) * 28 )) days" +%Y-%m-%d)
  "$hunch" synth --users "$users" --seed 1 --start "$start" -o "${f%.csv.gz}.tmp.csv.gz" --quiet
  mv "${f%.csv.gz}.tmp.csv.gz" "$f"
done

tmp=$(mktemp)
if [ "$np" -gt 1 ]; then
  # The sharded read: one process, then np processes (one thread each), each under GNU time.
  out=bench/results/ingest-sharded.md
  echo "| months | events | 1 process: seconds | peak RSS MB | -np $np: seconds | each process's peak RSS MB | largest / one process |" > "$tmp"
  echo "|---|---|---|---|---|---|---|" >> "$tmp"
  for m in $months; do
    files=()
    for ((i = 1; i <= m; i++)); do files+=("$(printf '%s/shop-u%s-m%02d.csv.gz' "$data" "$users" "$i")"); done
    /usr/bin/time -f "%e %M" -o "$tmp.t" "$hunch" train "${files[@]}" --dry-run --progress never --threads 1 > "$tmp.r" 2>/dev/null
    read -r s1 r1 < "$tmp.t"
    rows=$(awk '/rows read/ { print $3 }' "$tmp.r")
    start=$(date +%s.%N)
    mpirun --allow-run-as-root --oversubscribe -np "$np" sh -c 'exec /usr/bin/time -f "%M" -o "$0.rss.$OMPI_COMM_WORLD_RANK" "$@"' \
      "$tmp" "$hunch" train "${files[@]}" --dry-run --progress never --threads 1 > "$tmp.r" 2>/dev/null
    sn=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    rss=$(for ((r = 0; r < np; r++)); do awk '{ printf "%.0f ", $1 / 1024 }' "$tmp.rss.$r"; done)
    grep -q "sharded across $np processes" "$tmp.r" || { echo "ingest-scale.sh: the -np $np run did not shard" >&2; exit 1; }
    awk -v m="$m" -v ev="$rows" -v s1="$s1" -v r1="$r1" -v sn="$sn" -v rss="$rss" 'BEGIN {
      n = split(rss, r, " "); big = 0; list = ""
      for (i = 1; i <= n; i++) { if (r[i] > big) big = r[i]; list = list (i > 1 ? ", " : "") r[i] }
      printf "| %d | %.2f M | %.1f | %.0f | %s | %s | %.2f |\n", m, ev / 1e6, s1, r1 / 1024, sn, list, big / (r1 / 1024) }' >> "$tmp"
    rm -f "$tmp".rss.*
  done
  {
    echo "# Sharded ingestion"
    echo
    echo "\`bash bench/ingest-scale.sh --users $users --months \"$months\" --np $np\` on $(date -u +%Y-%m-%d), $(nproc) cores"
    echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')): \`hunch train --dry-run --threads 1\` in one process, and under"
    echo "\`mpirun -np $np\`, where every process reads every record and keeps only its own users' events (the"
    echo "cleaning report is one process's). Peak RSS from GNU time, per process. Load average at the start:"
    echo "$(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    cat "$tmp"
  } > "$out"
  cat "$out"
  rm -f "$tmp" "$tmp.t" "$tmp.r"
  exit 0
fi

out=bench/results/ingest-scale.md
{
  echo "| months | events | MB gzip | zcat \| wc: events/s (per CPU s) | hunch: events/s (per CPU s) | ratio to zcat (CPU) | peak RSS MB | held bytes/event | --keep-last $keep: events/s (per CPU s) | peak RSS MB |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$tmp"
for m in $months; do
  files=()
  for ((i = 1; i <= m; i++)); do files+=("$(printf '%s/shop-u%s-m%02d.csv.gz' "$data" "$users" "$i")"); done
  mb=$(du -cb "${files[@]}" | tail -1 | awk '{ printf "%.0f", $1 / 1e6 }')
  # The floor: decompression and line splitting only.
  /usr/bin/time -f "%e %U %S" -o "$tmp.t" bash -c 'zcat "$@" | wc -l > '"$tmp.n" _ "${files[@]}"
  read -r zsec zu zs < "$tmp.t"; lines=$(cat "$tmp.n")
  zcpu=$(awk -v a="$zu" -v b="$zs" 'BEGIN { print a + b }')
  run() {  # $@: extra flags → "seconds cpu_seconds rssKB rows bytes_per_event"
    /usr/bin/time -f "%e %U %S %M" -o "$tmp.t" "$hunch" train "${files[@]}" --dry-run --progress never "$@" \
      > "$tmp.r" 2>/dev/null || true
    read -r sec u s rss < "$tmp.t"
    rows=$(awk '/rows read/ { print $3 }' "$tmp.r")
    bpe=$(awk '/bytes per kept event/ { print $NF }' "$tmp.r")
    echo "$sec $(awk -v a="$u" -v b="$s" 'BEGIN { print a + b }') $rss $rows $bpe"
  }
  read -r s1 c1 r1 rows b1 <<< "$(run)"
  read -r s2 c2 r2 _ _ <<< "$(run --keep-last "$keep")"
  awk -v m="$m" -v ev="$rows" -v mb="$mb" -v zs="$zsec" -v zc="$zcpu" -v zl="$lines" -v s1="$s1" -v c1="$c1" \
      -v r1="$r1" -v b1="$b1" -v s2="$s2" -v c2="$c2" -v r2="$r2" 'BEGIN {
    printf "| %d | %.2f M | %d | %.2f M (%.2f M) | %.2f M (%.2f M) | %.2f | %.0f | %s | %.2f M (%.2f M) | %.0f |\n",
      m, ev / 1e6, mb, zl / zs / 1e6, zl / zc / 1e6, ev / s1 / 1e6, ev / c1 / 1e6, (ev / c1) / (zl / zc), r1 / 1024, b1,
      ev / s2 / 1e6, ev / c2 / 1e6, r2 / 1024 }' >> "$tmp"
done
{
  echo "# Ingestion at scale"
  echo
  echo "\`bash bench/ingest-scale.sh --users $users --months \"$months\" --keep-last $keep\` on $(date -u +%Y-%m-%d), $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); one process, one thread: \`hunch train --dry-run\`"
  echo "(read, clean, sort, sessionise, vocabulary) on the synthetic shop's $users users over N months, one gzip"
  echo "CSV per month read as one log. events/s counts rows read over the wall time, and (in brackets) over the"
  echo "CPU time used (user + system: what a busy machine does not change); zcat | wc is the floor."
  echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  cat "$tmp"
} > "$out"
cat "$out"
rm -f "$tmp" "$tmp.t" "$tmp.n" "$tmp.r"
