// Event and sequence-key validation. A whole batch of events is checked before anything reaches
// the core, so a refused event leaves the sequence exactly as it was.
import { HunchEventError } from './errors.js';
import type { HunchEvent } from './options.js';

export interface Vocab {
  /** Action name to id (0 = unknown). */
  actionId: (action: string) => number;
  typeIds: Map<string, number>;
  maxLength: number;
  unknownType: 'none' | 'error';
  maxFutureMs: number;
  /** The model's attribute columns, in its order (empty without). */
  attributes: readonly string[];
}

export interface CheckedEvent {
  action: string;
  actionId: number;
  type: string | null;
  typeId: number;
  unknownType: boolean;
  timeMs: number;
  /** With attributes given: one value per model column joined with NUL ('' = the action's own); else null. */
  attrs: string | null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

function checkString(v: unknown, field: 'action' | 'type', i: number, max: number): string {
  if (typeof v !== 'string') throw new HunchEventError(field, i, `must be a string, got ${describe(v)}`);
  if (v.length === 0) throw new HunchEventError(field, i, 'is empty');
  if (v.length > max) throw new HunchEventError(field, i, `is ${v.length} characters long (at most ${max})`);
  return v;
}

/** Refuses a sequence key that is not a non-empty string of at most 256 characters (TypeError). */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 256)
    throw new TypeError('sequence key must be a non-empty string of at most 256 characters');
}

export function checkEvents(input: HunchEvent | readonly HunchEvent[], vocab: Vocab): CheckedEvent[] {
  const list: readonly unknown[] = Array.isArray(input) ? input : [input];
  const now = Date.now();
  const out: CheckedEvent[] = [];
  for (let i = 0; i < list.length; ++i) {
    const e = list[i] as Record<string, unknown>;
    if (e === null || typeof e !== 'object' || Array.isArray(e))
      throw new HunchEventError('event', i, `must be an object like {action: "/page"}, got ${describe(e)}`);
    const action = checkString(e.action, 'action', i, vocab.maxLength);
    let type: string | null = null;
    let typeId = 0;
    let unknownType = false;
    if (e.type !== undefined) {
      type = checkString(e.type, 'type', i, vocab.maxLength);
      typeId = vocab.typeIds.get(type) ?? 0;
      if (typeId === 0 && type !== '<none>') {
        if (vocab.unknownType === 'error')
          throw new HunchEventError('type', i, `"${type.slice(0, 64)}" is not a type of this model`);
        unknownType = true;
      }
    }
    let timeMs: number;
    const t = e.time;
    if (t === undefined) timeMs = now;
    else if (t instanceof Date) timeMs = t.getTime();
    else if (typeof t === 'number') timeMs = t;
    else throw new HunchEventError('time', i, `must be a number (ms since the epoch) or a Date, got ${describe(t)}`);
    if (!Number.isFinite(timeMs)) throw new HunchEventError('time', i, `is not a finite time (${t instanceof Date ? 'invalid Date' : String(t)})`);
    if (timeMs > now + vocab.maxFutureMs)
      throw new HunchEventError('time', i, `is ${Math.round((timeMs - now) / 3.6e6)} hours in the future (ms since the epoch expected)`);
    let attrs: string | null = null;
    const a = e.attributes;
    if (a !== undefined) {
      if (a === null || typeof a !== 'object' || Array.isArray(a))
        throw new HunchEventError('attributes', i, `must be an object like {category: "shoes"}, got ${describe(a)}`);
      const values = vocab.attributes.map((column) => {
        const v = (a as Record<string, unknown>)[column];
        if (v === undefined) return '';
        if (typeof v === 'number' && Number.isFinite(v)) return String(v);
        if (typeof v !== 'string' || v.length > vocab.maxLength || v.includes('\0'))
          throw new HunchEventError('attributes', i, `"${column}" must be a string (at most ${vocab.maxLength} characters, no NUL) or a finite number, got ${describe(v)}`);
        return v;
      });
      if (values.some((v) => v !== '')) attrs = values.join('\0');
    }
    out.push({ action, actionId: vocab.actionId(action), type, typeId, unknownType, timeMs, attrs });
  }
  return out;
}
