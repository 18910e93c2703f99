// Peer: @tensorflow/tfjs-core + @tensorflow/tfjs-backend-wasm (SIMD, single thread under node),
// the same graphs as the ONNX files written with tfjs ops, from the same f32 weights
// (models/NAME.weights.bin, written by export_peers.py). Set up as the shared adapters/tfjs-wasm.mjs.
//   lstm:  one step with (h, c) and the attention key/value cache kept as tensors between calls.
//   attnW: the full forward over the last W events on every call.
import fs from 'node:fs';
import path from 'node:path';
import { MODELS, SPEC, gapAt, modelWindow, typeOf } from './stage.mjs';

const tf = await import('@tensorflow/tfjs-core');
const wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
export const name = 'tfjs + backend-wasm';

function loadWeights(model) {
  const manifest = JSON.parse(fs.readFileSync(path.join(MODELS, `${model}.weights.json`), 'utf8'));
  const buf = fs.readFileSync(path.join(MODELS, `${model}.weights.bin`));
  const out = {};
  for (const e of manifest) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    out[e.name] = tf.tensor(new Float32Array(buf.buffer.slice(buf.byteOffset + e.offset, buf.byteOffset + e.offset + 4 * n)), e.shape);
  }
  return out;
}

let ready;
export async function load(model) {
  ready ??= (async () => {
    wasmBackend.setThreadsCount?.(1);
    await tf.setBackend('wasm');
    await tf.ready();
    if (tf.getBackend() !== 'wasm') throw new Error(`tfjs wasm backend not active (got ${tf.getBackend()})`);
  })();
  await ready;
  const p = model === 'lstm' ? lstmAttn(model) : transformer(model);
  p.heapBytes = () => tf.backend().wasm.HEAPU8.length;
  return p;
}

// y = x Mᵀ for the row-major (out, in) matrices of the .hunch file: transpose once at load
const T = (w) => tf.tidy(() => tf.transpose(w));

function topProbs(logits, V) {  // [1,V] -> top-10 of ids 1..V-1, probabilities over all V
  const lse = tf.logSumExp(logits, 1);
  const { values, indices } = tf.topk(tf.slice(logits, [0, 1], [1, V - 1]), 10);
  return [tf.exp(tf.sub(values, lse)), tf.add(indices, 1)];
}

function lstmAttn(model) {
  const { V, H, A } = SPEC;
  const W = modelWindow(model);
  const w = loadWeights(model);
  const kernel = tf.tidy(() => tf.concat([T(w['lstm.w_ih']), T(w['lstm.w_hh'])], 0));   // [D+H, 4H]
  const wq = T(w['attn.w_q']), wk = T(w['attn.w_k']), proj = T(w['proj.w']), head = T(w['head.action.w']);
  const dist = tf.tidy(() => tf.mul(tf.range(W - 1, -1, -1, 'float32'), w['attn.recency']));  // slope · distance
  const slot = tf.range(0, W, 1, 'int32');
  const scale = 1 / Math.sqrt(A);
  let h, c, pk, pv, n;
  const reset = () => {
    tf.dispose([h, c, pk, pv]);
    h = tf.zeros([1, H]); c = tf.zeros([1, H]); pk = tf.zeros([W - 1, A]); pv = tf.zeros([W - 1, H]); n = 0;
  };
  reset();
  return {
    reset,
    step(item) {
      const out = tf.tidy(() => {
        const id = (table, i) => tf.gather(w[table], tf.tensor1d([i], 'int32'));
        const x = tf.add(tf.add(id('emb.action', item), id('emb.type', typeOf(item))), id('emb.gap', gapAt(n)));
        const g = tf.add(tf.matMul(tf.concat([x, h], 1), kernel), w['lstm.bias']);
        const [gi, gf, gg, go] = tf.split(g, 4, 1);
        const c2 = tf.add(tf.mul(tf.sigmoid(gf), c), tf.mul(tf.sigmoid(gi), tf.tanh(gg)));
        const h2 = tf.mul(tf.sigmoid(go), tf.tanh(c2));
        const keys = tf.concat([pk, tf.matMul(h2, wk)], 0);                                  // [W, A]
        const vals = tf.concat([pv, h2], 0);                                                 // [W, H]
        let s = tf.sub(tf.mul(tf.reshape(tf.matMul(keys, tf.matMul(h2, wq), false, true), [W]), scale), dist);
        s = tf.where(tf.greaterEqual(slot, W - 1 - Math.min(n, W - 1)), s, tf.fill([W], -Infinity));
        const ctx = tf.matMul(tf.reshape(tf.softmax(s), [1, W]), vals);
        const z = tf.add(tf.matMul(tf.concat([h2, ctx], 1), proj), w['proj.b']);
        const [values, indices] = topProbs(tf.add(tf.matMul(z, head), w['head.action.b']), V);
        return { h2, c2, k2: tf.slice(keys, [1, 0], [W - 1, A]), v2: tf.slice(vals, [1, 0], [W - 1, H]), values, indices };
      });
      tf.dispose([h, c, pk, pv]);
      h = out.h2; c = out.c2; pk = out.k2; pv = out.v2; n++;
      const r = { indices: out.indices.dataSync(), values: out.values.dataSync() };
      tf.dispose([out.values, out.indices]);
      return r;
    },
    stateBytes: () => 4 * (2 * H + (W - 1) * (A + H)),
    dispose: () => { tf.dispose([h, c, pk, pv, kernel, wq, wk, proj, head, dist, slot, ...Object.values(w)]); },
  };
}

