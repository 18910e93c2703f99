// Persistence of keyed sequences: loaded only when the `persist` option is set. Nothing is read
// or written before consent. Saves are batched per microtask (all pushes of one task → one
// write). Any storage failure switches this predictor to memory with one warning: a storage
// problem never becomes an exception in the host app.
//
// Several tabs: each write holds a Web Lock named after the key (navigator.locks, where
// available) so writes of one key never interleave, and is announced on a BroadcastChannel with
// its bytes; other tabs adopt the newer state into their open sequence of the same key (unless
// they have unsaved events of their own: then the last writer wins). forget() is announced too.
import type { PersistStorage } from './options.js';
import type { Sequence } from './predictor.js';

type Mode = 'indexeddb' | 'localStorage' | 'memory' | 'custom';
const g = globalThis as any;
const memory = new Map<string, Uint8Array>(); // 'memory' mode: this page, shared by predictors
const DB = 'hunch';
const STORE = 'states';

const memoryStore: PersistStorage = {
  get: (k) => memory.get(k),
  set: (k, b) => void memory.set(k, b.slice()),
  delete: (k) => void memory.delete(k),
  keys: (p) => [...memory.keys()].filter((k) => k.startsWith(p)),
};

function localStore(): PersistStorage {
  const ls: Storage = g.localStorage; // throws SecurityError where storage is blocked
  if (!ls) throw new Error('localStorage is not available here');
  return {
    get(k) {
      const v = ls.getItem(k);
      if (v === null) return undefined;
      const s = atob(v);
      const b = new Uint8Array(s.length);
      for (let i = 0; i < s.length; ++i) b[i] = s.charCodeAt(i);
      return b;
    },
    set(k, b) {
      let s = '';
      for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
      ls.setItem(k, btoa(s));
    },
    delete: (k) => ls.removeItem(k),
    keys(p) {
      const out: string[] = [];
      for (let i = 0; i < ls.length; ++i) {
        const k = ls.key(i);
        if (k !== null && k.startsWith(p)) out.push(k);
      }
      return out;
    },
  };
}

function idbStore(): PersistStorage {
  const idb: IDBFactory = g.indexedDB;
  if (!idb) throw new Error('IndexedDB is not available here');
  let dbp: Promise<IDBDatabase> | undefined;
  const db = () =>
    (dbp ??= new Promise<IDBDatabase>((resolve, reject) => {
      const r = idb.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error('IndexedDB open blocked by another connection'));
    }));
  const run = <T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>) =>
    db().then(
      (d) =>
        new Promise<T>((resolve, reject) => {
          const t = d.transaction(STORE, mode);
          const req = f(t.objectStore(STORE));
          t.oncomplete = () => resolve(req.result);
          t.onerror = t.onabort = () => reject(t.error ?? req.error);
        }),
    );
  return {
    get: (k) => run('readonly', (s) => s.get(k)).then((v) => (v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : v == null ? undefined : new Uint8Array(0))),
    set: (k, b) => run('readwrite', (s) => s.put(b, k)).then(() => {}),
    delete: (k) => run('readwrite', (s) => s.delete(k)).then(() => {}),
    keys: (p) => run('readonly', (s) => s.getAllKeys(IDBKeyRange.bound(p, p + '\uffff'))).then((ks) => ks.map(String)),
  };
}

interface Message {
  from: string;
  key?: string;
  bytes?: Uint8Array;
  forget?: boolean;
}

export class Persistence {
  mode: Mode;
  enabled = false;
  onRemote?: (key: string, bytes: Uint8Array) => void;
  onForget?: () => void;
  #kind: Mode;
  #custom: PersistStorage | undefined;
  #store: PersistStorage | undefined;
  #prefix: string;
  #warn: (m: string) => void;
  #warned = false;
  #pending = new Set<Sequence>();
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #chan: BroadcastChannel | undefined;
  #id = Math.random().toString(36).slice(2);

  constructor(kind: 'indexeddb' | 'localStorage' | 'memory' | PersistStorage, storageKey: string, onWarning: (m: string) => void) {
    if (typeof kind === 'object') {
      this.#custom = kind;
      this.#kind = 'custom';
    } else if (kind === 'indexeddb' || kind === 'localStorage' || kind === 'memory') this.#kind = kind;
    else throw new TypeError(`persist must be 'indexeddb', 'localStorage', 'memory', false or a storage object, got ${String(kind)}`);
    this.mode = this.#kind;
    this.#prefix = storageKey + ':';
    this.#warn = onWarning;
  }

