// Where the adapters find the model files of the configuration being measured.
//
// The shared harness (../shared/bench/peers/lib) resolves its models/ and spec.json beside its own
// lib/ folder. bench/run.mjs therefore runs it from a "stage": a build folder whose lib/ is a
// symlink to the shared lib/ (node --preserve-symlinks keeps the stage path), with our exported
// models and a spec.json of our shapes — the shared scripts run unmodified, on our models.
// Adapters read the stage from HUNCH_BENCH_STAGE, else from the harness script's path.
import fs from 'node:fs';
import path from 'node:path';

export const STAGE = path.resolve(process.env.HUNCH_BENCH_STAGE ?? path.join(path.dirname(process.argv[1]), '..'));
export const MODELS = path.join(STAGE, 'models');
export const SPEC = JSON.parse(fs.readFileSync(path.join(STAGE, 'spec.json'), 'utf8'));

// The inputs every runtime derives from an action id, so that all of them see the same events:
// type id = action % T; one constant timestamp, so the gap bucket is 0 for the first event of a
// sequence and 1 (gap 0 s < the first edge, 1 s) after it.
export const typeOf = (action) => action % SPEC.T;
export const TIME_MS = 1.7e12;
export const gapAt = (indexInSequence) => (indexInSequence === 0 ? 0 : 1);

export const modelWindow = (model) => (model === 'lstm' ? SPEC.W : Number(model.replace('attn', '')));
