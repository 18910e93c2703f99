// Where hunch's time goes, for the notes on missed targets: one fresh process per call.
//   node bench/peers/profile.mjs cold SDK_DIR MODEL.hunch   → cold start split into its steps
//   node bench/peers/profile.mjs warm SDK_DIR MODEL.hunch   → push / predict / SDK overhead, µs
// "raw" is the Embind module under the SDK (hunch.mjs), i.e. the core without the SDK's JS.
const t0 = performance.now();
const fs = await import('node:fs');
const path = await import('node:path');
const { pathToFileURL } = await import('node:url');
const [mode, sdkDir, modelPath] = process.argv.slice(2);
const url = (f) => pathToFileURL(path.join(sdkDir, f)).href;

if (mode === 'cold') {
  const { Predictor } = await import(url('index.js'));
  const t1 = performance.now();
  const wasm = fs.readFileSync(path.join(sdkDir, 'hunch.wasm'));
  const t2 = performance.now();
  const module = await WebAssembly.compile(wasm);
  const t3 = performance.now();
  const bytes = fs.readFileSync(modelPath);
  const t4 = performance.now();
  const p = await Predictor.fromBytes(bytes, { wasmModule: module });
  const t5 = performance.now();
  // the same load again: the heap is grown and the code compiled, so this is the model parse alone
  const p2 = await Predictor.fromBytes(bytes, { wasmModule: module });
  const t6 = performance.now();
  const seq = p.sequence();
  seq.push({ action: p.info.actions[1], time: 1.7e12 });
  const t7 = performance.now();
  seq.predict({ k: 10 });
  const t8 = performance.now();
  seq.push({ action: p.info.actions[2], time: 1.7e12 });
  seq.predict({ k: 10 });
  const t9 = performance.now();
  console.log(JSON.stringify({
    sdkImportMs: t1 - t0, wasmCompileMs: t3 - t2, fromBytesMs: t5 - t4, secondModelLoadMs: t6 - t5,
    firstPushMs: t7 - t6, firstPredictMs: t8 - t7, secondPushPredictMs: t9 - t8, wasmBytes: wasm.length, modelBytes: bytes.length,
  }));
  p2.close(); p.close();
} else {
  const { Predictor } = await import(url('index.js'));
  const { default: factory } = await import(url('hunch.mjs'));
  const bytes = fs.readFileSync(modelPath);
  const p = await Predictor.fromBytes(bytes);
  globalThis.__dirname ??= '';  // Emscripten 3.1.6's ES6 glue reads it under node (the SDK shims it the same way)
  const raw = await factory({ wasmBinary: fs.readFileSync(path.join(sdkDir, 'hunch.wasm')) });
  const m = new raw.Model();
  m.load(bytes);
  const rs = new raw.Sequence(m);
  const seq = p.sequence();
  const V = p.info.actions.length, T = p.info.types.length;
  const ev = p.info.actions.map((a, i) => ({ action: a, type: p.info.types[i % T], time: 1.7e12 }));
  const id = (i) => 1 + ((i * 7) % (V - 1));
  const time = (fn, n = 3000) => {
    for (let i = 0; i < 2000; i++) fn(i);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) { const a = performance.now(); fn(i); s[i] = performance.now() - a; }
    s.sort();
    return +(s[n >> 1] * 1000).toFixed(2);
  };
  const out = {
    sdkPushPredictUs: time((i) => { seq.push(ev[id(i)]); seq.predict({ k: 10 }); }),
    rawPushPredictUs: time((i) => { rs.push(id(i), i % T, 1.7e9); rs.predict(10); rs.topIds(); rs.topProbs(); }),
    rawPushUs: time((i) => rs.push(id(i), i % T, 1.7e9)),
    rawPredictUs: time(() => { rs.predict(10); rs.topIds(); rs.topProbs(); }),
  };
  out.sdkOverheadUs = +(out.sdkPushPredictUs - out.rawPushPredictUs).toFixed(2);
  console.log(JSON.stringify(out));
  rs.delete(); m.delete(); p.close();
}
process.exit(0);