  /** At most one warning per predictor: a broken storage must not flood the console. */
  warnOnce(m: string): void {
    if (this.#warned) return;
    this.#warned = true;
    try {
      this.#warn(m);
    } catch {
      // a throwing warning handler must not break persistence
    }
  }

  #fallback(op: string, e: unknown): PersistStorage {
    if (this.mode !== 'memory')
      this.warnOnce(`hunch: ${this.mode} storage failed (${op}: ${(e as Error)?.message ?? e}); keeping sequence states in memory for this page`);
    this.mode = 'memory';
    return (this.#store = memoryStore);
  }

  // The store of the chosen kind, opened on first use (after consent).
  #open(): PersistStorage {
    if (this.#store) return this.#store;
    try {
      return (this.#store =
        this.#kind === 'custom' ? this.#custom! : this.#kind === 'localStorage' ? localStore() : this.#kind === 'indexeddb' ? idbStore() : memoryStore);
    } catch (e) {
      return this.#fallback('open', e);
    }
  }

  async #do<T>(op: string, f: (s: PersistStorage) => T | Promise<T>): Promise<T> {
    const s = this.#open();
    try {
      return await f(s);
    } catch (e) {
      return f(this.#fallback(op, e));
    }
  }

  /** Starts persisting; resolves to the stored states by sequence key. */
  async enable(): Promise<Map<string, Uint8Array>> {
    this.enabled = true;
    if (!this.#chan && typeof g.BroadcastChannel === 'function') {
      const ch: BroadcastChannel = new g.BroadcastChannel('hunch:' + this.#prefix);
      (ch as any).unref?.(); // node: never keep the process alive
      ch.onmessage = (ev: MessageEvent<Message>) => this.#receive(ev.data);
      this.#chan = ch;
    }
    const out = new Map<string, Uint8Array>();
    try {
      for (const k of await this.#do('keys', (s) => s.keys(this.#prefix))) {
        const b = await this.#do('get', (s) => s.get(k));
        if (b) out.set(k.slice(this.#prefix.length), b instanceof Uint8Array ? b : new Uint8Array(0));
      }
    } catch (e) {
      this.#fallback('read', e);
    }
    return out;
  }

  #receive(m: Message): void {
    if (!this.enabled || !m || m.from === this.#id) return;
    if (m.forget) this.onForget?.();
    else if (m.key !== undefined && m.bytes instanceof Uint8Array) {
      for (const s of this.#pending) if (s.key === m.key) return; // unsaved events here: last writer wins
      this.onRemote?.(m.key, m.bytes);
    }
  }

  disable(): void {
    this.enabled = false;
    this.#pending.clear();
  }

  schedule(s: Sequence): void {
    if (!this.enabled) return;
    this.#pending.add(s);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#run());
  }

  /** The sequence is being closed: take its bytes now, while its wasm state still exists. */
  closing(s: Sequence): void {
    if (this.#pending.has(s)) s._snapshot();
  }

  #run(): void {
    this.#scheduled = false;
    const writes: [string, Uint8Array][] = [];
    for (const s of this.#pending) {
      const b = s._snapshot();
      if (b && s.key !== null) writes.push([s.key, b]);
    }
    this.#pending.clear();
    if (writes.length) this.#chain = this.#chain.then(() => this.#write(writes));
  }

  async #write(writes: [string, Uint8Array][]): Promise<void> {
    for (const [key, bytes] of writes) {
      if (!this.enabled) return;
      const full = this.#prefix + key;
      await this.#locked(full, () => this.#do('write', (s) => s.set(full, bytes)));
      this.#post({ from: this.#id, key, bytes });
    }
  }

  #locked<T>(name: string, f: () => Promise<T>): Promise<T> {
    const locks = g.navigator?.locks;
    return locks ? locks.request('hunch:' + name, f) : f();
  }

  #post(m: Message): void {
    try {
      this.#chan?.postMessage(m);
    } catch {
      // another tab missing one update only costs it that adoption
    }
  }

  async flush(): Promise<void> {
    if (this.#scheduled) await Promise.resolve();
    if (this.#scheduled) this.#run();
    await this.#chain;
  }

  async remove(key: string): Promise<void> {
    if (!this.#store && !this.enabled) return;
    const full = this.#prefix + key;
    await this.#locked(full, () => this.#do('delete', (s) => s.delete(full)));
  }

  /** Erases every key of this prefix from every store the SDK may have written. */
  async forgetAll(): Promise<void> {
    this.#pending.clear();
    await this.#chain;
    const stores: PersistStorage[] = [memoryStore];
    if (this.#store) stores.push(this.#store);
    if (this.#custom) stores.push(this.#custom);
    try {
      stores.push(localStore());
    } catch {
      // no localStorage here: nothing stored there either
    }
    // Opening IndexedDB would create the database: only when used, or when it already exists.
    try {
      if (this.#kind === 'indexeddb' || (await g.indexedDB?.databases?.())?.some((d: IDBDatabaseInfo) => d.name === DB))
        stores.push(idbStore());
    } catch {
      // IndexedDB unavailable: nothing stored there
    }
    for (const s of new Set(stores)) {
      try {
        for (const k of await s.keys(this.#prefix)) await s.delete(k);
      } catch (e) {
        this.warnOnce(`hunch: could not erase stored states (${(e as Error)?.message ?? e})`);
      }
    }
    this.#post({ from: this.#id, forget: true });
  }

  close(): void {
    void this.flush().finally(() => this.#chan?.close());
  }
}
