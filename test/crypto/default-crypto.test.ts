/** defaultCrypto: which backend serves each primitive (the choice bench/crypto.ts measured). */
import { describe, it, expect } from 'vitest';
import { defaultCrypto } from '../../src/crypto/index.js';
import { NobleAesHeaderProtection, NobleChaChaHeaderProtection } from '../../src/crypto/noble-header-protection.js';
import { nodeBackend } from '../../src/crypto/node-backend.js';

describe('defaultCrypto', () => {
  it('masks headers with the JavaScript header protection', () => {
    expect(defaultCrypto.createHeaderProtection('aes-128-ecb', new Uint8Array(16))).toBeInstanceOf(NobleAesHeaderProtection);
    expect(defaultCrypto.createHeaderProtection('aes-256-ecb', new Uint8Array(32))).toBeInstanceOf(NobleAesHeaderProtection);
    expect(defaultCrypto.createHeaderProtection('chacha20', new Uint8Array(32))).toBeInstanceOf(NobleChaChaHeaderProtection);
  });

  it('seals with node:crypto', () => {
    const key = new Uint8Array(16);
    const a = defaultCrypto.createAead('aes-128-gcm', key);
    expect(a.constructor).toBe(nodeBackend.createAead('aes-128-gcm', key).constructor);
  });

  it('keeps node:crypto behaviour for misuse', () => {
    expect(() => defaultCrypto.createAead('aes-256-gcm', new Uint8Array(16))).toThrow(TypeError);
    expect(() => defaultCrypto.createSigner(new Uint8Array(3))).toThrow(TypeError);
  });
});
