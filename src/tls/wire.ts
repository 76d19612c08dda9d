/**
 * Bounds-checked big-endian reading and growable writing of TLS presentation-language
 * structures (RFC 8446 §3). Reading never throws anything but a `decode_error` QuicError, so
 * a malformed handshake message from the network surfaces as the right alert.
 */
import { QuicError } from '../transport/errors.js';
import { TlsAlert } from './alerts.js';

/** Throws the `decode_error` alert as a QuicError. */
export function decodeError(reason: string): never {
  throw QuicError.fromAlert(TlsAlert.decode_error, reason);
}

/** A cursor over `buf[pos, end)`; every read checks the bound. Results are views, not copies. */
export class ByteReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
    /** Names the structure in decode_error reasons. */
    readonly what = 'message',
  ) {
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.end - this.pos < n) decodeError(`${this.what} truncated`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u24(): number {
    this.need(3);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 3;
    return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** The next `n` bytes as a view. */
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A length-prefixed vector (`lengthBytes` of 1, 2 or 3) as a view; `min`/`max` bound its length. */
  vector(lengthBytes: 1 | 2 | 3, min = 0, max = Infinity): Uint8Array {
    const n = lengthBytes === 1 ? this.u8() : lengthBytes === 2 ? this.u16() : this.u24();
    if (n < min || n > max) decodeError(`${this.what}: vector length ${n} out of range`);
    return this.bytes(n);
  }

  /** A reader over a length-prefixed vector's content. */
  subReader(lengthBytes: 1 | 2 | 3, what = this.what, min = 0): ByteReader {
    const n = lengthBytes === 1 ? this.u8() : lengthBytes === 2 ? this.u16() : this.u24();
    if (n < min) decodeError(`${what}: vector length ${n} below ${min}`);
    this.need(n);
    const r = new ByteReader(this.buf, this.pos, this.pos + n, what);
    this.pos += n;
    return r;
  }

  /** Throws decode_error unless everything was consumed. */
  done(): void {
    if (this.pos !== this.end) decodeError(`${this.what} has ${this.end - this.pos} trailing bytes`);
  }
}

/** A growable output buffer with length-prefixed sections patched in place. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    this.ensure(3);
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf[this.length++] = (v >>> 24) & 0xff;
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Writes a length-prefixed vector. Throws RangeError when `b` does not fit the prefix. */
  vector(lengthBytes: 1 | 2 | 3, b: Uint8Array): this {
    const max = lengthBytes === 1 ? 0xff : lengthBytes === 2 ? 0xffff : 0xffffff;
    if (b.length > max) throw new RangeError(`vector of ${b.length} bytes does not fit a ${lengthBytes}-byte length`);
    if (lengthBytes === 1) this.u8(b.length);
    else if (lengthBytes === 2) this.u16(b.length);
    else this.u24(b.length);
    return this.bytes(b);
  }

  /** Reserves a `lengthBytes` length prefix; returns its position for `endLength`. */
  beginLength(lengthBytes: 1 | 2 | 3): number {
    const at = this.length;
    this.ensure(lengthBytes);
    this.length += lengthBytes;
    return at;
  }

  /** Fills in the length reserved at `at` with the number of bytes written since. */
  endLength(at: number, lengthBytes: 1 | 2 | 3): void {
    const n = this.length - at - lengthBytes;
    const max = lengthBytes === 1 ? 0xff : lengthBytes === 2 ? 0xffff : 0xffffff;
    if (n > max) throw new RangeError(`section of ${n} bytes does not fit a ${lengthBytes}-byte length`);
    for (let i = lengthBytes - 1, v = n; i >= 0; i--, v >>>= 8) this.buf[at + i] = v & 0xff;
  }

  /** A copy of everything written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
