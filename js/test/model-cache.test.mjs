// The `cache` option: the model's bytes kept in a Cache-API-like store and revalidated with a
// conditional request, so a repeat load of an unchanged model downloads nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Predictor, HunchModelError } from 'hunch';
import { modelBytes } from './helpers.mjs';

// The Cache API's shape (match/put of Responses), over a Map: node has no `caches`.
class MapCache {
  map = new Map();
  async match(url) {
    const e = this.map.get(url);
    return e && new Response(e.body, { headers: e.headers });
  }
  async put(url, res) {
    this.map.set(url, { body: new Uint8Array(await res.arrayBuffer()), headers: Object.fromEntries(res.headers) });
  }
}

async function modelServer(t) {
  const s = { bytes: modelBytes(), etag: '"v1"', requests: [], down: false };
  const server = http.createServer((req, res) => {
    s.requests.push({ inm: req.headers['if-none-match'] ?? null });
    if (req.headers['if-none-match'] === s.etag) {
      res.writeHead(304, { ETag: s.etag });
      return res.end();
    }
    res.writeHead(200, { ETag: s.etag, 'Content-Type': 'application/octet-stream' });
    res.end(s.bytes);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  s.url = `http://127.0.0.1:${server.address().port}/m.hunch`;
  return s;
}

test('cache: the second load revalidates (304) and downloads nothing; a new ETag replaces the copy', async (t) => {
  const srv = await modelServer(t);
  const cache = new MapCache();
  const p1 = await Predictor.fromUrl(srv.url, { cache });
  assert.deepEqual(srv.requests, [{ inm: null }]);
  assert.ok(cache.map.has(srv.url), 'stored after the first load');
  const p2 = await Predictor.fromUrl(srv.url, { cache });
  assert.deepEqual(srv.requests[1], { inm: '"v1"' }, 'conditional request with the stored ETag');
  assert.equal(p2.info.checksum, p1.info.checksum, 'the cached bytes are the model');
  // A new model on the server: a 200 with a new ETag, stored for the next visit.
  srv.bytes = modelBytes('tiny-transformer.hunch');
  srv.etag = '"v2"';
  const p3 = await Predictor.fromUrl(srv.url, { cache });
  assert.notEqual(p3.info.checksum, p1.info.checksum);
  assert.equal(cache.map.get(srv.url).headers.etag, '"v2"');
  for (const p of [p1, p2, p3]) p.close();
});

test('cache: a network failure falls back to the cached copy; without one it rejects', async (t) => {
  const srv = await modelServer(t);
  const cache = new MapCache();
  (await Predictor.fromUrl(srv.url, { cache })).close();
  const offline = srv.url.replace(/:\d+\//, ':9/'); // nothing listens on port 9
  cache.map.set(offline, cache.map.get(srv.url));
  (await Predictor.fromUrl(offline, { cache })).close();
  await assert.rejects(Predictor.fromUrl(offline, { cache: new MapCache() }), (e) => e instanceof HunchModelError && /could not fetch the model/.test(e.message));
});

test('cache + integrity: a cached copy that fails the hash is fetched anew, a bad download is never stored', async (t) => {
  const srv = await modelServer(t);
  const cache = new MapCache();
  (await Predictor.fromUrl(srv.url, { cache })).close();
  srv.bytes = modelBytes('tiny-transformer.hunch');
  const integrity = 'sha256-' + createHash('sha256').update(srv.bytes).digest('base64');
  // Same ETag (a server bug, or the hash moved first): the stale copy fails the hash, so no
  // conditional request is sent and the new bytes load.
  const p = await Predictor.fromUrl(srv.url, { cache, integrity });
  assert.equal(srv.requests.at(-1).inm, null);
  assert.equal(p.info.architecture, 'transformer');
  p.close();
  const other = new MapCache();
  await assert.rejects(Predictor.fromUrl(srv.url, { cache: other, integrity: 'sha256-' + 'A'.repeat(43) + '=' }), /integrity mismatch/);
  assert.equal(other.map.size, 0, 'bytes failing integrity are not cached');
});

test('cache: true where the Cache API is missing (node) loads normally', async (t) => {
  const srv = await modelServer(t);
  (await Predictor.fromUrl(srv.url, { cache: true })).close();
  assert.equal(srv.requests.length, 1);
});

test('worker mode: the Cache API in the worker (cache: true); a custom cache object is refused', async (t) => {
  const srv = await modelServer(t);
  const w = await Predictor.fromUrl(srv.url, { worker: true, cache: true });
  await w.close();
  await assert.rejects(Predictor.fromUrl(srv.url, { worker: true, cache: new MapCache() }), { name: 'TypeError', message: /custom cache object/ });
});
