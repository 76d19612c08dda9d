import type { CryptoBackend } from '../crypto/backend.js';
import type { ConnectionIdSource } from '../transport/connection-id.js';

/**
 * The endpoint's connection IDs: random IDs of one fixed length, and stateless reset tokens
 * derived from them with an endpoint-wide secret (HMAC-SHA256, RFC 9000 §10.3.2), so a reset
 * can be sent for any ID this endpoint issued without remembering it.
 */
export class EndpointConnectionIds implements ConnectionIdSource {
  private readonly resetKey: Uint8Array;

  constructor(
    private readonly crypto: CryptoBackend,
    readonly length = 8,
    resetKey?: Uint8Array,
  ) {
    if (!(length >= 4 && length <= 20)) throw new RangeError(`connection ID length must be 4..20, got ${length}`);
    this.resetKey = resetKey ?? new Uint8Array(32);
    if (resetKey === undefined) crypto.randomFill(this.resetKey);
  }

  generate(): Uint8Array {
    const cid = new Uint8Array(this.length);
    this.crypto.randomFill(cid);
    return cid;
  }

  resetToken(cid: Uint8Array): Uint8Array {
    return this.crypto.hmac('sha256', this.resetKey, cid).subarray(0, 16);
  }
}

/** A string key for a connection ID (one byte per char). */
export function cidKey(cid: Uint8Array): string {
  let s = '';
  for (let i = 0; i < cid.length; i++) s += String.fromCharCode(cid[i]!);
  return s;
}

/** Routing table from connection IDs to connections. */
export class CidRouter<T> {
  private readonly map = new Map<string, T>();

  get size(): number {
    return this.map.size;
  }

  add(cid: Uint8Array, value: T): void {
    this.map.set(cidKey(cid), value);
  }

  remove(cid: Uint8Array, value: T): void {
    const k = cidKey(cid);
    if (this.map.get(k) === value) this.map.delete(k);
  }

  get(cid: Uint8Array): T | undefined {
    return this.map.get(cidKey(cid));
  }
}
