import { describe, it, expect } from 'vitest';
import { TokenProtector, TokenKind } from '../../src/transport/token.js';
import { defaultCrypto } from '../../src/crypto/index.js';

const key = new Uint8Array(16).fill(7);

describe('TokenProtector', () => {
  it('round-trips a Retry token for the same address', () => {
    const t = new TokenProtector(defaultCrypto, key);
    const tok = t.seal(TokenKind.Retry, '127.0.0.1:4433', 1000, Uint8Array.of(1, 2, 3), Uint8Array.of(9, 8));
    const c = t.open(tok, '127.0.0.1:4433', 1500, 10_000)!;
    expect(c.kind).toBe(TokenKind.Retry);
    expect(c.issued).toBe(1000);
    expect([...c.originalDcid]).toEqual([1, 2, 3]);
    expect([...c.retrySourceCid]).toEqual([9, 8]);
  });

  it('refuses another address, an expired token, a tampered token and another key', () => {
    const t = new TokenProtector(defaultCrypto, key);
    const tok = t.seal(TokenKind.NewToken, '10.0.0.1', 1000);
    expect(t.open(tok, '10.0.0.2', 1000, 10_000)).toBeUndefined();
    expect(t.open(tok, '10.0.0.1', 20_000, 10_000)).toBeUndefined();
    const bad = tok.slice();
    bad[bad.length - 20]! ^= 1;
    expect(t.open(bad, '10.0.0.1', 1000, 10_000)).toBeUndefined();
    const other = new TokenProtector(defaultCrypto, new Uint8Array(16).fill(8));
    expect(other.open(tok, '10.0.0.1', 1000, 10_000)).toBeUndefined();
    expect(t.open(new Uint8Array(5), '10.0.0.1', 1000, 10_000)).toBeUndefined();
    expect(t.open(tok, '10.0.0.1', 1000, 10_000)?.kind).toBe(TokenKind.NewToken);
  });
});
