/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B), which QPACK (RFC 9204 §4.1.2) reuses for
 * string literals. The code is canonical: every code is determined by the code lengths alone
 * (shorter codes first, equal lengths in symbol order), so only the lengths are stored and the
 * codes are rebuilt from them once.
 */

/** Code length in bits of each symbol 0..255 and of EOS (256), from RFC 7541 Appendix B. */
// prettier-ignore
const CODE_LENGTHS: readonly number[] = [
  // 0..31: control characters
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  // 32..63: ' ' ! " # $ % & ' ( ) * + , - . / 0..9 : ; < = > ?
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 64..95: @ A..Z [ \ ] ^ _
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 96..127: ` a..z { | } ~ DEL
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 128..255
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // 256: EOS
  30,
];

/** The end-of-string symbol; it must never appear inside an encoded string. */
export const HUFFMAN_EOS = 256;
const MAX_LENGTH = 30;

/** Codes per symbol (numbers of up to 30 bits, aligned to the least significant bit). */
const CODES = new Uint32Array(257);
/** Symbols ordered by (length, symbol): canonical order. */
const SORTED = new Uint16Array(257);
/** Per length L: the first code of that length, how many codes have it, and where they start in SORTED. */
const FIRST_CODE = new Float64Array(MAX_LENGTH + 1);
const COUNT = new Uint16Array(MAX_LENGTH + 1);
const START = new Uint16Array(MAX_LENGTH + 1);

(function buildCanonicalCode(): void {
  let k = 0;
  for (let len = 1; len <= MAX_LENGTH; len++) {
    START[len] = k;
    for (let s = 0; s <= HUFFMAN_EOS; s++) if (CODE_LENGTHS[s] === len) SORTED[k++] = s;
    COUNT[len] = k - START[len]!;
  }
  let code = 0;
  for (let len = 1; len <= MAX_LENGTH; len++) {
    FIRST_CODE[len] = code;
    for (let i = 0; i < COUNT[len]!; i++) CODES[SORTED[START[len]! + i]!] = code + i;
    code = (code + COUNT[len]!) * 2;
  }
})();

/** The code of `symbol` (0..256) and its length in bits. */
export function huffmanCode(symbol: number): { code: number; length: number } {
  if (!Number.isInteger(symbol) || symbol < 0 || symbol > HUFFMAN_EOS) throw new RangeError(`Huffman symbol must be 0..256, got ${symbol}`);
  return { code: CODES[symbol]!, length: CODE_LENGTHS[symbol]! };
}

/** Length in bytes of the Huffman encoding of `data` (padding included). */
export function huffmanEncodedLength(data: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < data.length; i++) bits += CODE_LENGTHS[data[i]!]!;
  return (bits + 7) >> 3;
}

/** Huffman-encodes `data`, padding the last byte with the most significant bits of EOS (all ones). */
export function huffmanEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(data));
  let acc = 0; // pending bits, at most 7 + 30
  let n = 0;
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const s = data[i]!;
    const len = CODE_LENGTHS[s]!;
    acc = acc * 2 ** len + CODES[s]!;
    n += len;
    while (n >= 8) {
      n -= 8;
      const byte = Math.floor(acc / 2 ** n);
      out[o++] = byte;
      acc -= byte * 2 ** n;
    }
  }
  if (n > 0) out[o] = ((acc << (8 - n)) | (0xff >> n)) & 0xff;
  return out;
}

/**
 * Decodes a Huffman-encoded string. Returns undefined for input RFC 7541 §5.2 calls a decoding
 * error: an EOS symbol, padding longer than 7 bits, or padding that is not all ones.
 */
export function huffmanDecode(data: Uint8Array): Uint8Array | undefined {
  // Every symbol takes at least 5 bits, so the output is at most 8/5 of the input.
  const out = new Uint8Array(Math.ceil((data.length * 8) / 5));
  let o = 0;
  let code = 0;
  let len = 0;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    for (let b = 7; b >= 0; b--) {
      code = code * 2 + ((byte >> b) & 1);
      len++;
      const idx = code - FIRST_CODE[len]!;
      if (idx >= 0 && idx < COUNT[len]!) {
        const s = SORTED[START[len]! + idx]!;
        if (s === HUFFMAN_EOS) return undefined;
        out[o++] = s;
        code = 0;
        len = 0;
      } else if (len >= MAX_LENGTH) {
        return undefined;
      }
    }
  }
  // Padding: fewer than 8 bits, all ones (a prefix of EOS).
  if (len > 7 || code !== 2 ** len - 1) return undefined;
  return out.subarray(0, o);
}
