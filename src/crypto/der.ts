/**
 * A minimal DER reader for the key containers the noble backend accepts: PKCS#8
 * PrivateKeyInfo (RFC 5208), SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), RSAPrivateKey /
 * RSAPublicKey (RFC 8017 Appendix A.1) and ECPrivateKey (RFC 5915). It reads definite
 * lengths only (DER forbids the rest) and hands out views of the input, never copies.
 *
 * Malformed input throws TypeError: these structures come from key files and certificates
 * the caller passes in, and the crypto interface reports unusable keys that way.
 */

/** ASN.1 universal tags used by key containers. */
export const DerTag = {
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  ObjectIdentifier: 0x06,
  Sequence: 0x30,
} as const;

/** One element: its tag and a view of its contents. */
export interface DerElement {
  readonly tag: number;
  readonly contents: Uint8Array;
}

/** Reads consecutive DER elements from a byte range. */
export class DerReader {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** True when every element has been read. */
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** Tag of the next element, or -1 at the end. */
  peekTag(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos]! : -1;
  }

  /** The next element, whatever its tag. */
  readAny(): DerElement {
    const b = this.bytes;
    if (this.pos + 2 > b.length) throw new TypeError('malformed DER: truncated element header');
    const tag = b[this.pos]!;
    if ((tag & 0x1f) === 0x1f) throw new TypeError('malformed DER: multi-byte tags are not supported');
    let p = this.pos + 1;
    let len = b[p++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0) throw new TypeError('malformed DER: indefinite length');
      if (n > 4) throw new TypeError('malformed DER: length too large');
      if (p + n > b.length) throw new TypeError('malformed DER: truncated length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
      if (len < 0x80 || (n > 1 && b[p - n] === 0)) throw new TypeError('malformed DER: non-minimal length');
    }
    if (p + len > b.length) throw new TypeError('malformed DER: element runs past its container');
    this.pos = p + len;
    return { tag, contents: b.subarray(p, p + len) };
  }

  /** The contents of the next element, which must carry `tag`. */
  read(tag: number): Uint8Array {
    const e = this.readAny();
    if (e.tag !== tag) {
      throw new TypeError(`malformed DER: expected tag 0x${tag.toString(16)}, found 0x${e.tag.toString(16)}`);
    }
    return e.contents;
  }

  /** A reader over the contents of the next SEQUENCE. */
  readSequence(): DerReader {
    return new DerReader(this.read(DerTag.Sequence));
  }

  /** The next INTEGER as a non-negative BigInt (negative values are rejected). */
  readUnsignedInteger(): bigint {
    const c = this.read(DerTag.Integer);
    if (c.length === 0) throw new TypeError('malformed DER: empty INTEGER');
    if (c[0]! & 0x80) throw new TypeError('malformed DER: negative INTEGER where a non-negative one is required');
    return bytesToBigInt(c);
  }

  /** The next INTEGER as a small number (versions). */
  readSmallInteger(): number {
    const v = this.readUnsignedInteger();
    if (v > 0xffffn) throw new TypeError('malformed DER: INTEGER too large for a version field');
    return Number(v);
  }

  /** The next BIT STRING's bytes; only whole-byte strings (0 unused bits) are accepted. */
  readBitStringBytes(): Uint8Array {
    const c = this.read(DerTag.BitString);
    if (c.length === 0 || c[0] !== 0) throw new TypeError('malformed DER: BIT STRING with unused bits');
    return c.subarray(1);
  }

  /** Fails unless every element has been read. */
  expectEnd(what: string): void {
    if (!this.done) throw new TypeError(`malformed DER: trailing data after ${what}`);
  }
}

/** Big-endian unsigned bytes to BigInt. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return hex.length === 0 ? 0n : BigInt('0x' + hex);
}

/** BigInt to exactly `length` big-endian bytes. Throws RangeError when it does not fit. */
export function bigIntToBytes(value: bigint, length: number): Uint8Array {
  if (value < 0n) throw new RangeError('negative value cannot be encoded as unsigned bytes');
  const hex = value.toString(16);
  if (hex.length > 2 * length) throw new RangeError(`value needs more than ${length} bytes`);
  const out = new Uint8Array(length);
  const padded = hex.padStart(2 * length, '0');
  for (let i = 0; i < length; i++) out[i] = Number.parseInt(padded.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Dotted-decimal form of OBJECT IDENTIFIER contents, e.g. "1.2.840.10045.2.1". */
export function oidToString(contents: Uint8Array): string {
  if (contents.length === 0) throw new TypeError('malformed DER: empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let v = 0;
  for (let i = 0; i < contents.length; i++) {
    const b = contents[i]!;
    if (v === 0 && b === 0x80) throw new TypeError('malformed DER: non-minimal OBJECT IDENTIFIER arc');
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER) throw new TypeError('malformed DER: OBJECT IDENTIFIER arc too large');
    if (!(b & 0x80)) {
      if (arcs.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        arcs.push(first, v - first * 40);
      } else {
        arcs.push(v);
      }
      v = 0;
    }
  }
  if (contents[contents.length - 1]! & 0x80) throw new TypeError('malformed DER: truncated OBJECT IDENTIFIER');
  return arcs.join('.');
}

/** An AlgorithmIdentifier: the algorithm OID and, if present, the parameters element. */
export interface AlgorithmIdentifier {
  readonly oid: string;
  readonly parameters: DerElement | undefined;
}

/** Reads an AlgorithmIdentifier SEQUENCE { algorithm OID, parameters ANY OPTIONAL }. */
export function readAlgorithmIdentifier(reader: DerReader): AlgorithmIdentifier {
  const seq = reader.readSequence();
  const oid = oidToString(seq.read(DerTag.ObjectIdentifier));
  const parameters = seq.done ? undefined : seq.readAny();
  seq.expectEnd('AlgorithmIdentifier');
  return { oid, parameters };
}
