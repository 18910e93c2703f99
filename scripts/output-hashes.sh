#!/usr/bin/env bash
# Hashes of what a structure-only change must not move (issue 12): the fixture models and their
# goldens, a seeded one-thread shop model of each architecture (plus a tied f32 model and its
# int8 quantisation), their `hunch eval --json`, from the binaries in BUILD_DIR (default
# build/native). Run it on the code before and after a change and diff the two outputs.
# Model files record the training time (hunch.train.seconds_per_epoch), so their hashes are
# taken with that value and the file CRC zeroed; everything else is hashed as written.
# Usage: scripts/output-hashes.sh [BUILD_DIR] [OUT_DIR]      (about 20 s)
set -euo pipefail
b=$(realpath "${1:-build/native}")
o=${2:-$(mktemp -d)}
mkdir -p "$o/fix"
"$b/hunch_make_fixtures" "$o/fix" >/dev/null
"$b/hunch" synth --users 2000 --seed 1 -o "$o/shop.csv.gz" >/dev/null 2>&1
train() { "$b/hunch" train "$o/shop.csv.gz" --seed 7 --threads 1 "$@" >/dev/null 2>&1; }
train -o "$o/tf.hunch" --epochs 3
train -o "$o/lstm.hunch" --arch lstm-attn --epochs 2 --lookahead 2 --event-drop 0.1
train -o "$o/tf-f32.hunch" --float --epochs 1 --tie
"$b/hunch" quantize "$o/tf-f32.hunch" -o "$o/tf-q.hunch" >/dev/null 2>&1
for m in tf lstm tf-q; do "$b/hunch" eval "$o/$m.hunch" "$o/shop.csv.gz" --json > "$o/$m.eval.json" 2>/dev/null; done
cd "$o"
sha256sum fix/* shop.csv.gz ./*.eval.json
node - ./*.hunch <<'JS'
const fs = require('fs'), crypto = require('crypto');
for (const p of process.argv.slice(2)) {
  const b = fs.readFileSync(p);
  const key = Buffer.from('hunch.train.seconds_per_epoch');
  const k = b.indexOf(key);
  if (k >= 0) b.fill(0, k + key.length + 4, k + key.length + 8);  // the f32 after its u32 type
  b.fill(0, b.length - 4);                                         // the CRC
  console.log(`${crypto.createHash('sha256').update(b).digest('hex')}  ${p} (training time and CRC zeroed)`);
}
JS
