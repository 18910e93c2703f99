// Peer: onnxruntime-web, wasm execution provider, 1 thread, SIMD — the graphs export_peers.py
// wrote from the same float weights. Set up exactly as the shared adapters/ort-wasm.mjs.
//   lstm:  one step; the caller threads (h, c) and the attention window's key/value cache
//          through every call (ORT keeps no per-user state).
//   attnW: the full forward over the last W events on every call (no incremental cache).
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { MODELS, SPEC, gapAt, modelWindow, typeOf } from './stage.mjs';

export const name = 'onnxruntime-web (wasm EP)';

export async function load(model) {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(fs.readFileSync(path.join(MODELS, `${model}.onnx`)), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const toNum = (t) => Array.from(t.data, Number);
  const W = modelWindow(model);
  if (model === 'lstm') {
    const { H, A } = SPEC;
    let st, n;
    const reset = () => {
      n = 0;
      st = {
        h: new ort.Tensor('float32', new Float32Array(H), [1, H]), c: new ort.Tensor('float32', new Float32Array(H), [1, H]),
        past_k: new ort.Tensor('float32', new Float32Array((W - 1) * A), [W - 1, A]),
        past_v: new ort.Tensor('float32', new Float32Array((W - 1) * H), [W - 1, H]),
      };
    };
    reset();
    const i64 = (v) => new ort.Tensor('int64', BigInt64Array.of(BigInt(v)), [1]);
    return {
      reset,
      async step(item) {
        const r = await session.run({
          action: i64(item), type: i64(typeOf(item)), gap: i64(gapAt(n)), ...st,
          n_past: new ort.Tensor('int64', BigInt64Array.of(BigInt(Math.min(n, W - 1))), []),
        });
        st = { h: r.h_out, c: r.c_out, past_k: r.past_k_out, past_v: r.past_v_out };
        n++;
        return { indices: toNum(r.indices), values: r.values.data };
      },
      saveState: () => ({ st, n }),
      loadState: (s) => { st = s.st; n = s.n; },
      stateBytes: () => 4 * (2 * H + (W - 1) * (A + H)),
      dispose: () => session.release(),
    };
  }
  const a = new BigInt64Array(W), t = new BigInt64Array(W), g = new BigInt64Array(W);
  return {
    async predictWindow(ids) {
      if (ids.length !== W) throw new Error(`window must be ${W}`);
      for (let k = 0; k < W; k++) { a[k] = BigInt(ids[k]); t[k] = BigInt(typeOf(ids[k])); g[k] = BigInt(gapAt(k)); }
      const r = await session.run({
        actions: new ort.Tensor('int64', a, [W]), types: new ort.Tensor('int64', t, [W]), gaps: new ort.Tensor('int64', g, [W]),
      });
      return { indices: toNum(r.indices), values: r.values.data };
    },
    // what a peer keeps per user: the last W events' ids (action, type, gap), nothing else
    stateBytes: () => 3 * 8 * W,
    dispose: () => session.release(),
  };
}
