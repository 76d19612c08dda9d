/**
 * One conformance suite for every crypto backend: each property is checked on both the
 * node:crypto and the @noble backends, and every cross-backend pairing (seal with one, open
 * with the other; share from one, share from the other; sign with one, verify with the other)
 * is checked too.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, sign as nodeSign, constants, createPublicKey, createPrivateKey, type KeyObject } from 'node:crypto';
import { nodeBackend } from '../../src/crypto/node-backend.js';
import { nobleBackend } from '../../src/crypto/noble-backend.js';
import { defaultCrypto } from '../../src/crypto/index.js';
import { SignatureScheme, type AeadAlgorithm, type CryptoBackend, type HeaderProtectionAlgorithm } from '../../src/crypto/backend.js';
import { fromHex, toHex, utf8 } from '../../src/util/bytes.js';

// defaultCrypto mixes the two per primitive, so it must pass the same suite.
const BACKENDS: readonly CryptoBackend[] = [nodeBackend, nobleBackend, defaultCrypto];
const PAIRS = BACKENDS.flatMap((a) => BACKENDS.map((b) => [a, b] as const));
const AEADS: readonly AeadAlgorithm[] = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];

function vectors(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`../../../shared/vectors/${name}`, import.meta.url), 'utf8'));
}
const v9001 = vectors('rfc9001-initial.json');
const v8448 = vectors('rfc8448-simple-1rtt.json');
const v8448hrr = vectors('rfc8448-hrr.json');

function keyFor(alg: AeadAlgorithm, seed = 1): Uint8Array {
  const n = alg === 'aes-128-gcm' ? 16 : 32;
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}
const NONCE = fromHex('000102030405060708090a0b');
const AAD = utf8('header bytes');

describe.each(BACKENDS)('$name backend', (crypto) => {
  describe('AEAD', () => {
    it.each(AEADS)('%s seals and opens, separate buffers and in place', (alg) => {
      const aead = crypto.createAead(alg, keyFor(alg));
      const pt = Uint8Array.from({ length: 1200 }, (_, i) => i & 0xff);
      const sealed = new Uint8Array(1216);
      expect(aead.seal(NONCE, AAD, pt, sealed)).toBe(1216);
      expect(toHex(sealed.subarray(0, 1200))).not.toBe(toHex(pt));
      const opened = new Uint8Array(1200);
      expect(aead.open(NONCE, AAD, sealed, opened)).toBe(1200);
      expect(opened).toEqual(pt);

      // In place inside a larger buffer, at an odd (unaligned) offset.
      const buf = new Uint8Array(1300);
      buf.set(pt, 37);
      expect(aead.seal(NONCE, AAD, buf.subarray(37, 1237), buf.subarray(37, 1253))).toBe(1216);
      expect(buf.subarray(37, 1253)).toEqual(sealed);
      expect(aead.open(NONCE, AAD, buf.subarray(37, 1253), buf.subarray(37, 1237))).toBe(1200);
      expect(buf.subarray(37, 1237)).toEqual(pt);
    });

    it.each(AEADS)('%s: any tampering makes open return -1 and leaves the ciphertext untouched', (alg) => {
      const aead = crypto.createAead(alg, keyFor(alg));
      const pt = utf8('a QUIC payload of moderate length, more than one block long');
      const sealed = new Uint8Array(pt.length + 16);
      aead.seal(NONCE, AAD, pt, sealed);
      for (const pos of [0, 5, pt.length - 1, pt.length, sealed.length - 1]) {
        const bad = sealed.slice();
        bad[pos]! ^= 0x01;
        const copy = bad.slice();
        expect(aead.open(NONCE, AAD, bad, bad.subarray(0, pt.length))).toBe(-1);
        expect(bad).toEqual(copy);
      }
      const badAad = AAD.slice();
      badAad[0]! ^= 0x80;
      expect(aead.open(NONCE, badAad, sealed, new Uint8Array(pt.length))).toBe(-1);
      const badNonce = NONCE.slice();
      badNonce[11]! ^= 1;
      expect(aead.open(badNonce, AAD, sealed, new Uint8Array(pt.length))).toBe(-1);
      expect(crypto.createAead(alg, keyFor(alg, 2)).open(NONCE, AAD, sealed, new Uint8Array(pt.length))).toBe(-1);
      expect(aead.open(NONCE, AAD, sealed.subarray(0, 15), new Uint8Array(0))).toBe(-1);
    });

    it.each(AEADS)('%s: empty plaintext gives a bare tag that authenticates the AAD', (alg) => {
      const aead = crypto.createAead(alg, keyFor(alg));
      const tag = new Uint8Array(16);
      expect(aead.seal(NONCE, AAD, new Uint8Array(0), tag)).toBe(16);
      expect(aead.open(NONCE, AAD, tag, new Uint8Array(0))).toBe(0);
      expect(aead.open(NONCE, utf8('other'), tag, new Uint8Array(0))).toBe(-1);
    });

    it('rejects a key of the wrong length with a TypeError', () => {
      expect(() => crypto.createAead('aes-128-gcm', new Uint8Array(32))).toThrow(TypeError);
      expect(() => crypto.createAead('chacha20-poly1305', new Uint8Array(16))).toThrow(TypeError);
      expect(() => crypto.createHeaderProtection('aes-256-ecb', new Uint8Array(16))).toThrow(TypeError);
      expect(() => crypto.createHeaderProtection('chacha20', new Uint8Array(31))).toThrow(TypeError);
    });
  });

  describe('header protection', () => {
    it('reproduces the RFC 9001 A.2 (AES) and A.5 (ChaCha20) masks', () => {
      const out = new Uint8Array(5);
      crypto.createHeaderProtection('aes-128-ecb', fromHex(v9001.client.hp)).mask(fromHex(v9001.client_initial.sample), out);
      expect(toHex(out)).toBe(v9001.client_initial.mask);
      const c = v9001.chacha20_short_header;
      crypto.createHeaderProtection('chacha20', fromHex(c.hp)).mask(fromHex(c.sample), out);
      expect(toHex(out)).toBe(c.mask);
    });

    it('one object gives the same mask every time (no state carried between packets)', () => {
      for (const [alg, len] of [['aes-128-ecb', 16], ['aes-256-ecb', 32], ['chacha20', 32]] as const) {
        const hp = crypto.createHeaderProtection(alg, new Uint8Array(len).fill(3));
        const sample = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
        const a = new Uint8Array(5);
        const b = new Uint8Array(5);
        hp.mask(sample, a);
        hp.mask(fromHex('ffffffffffffffffffffffffffffffff'), b);
        hp.mask(sample, b);
        expect(b).toEqual(a);
      }
    });
  });

  describe('hashes, HMAC, HKDF', () => {
    it('SHA-256 and SHA-384 of "abc" (FIPS 180-4 examples)', () => {
      expect(toHex(crypto.hash('sha256', utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(toHex(crypto.hash('sha384', utf8('abc')))).toBe(
        'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
      );
    });

    it('incremental hash: digest mid-way, keep updating, clone independently', () => {
      const h = crypto.createHash('sha256');
      h.update(utf8('a'));
      const c = h.clone();
      h.update(utf8('bc'));
      expect(toHex(h.digest())).toBe(toHex(crypto.hash('sha256', utf8('abc'))));
      expect(toHex(h.digest())).toBe(toHex(crypto.hash('sha256', utf8('abc'))));
      h.update(utf8('d'));
      expect(toHex(h.digest())).toBe(toHex(crypto.hash('sha256', utf8('abcd'))));
      c.update(utf8('x'));
      expect(toHex(c.digest())).toBe(toHex(crypto.hash('sha256', utf8('ax'))));
      const h384 = crypto.createHash('sha384');
      h384.update(utf8('ab'));
      h384.update(utf8('c'));
      expect(toHex(h384.digest())).toBe(toHex(crypto.hash('sha384', utf8('abc'))));
    });

    it('HMAC: RFC 4231 test case 1', () => {
      const key = new Uint8Array(20).fill(0x0b);
      const data = utf8('Hi There');
      expect(toHex(crypto.hmac('sha256', key, data))).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
      expect(toHex(crypto.hmac('sha384', key, data))).toBe(
        'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
      );
    });

    it('HKDF: RFC 5869 test cases 1 and 3', () => {
      const ikm = new Uint8Array(22).fill(0x0b);
      const prk1 = crypto.hkdfExtract('sha256', fromHex('000102030405060708090a0b0c'), ikm);
      expect(toHex(prk1)).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
      expect(toHex(crypto.hkdfExpand('sha256', prk1, fromHex('f0f1f2f3f4f5f6f7f8f9'), 42))).toBe(
        '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
      );
      const prk3 = crypto.hkdfExtract('sha256', new Uint8Array(0), ikm);
      expect(toHex(prk3)).toBe('19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04');
      expect(toHex(crypto.hkdfExpand('sha256', prk3, new Uint8Array(0), 42))).toBe(
        '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
      );
    });

    it('HKDF-Expand refuses more than 255 blocks', () => {
      expect(() => crypto.hkdfExpand('sha256', new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1)).toThrow(TypeError);
      expect(crypto.hkdfExpand('sha384', new Uint8Array(48), new Uint8Array(0), 255 * 48)).toHaveLength(255 * 48);
    });
  });

  describe('key exchange', () => {
    it('x25519 and P-256 known answers (RFC 8448 §3 and §5)', () => {
      const c = crypto.keyShareFromPrivateKey('x25519', fromHex(v8448.client_x25519_private));
      expect(toHex(c.publicKey)).toBe(v8448.client_x25519_public);
      expect(toHex(c.deriveSecret(fromHex(v8448.server_x25519_public))!)).toBe(v8448.ecdhe_shared_secret);
      const p = crypto.keyShareFromPrivateKey('secp256r1', fromHex(v8448hrr.client_p256_private));
      expect(toHex(p.publicKey)).toBe(v8448hrr.client_p256_public);
      expect(toHex(p.deriveSecret(fromHex(v8448hrr.server_p256_public))!)).toBe(v8448hrr.ecdhe_shared_secret);
    });

    it.each(['x25519', 'secp256r1', 'secp384r1'] as const)('%s: invalid peer keys give undefined', (group) => {
      const share = crypto.generateKeyShare(group);
      const peer = crypto.generateKeyShare(group).publicKey;
      expect(share.deriveSecret(peer)).toBeInstanceOf(Uint8Array);
      expect(share.deriveSecret(peer.subarray(0, peer.length - 1))).toBeUndefined();
      expect(share.deriveSecret(new Uint8Array(0))).toBeUndefined();
      if (group === 'x25519') {
        expect(share.deriveSecret(new Uint8Array(32))).toBeUndefined(); // order-2 point: all-zero secret
        expect(share.deriveSecret(fromHex('01'.padEnd(64, '0')))).toBeUndefined(); // u = 1, small order
      } else {
        const offCurve = peer.slice();
        offCurve[offCurve.length - 1]! ^= 1;
        expect(share.deriveSecret(offCurve)).toBeUndefined();
        const compressed = peer.slice();
        compressed[0] = 0x02;
        expect(share.deriveSecret(compressed)).toBeUndefined();
        expect(share.deriveSecret(new Uint8Array(peer.length).fill(0x04, 0, 1))).toBeUndefined();
      }
    });
  });

  it('randomFill fills buffers of any size with fresh bytes', () => {
    const a = new Uint8Array(100_000);
    const b = new Uint8Array(100_000);
    crypto.randomFill(a);
    crypto.randomFill(b);
    expect(toHex(a.subarray(0, 32))).not.toBe(toHex(b.subarray(0, 32)));
    expect(a.subarray(99_968).some((x) => x !== 0)).toBe(true);
  });
});

describe('cross-backend agreement', () => {
  it.each(AEADS)('%s: both backends produce the same ciphertext, and open each other\'s', (alg) => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: alg === 'aes-128-gcm' ? 16 : 32, maxLength: alg === 'aes-128-gcm' ? 16 : 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 300 }),
        (key, nonce, aad, pt) => {
          const outs = BACKENDS.map((b) => {
            const o = new Uint8Array(pt.length + 16);
            b.createAead(alg, key).seal(nonce, aad, pt, o);
            return o;
          });
          for (const o of outs) expect(toHex(o)).toBe(toHex(outs[0]!));
          for (const b of BACKENDS) {
            const back = new Uint8Array(pt.length);
            expect(b.createAead(alg, key).open(nonce, aad, outs[0]!, back)).toBe(pt.length);
            expect(back).toEqual(pt);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each([['aes-128-ecb', 16], ['aes-256-ecb', 32], ['chacha20', 32]] as const)(
    '%s header-protection masks agree on random samples, including counter 0xffffffff',
    (alg: HeaderProtectionAlgorithm, keyLen: number) => {
      const edge = [fromHex('ffffffff' + '00'.repeat(12)), fromHex('ff'.repeat(16)), new Uint8Array(16)];
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: keyLen, maxLength: keyLen }),
          fc.oneof(fc.constantFrom(...edge), fc.uint8Array({ minLength: 16, maxLength: 16 })),
          (key, sample) => {
            const masks = BACKENDS.map((b) => {
              const out = new Uint8Array(5);
              b.createHeaderProtection(alg, key).mask(sample, out);
              return toHex(out);
            });
            for (const m of masks) expect(m).toBe(masks[0]);
          },
        ),
        { numRuns: 60 },
      );
    },
  );

  it('hashes, HMAC and HKDF agree on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 300 }), (data, key, len) => {
        for (const alg of ['sha256', 'sha384'] as const) {
          const r = BACKENDS.map((b) => [
            toHex(b.hash(alg, data)),
            toHex(b.hmac(alg, key, data)),
            toHex(b.hkdfExtract(alg, key, data)),
            toHex(b.hkdfExpand(alg, b.hkdfExtract(alg, key, data), data, len)),
          ]);
          for (const x of r) expect(x).toEqual(r[0]);
        }
      }),
      { numRuns: 40 },
    );
  });

  it.each(['x25519', 'secp256r1', 'secp384r1'] as const)('%s: shares from different backends agree on the secret', (group) => {
    for (const [a, b] of PAIRS) {
      const sa = a.generateKeyShare(group);
      const sb = b.generateKeyShare(group);
      const s1 = sa.deriveSecret(sb.publicKey);
      const s2 = sb.deriveSecret(sa.publicKey);
      expect(s1).toBeDefined();
      expect(toHex(s1!)).toBe(toHex(s2!));
      expect(s1!.length).toBe(group === 'secp384r1' ? 48 : 32);
      // The same private key gives the same public key in both backends.
      const priv = new Uint8Array(group === 'secp384r1' ? 48 : 32).fill(0x42);
      expect(toHex(a.keyShareFromPrivateKey(group, priv).publicKey)).toBe(toHex(b.keyShareFromPrivateKey(group, priv).publicKey));
    }
  });
});

interface TestKey {
  name: string;
  priv: Uint8Array;
  pub: Uint8Array;
  schemes: number[];
  node: KeyObject;
}

function exportPair(name: string, pair: { privateKey: KeyObject; publicKey: KeyObject }, schemes: number[]): TestKey {
  return {
    name,
    priv: new Uint8Array(pair.privateKey.export({ type: 'pkcs8', format: 'der' })),
    pub: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
    schemes,
    node: pair.privateKey,
  };
}

describe('signatures', () => {
  const keys: TestKey[] = [];
  const S = SignatureScheme;
  const pss = [S.rsa_pss_rsae_sha256, S.rsa_pss_rsae_sha384, S.rsa_pss_rsae_sha512];
  beforeAll(() => {
    keys.push(exportPair('P-256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), [S.ecdsa_secp256r1_sha256]));
    keys.push(exportPair('P-384', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), [S.ecdsa_secp384r1_sha384]));
    keys.push(exportPair('P-521', generateKeyPairSync('ec', { namedCurve: 'secp521r1' }), [S.ecdsa_secp521r1_sha512]));
    keys.push(exportPair('Ed25519', generateKeyPairSync('ed25519'), [S.ed25519]));
    keys.push(exportPair('RSA-2048', generateKeyPairSync('rsa', { modulusLength: 2048 }), pss));
    keys.push(exportPair('RSA-PSS-2048', generateKeyPairSync('rsa-pss', { modulusLength: 2048 }), [S.rsa_pss_pss_sha256]));
  });

  it('every backend lists the same schemes for every key, PKCS#1 only for verifying', () => {
    for (const k of keys) {
      for (const b of BACKENDS) {
        expect(b.createSigner(k.priv).schemes, `${b.name} ${k.name}`).toEqual(k.schemes);
        const vs = b.createVerifier(k.pub).schemes;
        expect(vs.slice(0, k.schemes.length)).toEqual(k.schemes);
        if (k.name === 'RSA-2048') expect(vs).toEqual([...pss, S.rsa_pkcs1_sha256, S.rsa_pkcs1_sha384, S.rsa_pkcs1_sha512]);
        else expect(vs).toEqual(k.schemes);
      }
    }
  });

  it('a signature made by either backend verifies with either backend, for every key and scheme', () => {
    const msg = utf8('TLS 1.3, server CertificateVerify' + ' '.repeat(64));
    for (const k of keys) {
      for (const [a, b] of PAIRS) {
        const signer = a.createSigner(k.priv);
        const verifier = b.createVerifier(k.pub);
        for (const scheme of k.schemes) {
          const sig = signer.sign(scheme, msg);
          const what = `${k.name} 0x${scheme.toString(16)} ${a.name} -> ${b.name}`;
          expect(verifier.verify(scheme, msg, sig), what).toBe(true);
          const other = msg.slice();
          other[3]! ^= 1;
          expect(verifier.verify(scheme, other, sig), what).toBe(false);
          const bad = sig.slice();
          bad[bad.length >> 1]! ^= 0x10;
          expect(verifier.verify(scheme, msg, bad), what).toBe(false);
          expect(verifier.verify(scheme, msg, sig.subarray(0, sig.length - 1)), what).toBe(false);
          expect(verifier.verify(scheme, msg, new Uint8Array(0)), what).toBe(false);
          expect(verifier.verify(0x0203, msg, sig), what).toBe(false);
        }
      }
    }
  });

  it('PKCS#1 v1.5 signatures (certificates) verify with both backends', () => {
    const rsa = keys.find((k) => k.name === 'RSA-2048')!;
    const msg = utf8('tbsCertificate');
    const cases = [
      ['sha256', S.rsa_pkcs1_sha256],
      ['sha384', S.rsa_pkcs1_sha384],
      ['sha512', S.rsa_pkcs1_sha512],
    ] as const;
    for (const [digest, scheme] of cases) {
      const sig = new Uint8Array(nodeSign(digest, msg, { key: rsa.node, padding: constants.RSA_PKCS1_PADDING }));
      for (const b of BACKENDS) {
        const v = b.createVerifier(rsa.pub);
        expect(v.verify(scheme, msg, sig)).toBe(true);
        expect(v.verify(scheme, utf8('tbsCertificatf'), sig)).toBe(false);
        // A PKCS#1 signature is not a PSS signature.
        expect(v.verify(S.rsa_pss_rsae_sha256, msg, sig)).toBe(false);
      }
    }
  });

  it('signing with a scheme the key does not have throws TypeError', () => {
    for (const b of BACKENDS) {
      expect(() => b.createSigner(keys[0]!.priv).sign(S.ed25519, utf8('x'))).toThrow(TypeError);
      expect(() => b.createSigner(keys[4]!.priv).sign(S.rsa_pkcs1_sha256, utf8('x'))).toThrow(TypeError);
    }
  });

  it('unusable key containers throw TypeError', () => {
    const x25519 = generateKeyPairSync('x25519');
    const xPriv = new Uint8Array(x25519.privateKey.export({ type: 'pkcs8', format: 'der' }));
    const xPub = new Uint8Array(x25519.publicKey.export({ type: 'spki', format: 'der' }));
    for (const b of BACKENDS) {
      expect(() => b.createSigner(xPriv)).toThrow(TypeError);
      expect(() => b.createVerifier(xPub)).toThrow(TypeError);
      expect(() => b.createSigner(fromHex('3003020100'))).toThrow(TypeError);
      expect(() => b.createVerifier(fromHex('deadbeef'))).toThrow(TypeError);
      expect(() => b.createVerifier(keys[0]!.pub.subarray(0, 40))).toThrow(TypeError);
    }
  });

  it('RFC 8448 §3: the server\'s RSA-PSS CertificateVerify and its PKCS#1 certificate signature verify', () => {
    const k = v8448.server_rsa_key;
    const b64 = (h: string) => Buffer.from(h, 'hex').toString('base64url');
    const jwk = { kty: 'RSA', n: b64(k.modulus), e: b64(k.public_exponent) };
    const spki = new Uint8Array(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
    const cv = fromHex(v8448.certificate_verify);
    expect(toHex(cv.subarray(4, 6))).toBe('0804');
    const sig = cv.subarray(8);
    const content = fromHex(v8448.certificate_verify_signed_content);
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }.
    const cert = fromHex(v8448.server_certificate_der);
    const tbsLen = (cert[6]! << 8) | cert[7]!;
    const tbs = cert.subarray(4, 8 + tbsLen);
    const certSig = cert.subarray(cert.length - 128);
    for (const b of BACKENDS) {
      const v = b.createVerifier(spki);
      expect(v.verify(S.rsa_pss_rsae_sha256, content, sig)).toBe(true);
      expect(v.verify(S.rsa_pss_rsae_sha384, content, sig)).toBe(false);
      expect(v.verify(S.rsa_pkcs1_sha256, tbs, certSig)).toBe(true);
      const tampered = content.slice();
      tampered[100]! ^= 1;
      expect(v.verify(S.rsa_pss_rsae_sha256, tampered, sig)).toBe(false);
    }
    // Signing with the RFC's private key verifies under node:crypto.
    const full = {
      ...jwk,
      d: b64(k.private_exponent),
      p: b64(k.prime1),
      q: b64(k.prime2),
      dp: b64(k.exponent1),
      dq: b64(k.exponent2),
      qi: b64(k.coefficient),
    };
    const pkcs8 = new Uint8Array(createPrivateKey({ key: full, format: 'jwk' }).export({ type: 'pkcs8', format: 'der' }));
    const mine = nobleBackend.createSigner(pkcs8).sign(S.rsa_pss_rsae_sha256, content);
    expect(nodeBackend.createVerifier(spki).verify(S.rsa_pss_rsae_sha256, content, mine)).toBe(true);
  });
});
