/**
 * Header protection (RFC 9001 §5.4.3, §5.4.4) in JavaScript: one AES block per packet with the
 * key schedule expanded once per key (@noble/ciphers' AES block function), or one ChaCha20
 * block (./chacha20-block.ts). On Node this beats node:crypto, whose per-call native overhead
 * is larger than the block itself (see bench/crypto.ts), so `defaultCrypto` uses it too; it
 * lives apart from the rest of the noble backend so that using it loads only the AES code.
 */
import { unsafe as aesUnsafe } from '@noble/ciphers/aes.js';
import type { HeaderProtection, HeaderProtectionAlgorithm } from './backend.js';
import { chacha20Block, chacha20KeyWords } from './chacha20-block.js';

/** AES-ECB of the sample with a pre-expanded key. */
export class NobleAesHeaderProtection implements HeaderProtection {
  private readonly roundKeys: Uint32Array;
  /** 4-byte-aligned scratch block: noble's block function views it as 32-bit words. */
  private readonly block = new Uint8Array(16);
  constructor(
    readonly algorithm: HeaderProtectionAlgorithm,
    key: Uint8Array,
  ) {
    const want = algorithm === 'aes-128-ecb' ? 16 : 32;
    if (key.length !== want) throw new TypeError(`${algorithm} header protection needs a ${want}-byte key, got ${key.length}`);
    // Expanded once per key; noble's public ECB API would redo the key schedule per packet.
    this.roundKeys = aesUnsafe.expandKeyLE(key.slice());
  }
  mask(sample: Uint8Array, out: Uint8Array): void {
    const b = this.block;
    for (let i = 0; i < 16; i++) b[i] = sample[i]!;
    aesUnsafe.encryptBlock(this.roundKeys, b);
    for (let i = 0; i < 5; i++) out[i] = b[i]!;
  }
}

/** The first ChaCha20 keystream block for the sample's counter and nonce. */
export class NobleChaChaHeaderProtection implements HeaderProtection {
  readonly algorithm = 'chacha20' as const;
  private readonly keyWords: Uint32Array;
  private readonly words = new Uint32Array(16);
  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new TypeError(`chacha20 header protection needs a 32-byte key, got ${key.length}`);
    this.keyWords = chacha20KeyWords(key);
  }
  mask(sample: Uint8Array, out: Uint8Array): void {
    // RFC 9001 §5.4.4: counter = sample[0..4] little-endian, nonce = sample[4..16].
    const s = sample;
    const w = this.words;
    chacha20Block(
      this.keyWords,
      s[0]! | (s[1]! << 8) | (s[2]! << 16) | (s[3]! << 24),
      s[4]! | (s[5]! << 8) | (s[6]! << 16) | (s[7]! << 24),
      s[8]! | (s[9]! << 8) | (s[10]! << 16) | (s[11]! << 24),
      s[12]! | (s[13]! << 8) | (s[14]! << 16) | (s[15]! << 24),
      w,
    );
    const w0 = w[0]!;
    out[0] = w0 & 0xff;
    out[1] = (w0 >>> 8) & 0xff;
    out[2] = (w0 >>> 16) & 0xff;
    out[3] = w0 >>> 24;
    out[4] = w[1]! & 0xff;
  }
}

/** Header protection for `algorithm` and `key`. Throws TypeError for a wrong key length or unknown algorithm. */
export function createNobleHeaderProtection(algorithm: HeaderProtectionAlgorithm, key: Uint8Array): HeaderProtection {
  if (algorithm === 'chacha20') return new NobleChaChaHeaderProtection(key);
  if (algorithm === 'aes-128-ecb' || algorithm === 'aes-256-ecb') return new NobleAesHeaderProtection(algorithm, key);
  throw new TypeError(`unsupported header protection ${String(algorithm)}`);
}