function transformer(model) {
  const { V, D, NH, LAYERS } = SPEC;
  const W = modelWindow(model);
  const dh = D / NH;
  const w = loadWeights(model);
  const lin = (p, b) => ({ w: T(w[p]), b: w[b] });
  const blocks = Array.from({ length: LAYERS }, (_, l) => {
    const P = `blk.${l}.`;
    return {
      ln1: [w[P + 'ln1.g'], w[P + 'ln1.b']], ln2: [w[P + 'ln2.g'], w[P + 'ln2.b']],
      q: lin(P + 'attn.w_q', P + 'attn.b_q'), k: lin(P + 'attn.w_k', P + 'attn.b_k'), v: lin(P + 'attn.w_v', P + 'attn.b_v'),
      o: lin(P + 'attn.w_o', P + 'attn.b_o'), f1: lin(P + 'ffn.w1', P + 'ffn.b1'), f2: lin(P + 'ffn.w2', P + 'ffn.b2'),
      rec: tf.reshape(w[P + 'attn.recency'], [NH, 1, 1]),
    };
  });
  const head = T(w['head.action.w']);
  // i - j for query i, key j; keys after the query are masked (the window is the whole input)
  const dist = tf.tidy(() => tf.sub(tf.reshape(tf.range(0, W, 1, 'float32'), [W, 1]), tf.reshape(tf.range(0, W, 1, 'float32'), [1, W])));
  const allowed = tf.greaterEqual(dist, 0);
  const minusInf = tf.fill([NH, W, W], -Infinity);
  const scale = 1 / Math.sqrt(dh);
  const dense = (x, l) => tf.add(tf.matMul(x, l.w), l.b);
  const layerNorm = (x, [g, b]) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
  };
  const heads = (m) => tf.transpose(tf.reshape(m, [W, NH, dh]), [1, 0, 2]);            // [NH, W, dh]
  const a = new Int32Array(W), t = new Int32Array(W), g = new Int32Array(W);
  return {
    predictWindow(ids) {
      if (ids.length !== W) throw new Error(`window must be ${W}`);
      for (let k = 0; k < W; k++) { a[k] = ids[k]; t[k] = typeOf(ids[k]); g[k] = gapAt(k); }
      const [values, indices] = tf.tidy(() => {
        let x = tf.add(tf.add(tf.gather(w['emb.action'], tf.tensor1d(a, 'int32')), tf.gather(w['emb.type'], tf.tensor1d(t, 'int32'))),
          tf.gather(w['emb.gap'], tf.tensor1d(g, 'int32')));                                 // [W, D]
        for (const B of blocks) {
          const u = layerNorm(x, B.ln1);
          const q = heads(dense(u, B.q)), k = heads(dense(u, B.k)), v = heads(dense(u, B.v));
          let s = tf.sub(tf.mul(tf.matMul(q, k, false, true), scale), tf.mul(B.rec, dist));  // [NH, W, W]
          s = tf.where(tf.broadcastTo(allowed, [NH, W, W]), s, minusInf);
          const o = tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), v), [1, 0, 2]), [W, D]);
          x = tf.add(x, dense(o, B.o));
          x = tf.add(x, dense(tf.relu(dense(layerNorm(x, B.ln2), B.f1)), B.f2));
        }
        const z = layerNorm(tf.slice(x, [W - 1, 0], [1, D]), [w['final_ln.g'], w['final_ln.b']]);
        return topProbs(tf.add(tf.matMul(z, head), w['head.action.b']), V);
      });
      const r = { indices: indices.dataSync(), values: values.dataSync() };
      tf.dispose([values, indices]);
      return r;
    },
    stateBytes: () => 3 * 4 * W,
    dispose: () => { tf.dispose([head, dist, allowed, minusInf, ...Object.values(w)]); },
  };
}
