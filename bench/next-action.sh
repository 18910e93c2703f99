#!/bin/bash
# Next action on every log in ../shared/data that hunch reads, beside the simple baselines: the
# sweep behind the defaults of `hunch train` (issue 14). One variant (a set of train flags) per
# call; each call adds its rows to bench/results/next-action/SWEEP-<split>.md, so the table holds
# every variant tried, the losers too.
#
#   logs with sessions (session protocol, bench/sessions.sh): the shop, Taobao, REES46, YOOCHOOSE,
#   the access log (sessions by address and gap) and OTTO (a 20-session format sample: its
#   validation and test are 2 sessions each, ~90 points: read it as a smoke test, not a figure)
#   per-user item lists (leave-one-out): Amazon Toys and Sports (../shared/data/amazon-s3rec)
# ML-1M has its own script (bench/ml1m-quality.sh: 22-35 minutes per architecture).
#
# usage: bench/next-action.sh --variant NAME [--split valid|test] [--budget S] [--only LOG] [-- train flags]
#   --variant  the row label and results folder (bench/results/next-action/NAME/); "defaults"
#              for no extra flags
#   --split    valid (choose settings on these) or test (look once per recipe); default valid
#   --budget   training seconds per log (default 240; patience usually stops sooner)
#   --only     one log: shop, taobao, rees46, yoochoose, access-log, otto, amazon-toys, amazon-sports
#   --attrs    also read each log's attribute columns (bench/sessions.sh --attrs; Amazon has none)
#   --table    only print the table again (every SWEEP row)
#   --rows     no training: add the rows of the variant's existing results for --split (the test
#              rows of a recipe already trained, looked at once)
# Prints each log's NDCG@10 beside popularity, Markov and repeat, and its ratio to the best of
# them (the issue's target: >= 1.10 on the session logs, >= 1.00 everywhere) with the ratio's 95%
# interval where hunch eval gives one (a paired bootstrap over users, [low, high]).
set -euo pipefail
cd "$(dirname "$0")/.."

variant="" split=valid budget=240 only="" table_only=0 rows_only=0 attrs=() extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant=$2; shift ;;
    --split) split=$2; shift ;;
    --budget) budget=$2; shift ;;
    --only) only=$2; shift ;;
    --table) table_only=1 ;;
    --attrs) attrs=(--attrs) ;;
    --rows) rows_only=1 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n 2,24p "$0"; exit 0 ;;
    *) echo "next-action.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$split" in valid|test) ;; *) echo "next-action.sh: --split valid or test" >&2; exit 2 ;; esac
results=bench/results/next-action
sweep=$results/SWEEP-$split.md
if [ "$table_only" = 1 ]; then cat "$sweep"; exit 0; fi
[ -n "$variant" ] || { echo "next-action.sh: --variant NAME is required (see --help)" >&2; exit 2; }

hunch=${HUNCH:-build/native/hunch}
[ -x "$hunch" ] || bash scripts/build.sh native
export HUNCH=$hunch
out=$results/$variant
tmp=build/bench-next-action
mkdir -p "$out" "$tmp"

# The session logs, through the session benchmark (same files, same flags).
[ "$rows_only" = 1 ] && only=none
for name in shop taobao rees46 yoochoose access-log otto; do
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  bash bench/sessions.sh --budget "$budget" --split "$split" --only "$name" --tag "next-action-$variant" "${attrs[@]}" \
    -- "${extra[@]}" > /dev/null
  cp "bench/results/sessions/next-action-$variant/$name.json" "bench/results/sessions/next-action-$variant/$name.train.log" "$out/"
done

