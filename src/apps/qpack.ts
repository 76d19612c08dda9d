/**
 * QPACK field sections (RFC 9204 §4.5) without a dynamic table: the encoder uses static-table
 * references and literals (Huffman-coded when that is shorter); the decoder accepts every
 * representation that does not touch the dynamic table, Huffman-coded or not. With
 * SETTINGS_QPACK_MAX_TABLE_CAPACITY 0 a conforming peer never references the dynamic table,
 * so one that does gets QPACK_DECOMPRESSION_FAILED.
 */
import { H3Error, H3ErrorCode } from './h3-constants.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { QPACK_STATIC_TABLE } from './qpack-static-table.js';

/** One field line: name and value, as Latin-1 strings (each character one octet). */
export type HeaderField = readonly [name: string, value: string];

const STATIC_EXACT = new Map<string, number>();
const STATIC_NAME = new Map<string, number>();
QPACK_STATIC_TABLE.forEach(([name, value], i) => {
  const key = `${name}\u0000${value}`;
  if (!STATIC_EXACT.has(key)) STATIC_EXACT.set(key, i);
  if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i);
});

/** Appends the prefixed integer of RFC 7541 §5.1 (`prefixBits` low bits of the first byte, `flags` above them). */
export function writePrefixedInteger(out: number[], value: number, prefixBits: number, flags: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`prefixed integer must be a non-negative safe integer, got ${value}`);
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

/** A cursor over a field section; every read failure is QPACK_DECOMPRESSION_FAILED. */
class SectionReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  fail(why: string): never {
    throw new H3Error(H3ErrorCode.QPACK_DECOMPRESSION_FAILED, why);
  }

  get atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  peek(): number {
    if (this.pos >= this.buf.length) this.fail('field section truncated');
    return this.buf[this.pos]!;
  }

  /** Reads a prefixed integer whose first byte is at `pos`. */
  integer(prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    let value = this.peek() & max;
    this.pos++;
    if (value < max) return value;
    let scale = 1;
    for (;;) {
      const b = this.peek();
      this.pos++;
      value += (b & 0x7f) * scale;
      if (value > Number.MAX_SAFE_INTEGER) this.fail('integer too large');
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
  }

  /** Reads a string literal whose H bit is bit `prefixBits` of the first byte. */
  string(prefixBits: number): string {
    const huffman = (this.peek() >> prefixBits) & 1;
    const length = this.integer(prefixBits);
    if (length > this.buf.length - this.pos) this.fail('string literal runs past the field section');
    const raw = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    if (huffman === 0) return latin1(raw);
    const decoded = huffmanDecode(raw);
    if (decoded === undefined) this.fail('invalid Huffman-coded string');
    return latin1(decoded);
  }
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}

function latin1Bytes(s: string, what: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`${what} ${JSON.stringify(s)} has a character outside Latin-1`);
    out[i] = c;
  }
  return out;
}

function staticEntry(r: SectionReader, index: number): readonly [string, string] {
  const e = QPACK_STATIC_TABLE[index];
  if (e === undefined) r.fail(`static table index ${index} out of range`);
  return e;
}

/**
 * Decodes a field section (a HEADERS frame payload). Throws `H3Error` with
 * QPACK_DECOMPRESSION_FAILED for anything malformed or any dynamic-table reference.
 */
export function decodeFieldSection(block: Uint8Array): HeaderField[] {
  const r = new SectionReader(block);
  const requiredInsertCount = r.integer(8);
  if (requiredInsertCount !== 0) r.fail(`Required Insert Count ${requiredInsertCount} but the dynamic table capacity is 0`);
  const signBit = r.peek() & 0x80;
  const deltaBase = r.integer(7);
  // RFC 9204 §4.5.1.2: a negative Base (Sign 1 with Delta Base >= Required Insert Count) is invalid.
  if (signBit !== 0 && deltaBase >= requiredInsertCount) r.fail('negative Base');
  const fields: HeaderField[] = [];
  while (!r.atEnd) {
    const b = r.peek();
    if ((b & 0x80) !== 0) {
      // Indexed field line: 1 T index(6).
      if ((b & 0x40) === 0) r.fail('indexed field line references the dynamic table');
      const e = staticEntry(r, r.integer(6));
      fields.push([e[0], e[1]]);
    } else if ((b & 0x40) !== 0) {
      // Literal field line with name reference: 0 1 N T index(4), then the value.
      if ((b & 0x10) === 0) r.fail('literal field line references a dynamic-table name');
      const e = staticEntry(r, r.integer(4));
      fields.push([e[0], r.string(7)]);
    } else if ((b & 0x20) !== 0) {
      // Literal field line with literal name: 0 0 1 N H length(3) name, then the value.
      const name = r.string(3);
      fields.push([name, r.string(7)]);
    } else {
      r.fail('post-base reference without a dynamic table');
    }
  }
  return fields;
}

function writeString(out: number[], bytes: Uint8Array, prefixBits: number, flags: number, huffman: boolean): void {
  if (huffman) {
    const h = huffmanEncodedLength(bytes);
    if (h < bytes.length) {
      writePrefixedInteger(out, h, prefixBits, flags | (1 << prefixBits));
      for (const x of huffmanEncode(bytes)) out.push(x);
      return;
    }
  }
  writePrefixedInteger(out, bytes.length, prefixBits, flags);
  for (const x of bytes) out.push(x);
}

/**
 * Encodes a field section with Required Insert Count 0: exact static-table matches as indexed
 * field lines, static names with literal values, other names as literals. String literals are
 * Huffman-coded when shorter, unless `huffman` is false.
 */
export function encodeFieldSection(fields: readonly HeaderField[], options: { huffman?: boolean } = {}): Uint8Array {
  const huffman = options.huffman ?? true;
  const out: number[] = [0x00, 0x00];
  for (const [name, value] of fields) {
    const exact = STATIC_EXACT.get(`${name}\u0000${value}`);
    if (exact !== undefined) {
      writePrefixedInteger(out, exact, 6, 0xc0);
      continue;
    }
    const valueBytes = latin1Bytes(value, 'field value');
    const nameIndex = STATIC_NAME.get(name);
    if (nameIndex !== undefined) {
      writePrefixedInteger(out, nameIndex, 4, 0x50);
    } else {
      writeString(out, latin1Bytes(name, 'field name'), 3, 0x20, huffman);
    }
    writeString(out, valueBytes, 7, 0x00, huffman);
  }
  return Uint8Array.from(out);
}
