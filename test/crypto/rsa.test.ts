/** BigInt RSA (the noble backend's RSA): arithmetic, key parsing, PSS/PKCS#1 edge cases against node:crypto. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify, constants, randomFillSync, type KeyObject } from 'node:crypto';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import {
  modInverse,
  modPow,
  parseRsaPrivateKey,
  parseRsaPublicKey,
  rsaPkcs1Sign,
  rsaPkcs1Verify,
  rsaPssSign,
  rsaPssVerify,
} from '../../src/crypto/rsa.js';
import { DerReader, DerTag, bigIntToBytes } from '../../src/crypto/der.js';
import { utf8 } from '../../src/util/bytes.js';

const random = (out: Uint8Array) => {
  randomFillSync(out);
};

/** The RSAPrivateKey inside a node-generated key's PKCS#8. */
function rsaPrivateKeyDer(key: KeyObject): Uint8Array {
  const pki = new DerReader(new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }))).readSequence();
  pki.readSmallInteger();
  pki.readSequence();
  return pki.read(DerTag.OctetString);
}

function rsaPublicKeyDer(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'pkcs1', format: 'der' }));
}

function naivePow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n % m;
  for (let i = 0n; i < e; i++) r = (r * b) % m;
  return r;
}

describe('modular arithmetic', () => {
  it('modPow matches repeated multiplication', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 1n, max: 10n ** 9n }), (b, e, m) => {
        expect(modPow(b, e, m)).toBe(naivePow(b, e, m));
      }),
      { numRuns: 200 },
    );
  });

  it('the windowed path (large exponents) agrees with the binary path via Fermat and splitting', () => {
    const p = 2n ** 127n - 1n; // a Mersenne prime
    fc.assert(
      fc.property(fc.bigInt({ min: 2n, max: p - 1n }), fc.bigInt({ min: 2n ** 64n, max: 2n ** 200n }), (a, e) => {
        expect(modPow(a, p - 1n, p)).toBe(1n);
        // a^e = a^(e mod (p-1)) for prime p.
        expect(modPow(a, e, p)).toBe(modPow(a, e % (p - 1n), p));
      }),
      { numRuns: 50 },
    );
  });

  it('modInverse inverts, and reports non-invertible values', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 30n }), (a) => {
        const m = 2n ** 89n - 1n; // prime
        const inv = modInverse(a, m);
        if (a % m === 0n) expect(inv).toBeUndefined();
        else expect((a * inv!) % m).toBe(1n);
      }),
    );
    expect(modInverse(6n, 9n)).toBeUndefined();
  });

  it('misuse is a RangeError', () => {
    expect(() => modPow(2n, 3n, 0n)).toThrow(RangeError);
    expect(() => modPow(2n, -1n, 7n)).toThrow(RangeError);
    expect(() => bigIntToBytes(256n, 1)).toThrow(RangeError);
  });
});

describe('RSA keys and signatures against node:crypto', () => {
  // 1025 bits: emLen is one byte shorter than the modulus (the RFC 8017 emBits ≡ 0 mod 8 case).
  for (const bits of [1024, 1025, 1031, 2048]) {
    it(`${bits}-bit key: PSS both ways, PKCS#1 verify`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      const priv = parseRsaPrivateKey(rsaPrivateKeyDer(privateKey));
      const pub = parseRsaPublicKey(rsaPublicKeyDer(publicKey));
      expect(pub.bits).toBe(bits);
      expect(priv.n).toBe(pub.n);
      const msg = utf8(`message for a ${bits}-bit key`);
      const hashes = [
        ['sha256', sha256],
        ['sha384', sha384],
        ['sha512', sha512],
      ] as const;
      for (const [name, h] of hashes) {
        // PKCS#1 v1.5 is deterministic: our signature equals node's byte for byte.
        const pk = new Uint8Array(nodeSign(name, msg, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }));
        expect(rsaPkcs1Verify(pub, h, msg, pk)).toBe(true);
        expect(rsaPkcs1Sign(priv, h, msg, random)).toEqual(pk);
        if (Math.ceil((bits - 1) / 8) < 2 * h.outputLen + 2) {
          // No room for a hash-length salt: neither side can make such a signature.
          expect(() => rsaPssSign(priv, h, msg, random)).toThrow(TypeError);
          expect(() => nodeSign(name, msg, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.outputLen })).toThrow();
          continue;
        }
        const ours = rsaPssSign(priv, h, msg, random);
        expect(ours.length).toBe(pub.size);
        expect(
          nodeVerify(name, msg, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.outputLen }, ours),
          `${name} ours -> node`,
        ).toBe(true);
        const theirs = new Uint8Array(
          nodeSign(name, msg, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.outputLen }),
        );
        expect(rsaPssVerify(pub, h, msg, theirs), `${name} node -> ours`).toBe(true);
      }
    });
  }

  it('PSS with a salt length other than the hash length is rejected (RFC 8446 §4.2.3)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pub = parseRsaPublicKey(rsaPublicKeyDer(publicKey));
    const msg = utf8('salt');
    const short = new Uint8Array(nodeSign('sha256', msg, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }));
    expect(rsaPssVerify(pub, sha256, msg, short)).toBe(false);
    const ok = new Uint8Array(nodeSign('sha256', msg, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }));
    expect(rsaPssVerify(pub, sha256, msg, ok)).toBe(true);
    // Signature not less than the modulus, or of the wrong length.
    expect(rsaPssVerify(pub, sha256, msg, bigIntToBytes(pub.n, pub.size))).toBe(false);
    expect(rsaPssVerify(pub, sha256, msg, new Uint8Array(pub.size + 1))).toBe(false);
    expect(rsaPkcs1Verify(pub, sha256, msg, new Uint8Array(pub.size))).toBe(false);
  });

  it('PSS signatures are randomised', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const priv = parseRsaPrivateKey(rsaPrivateKeyDer(privateKey));
    const a = rsaPssSign(priv, sha256, utf8('same'), random);
    const b = rsaPssSign(priv, sha256, utf8('same'), random);
    expect(a).not.toEqual(b);
  });

  it('inconsistent or unsupported keys are TypeErrors', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const der = rsaPrivateKeyDer(privateKey).slice();
    // Corrupt the last byte of the modulus: p*q no longer matches.
    const seq = new DerReader(der).readSequence();
    seq.readSmallInteger();
    const n = seq.read(DerTag.Integer);
    n[n.length - 1]! ^= 2;
    expect(() => parseRsaPrivateKey(der)).toThrow(TypeError);
    const pubDer = rsaPublicKeyDer(publicKey);
    expect(() => parseRsaPublicKey(pubDer.subarray(0, pubDer.length - 1))).toThrow(TypeError);
    // e = 4 (even): SEQUENCE { INTEGER n, INTEGER 4 }.
    const pub = parseRsaPublicKey(pubDer);
    const nBytes = bigIntToBytes(pub.n, pub.size + 1);
    const body = [0x02, 0x81, nBytes.length, ...nBytes, 0x02, 0x01, 0x04];
    expect(() => parseRsaPublicKey(Uint8Array.from([0x30, 0x81, body.length, ...body]))).toThrow(TypeError);
  });
});
