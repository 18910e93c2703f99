// Typed errors. Every failure the SDK reports is one of these, so apps can branch on the class
// (instanceof) and read the core's own message, which names the field and byte offset.

/** The `name` of each error class: literal types, so `switch (err.name)` narrows. */
export type HunchErrorName = 'HunchError' | 'HunchModelError' | 'HunchEventError' | 'HunchStateError' | 'HunchClosedError' | 'HunchEnvironmentError';

/** Base class of every error the SDK throws. */
export class HunchError extends Error {
  // Spelled out: minified builds rename classes, and apps log and branch on err.name.
  override name: HunchErrorName = 'HunchError';
}

/** The model bytes were refused (not a hunch file, truncated, wrong version…), or could not be fetched. */
export class HunchModelError extends HunchError {
  override name: 'HunchModelError' = 'HunchModelError';
}

/** Which part of an event was refused. */
export type HunchEventField = 'event' | 'action' | 'type' | 'time' | 'attributes';

/** An event was refused; the sequence is left exactly as it was before the call. */
export class HunchEventError extends HunchError {
  override name: 'HunchEventError' = 'HunchEventError';
  /** The field that was refused. */
  readonly field: HunchEventField;
  /** Position of the refused event in the array given to push(); 0 for a single event. */
  readonly index: number;
  constructor(field: HunchEventField, index: number, reason: string) {
    super(`event ${index}: ${field === 'event' ? 'the event' : `"${field}"`} ${reason}`);
    this.field = field;
    this.index = index;
  }
}

/** Saved sequence state refused by restore() (corrupted, truncated, or saved for another model). */
export class HunchStateError extends HunchError {
  override name: 'HunchStateError' = 'HunchStateError';
}

/** A closed Predictor or Sequence was used. */
export class HunchClosedError extends HunchError {
  override name: 'HunchClosedError' = 'HunchClosedError';
}

/** The JavaScript environment cannot run hunch (no WebAssembly, no WebAssembly SIMD, no Worker…). */
export class HunchEnvironmentError extends HunchError {
  override name: 'HunchEnvironmentError' = 'HunchEnvironmentError';
}

/** Serialisable form of an error, for the worker protocol. */
export interface ErrorRecord {
  name: string;
  message: string;
  field?: HunchEventField;
  index?: number;
}

export function errorToRecord(e: unknown): ErrorRecord {
  if (e instanceof HunchEventError) return { name: e.name, message: e.message, field: e.field, index: e.index };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

export function errorFromRecord(r: ErrorRecord): Error {
  let e: Error;
  switch (r.name) {
    case 'HunchEventError': {
      const ev = new HunchEventError(r.field ?? 'event', r.index ?? 0, '');
      Object.defineProperty(ev, 'message', { value: r.message });
      return ev;
    }
    case 'HunchModelError': e = new HunchModelError(r.message); break;
    case 'HunchStateError': e = new HunchStateError(r.message); break;
    case 'HunchClosedError': e = new HunchClosedError(r.message); break;
    case 'HunchEnvironmentError': e = new HunchEnvironmentError(r.message); break;
    case 'RangeError': e = new RangeError(r.message); break;
    case 'TypeError': e = new TypeError(r.message); break;
    default: e = new HunchError(r.message);
  }
  return e;
}
