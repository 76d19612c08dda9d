/** The one-block ChaCha20 function against node:crypto's ChaCha20, including the counter values a packet can carry. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createCipheriv } from 'node:crypto';
import { chacha20Block, chacha20KeyWords } from '../../src/crypto/chacha20-block.js';

function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

describe('chacha20Block', () => {
  it('equals the first keystream block node:crypto produces for any key, counter and nonce', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat({ max: 0xffffffff })),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        (key, counter, nonce) => {
          const iv = new Uint8Array(16);
          new DataView(iv.buffer).setUint32(0, counter, true);
          iv.set(nonce, 4);
          const expected = createCipheriv('chacha20', key, iv).update(new Uint8Array(64));
          const out = new Uint32Array(16);
          chacha20Block(chacha20KeyWords(key), counter, le32(nonce, 0), le32(nonce, 4), le32(nonce, 8), out);
          for (let i = 0; i < 16; i++) expect(out[i]).toBe(le32(expected, 4 * i));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => chacha20KeyWords(new Uint8Array(16))).toThrow(TypeError);
  });
});