# The per-user item lists: `user item item …` per line (file order is time order), leave-one-out.
# hunch reads them as they are (`--format lists`, found by content) since session 12; the rows
# before it read `user item` lines made with awk, the same Dataset (tests/native/test-formats.cpp).
for name in amazon-toys amazon-sports; do
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  src=../shared/data/amazon-s3rec/$([ "$name" = amazon-toys ] && echo Toys_and_Games || echo Sports_and_Outdoors).txt
  [ -f "$src" ] || { echo "next-action.sh: $src not found; skipping $name" >&2; continue; }
  file=$src
  echo "== $name: train (budget ${budget}s) ==" >&2
  # --min-users 1: the vocabulary of the results before issue 16 (k-anonymous names would drop the
  # items of fewer than 5 users and move the figures; docs/privacy.md).
  "$hunch" train "$file" -o "$out/$name.hunch" --time-budget "$budget" --min-users 1 "${extra[@]}" > "$out/$name.train.log" 2>&1 ||
    { tail -5 "$out/$name.train.log" >&2; exit 1; }
  "$hunch" eval "$out/$name.hunch" "$file" --json > "$out/$name.json" 2>/dev/null
done

[ "$rows_only" = 1 ] && extra=($(sed -n 's/^flags: //p' "$out/FLAGS" 2>/dev/null))
[ "$rows_only" = 1 ] || echo "flags: ${attrs[*]:-}${attrs[*]:+ }${extra[*]:-}" > "$out/FLAGS"
[ "$rows_only" = 1 ] || extra=(${attrs[@]+"${attrs[@]}"} ${extra[@]+"${extra[@]}"})
node - "$out" "$split" "$variant" "${extra[*]:-}" "$sweep" <<'EOF'
const fs = require('fs');
const [dir, split, variant, flags, sweep] = process.argv.slice(2);
const rows = [];
for (const name of ['shop', 'taobao', 'rees46', 'yoochoose', 'access-log', 'otto', 'amazon-toys', 'amazon-sports']) {
  const p = `${dir}/${name}.json`;
  if (!fs.existsSync(p)) continue;
  const d = JSON.parse(fs.readFileSync(p, 'utf8'));
  let model, base = {};
  if (d.valid && d.valid.methods) {  // the session protocol's JSON
    const m = d[split].methods;
    model = m.model['NDCG@10'];
    for (const k of ['popularity', 'markov', 'repeat']) if (m[k]) base[k] = m[k]['NDCG@10'];
  } else {  // leave-one-out: test metrics, and valid_ ones
    const key = split === 'valid' ? 'valid_NDCG@10' : 'NDCG@10';
    model = d.model[key];
    for (const k of ['popularity', 'markov', 'repeat']) if (d[k]) base[k] = d[k][key];
  }
  const best = Object.entries(base).sort((a, b) => b[1] - a[1])[0];
  const f = (v) => (v === undefined ? '–' : v.toFixed(4));
  // The ratio's 95% interval where hunch eval gave one (a paired bootstrap over users; the
  // leave-one-out JSON has it for the test split), against the same baseline.
  const iv = d.valid && d.valid.methods ? d[split].model_vs_best : split === 'test' ? d.model_vs_best : undefined;
  const end = (v) => (v === null ? 'unbounded' : v.toFixed(2));
  const interval = iv && iv.ratio_ci95 && iv.baseline === best[0] ? ` [${end(iv.ratio_ci95[0])}, ${end(iv.ratio_ci95[1])}]` : '';
  rows.push(`| ${variant} | ${name} | ${f(model)} | ${f(base.popularity)} | ${f(base.markov)} | ${f(base.repeat)} | ` +
            `${(model / best[1]).toFixed(2)}${interval} (${best[0]}) | ${flags || '(none)'} |`);
}
const head = `Next action, NDCG@10 on the ${split} split (bench/next-action.sh; int8 models as shipped)\n\n` +
  '| variant | log | hunch | popularity | markov | repeat | hunch / best baseline | extra train flags |\n' +
  '|---|---|---|---|---|---|---|---|\n';
if (!fs.existsSync(sweep)) fs.writeFileSync(sweep, head);
// A variant's row for a log replaces its earlier one (a run with --only re-reads every log in the
// variant's folder): one row per variant and log.
const fresh = new Set(rows.map((r) => r.split(' | ').slice(0, 2).join(' | ')));
const kept = fs.readFileSync(sweep, 'utf8').split('\n')
  .filter((l) => !(l.startsWith('| ') && fresh.has(l.split(' | ').slice(0, 2).join(' | ')))).join('\n');
fs.writeFileSync(sweep, kept.replace(/\n*$/, '\n') + rows.join('\n') + '\n');
console.log(head + rows.join('\n'));
EOF
