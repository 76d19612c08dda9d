/**
 * RSA signatures with BigInt arithmetic, for the noble backend (the @noble libraries have no
 * RSA): RSASSA-PSS sign/verify and RSASSA-PKCS1-v1_5 verify, per RFC 8017 §8, §9.1, §9.2.
 * TLS 1.3 signs only with PSS (salt length = hash length, RFC 8446 §4.2.3); PKCS#1 v1.5 is
 * still needed to check certificate signatures.
 *
 * Signing uses the CRT form with base blinding, and checks its own result with the public
 * exponent before releasing it. BigInt arithmetic is not constant-time; the blinding hides
 * the message-dependent part of the timing.
 */
import type { CHash } from '@noble/hashes/utils.js';
import { DerReader, bigIntToBytes, bytesToBigInt } from './der.js';

/** Largest modulus accepted, in bits (larger keys make a peer-supplied certificate a DoS lever). */
export const RSA_MAX_MODULUS_BITS = 16384;

/** An RSA public key. */
export interface RsaPublicKey {
  readonly n: bigint;
  readonly e: bigint;
  /** Modulus length in bits. */
  readonly bits: number;
  /** Modulus length in bytes (the signature length, `k` in RFC 8017). */
  readonly size: number;
}

/** An RSA private key in CRT form. */
export interface RsaPrivateKey extends RsaPublicKey {
  readonly d: bigint;
  readonly p: bigint;
  readonly q: bigint;
  readonly dP: bigint;
  readonly dQ: bigint;
  readonly qInv: bigint;
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

function checkPublic(n: bigint, e: bigint): { bits: number; size: number } {
  const bits = bitLength(n);
  if (bits < 512 || bits > RSA_MAX_MODULUS_BITS) throw new TypeError(`unsupported RSA modulus size ${bits} bits`);
  if ((n & 1n) === 0n) throw new TypeError('invalid RSA key: even modulus');
  if (e < 3n || (e & 1n) === 0n || bitLength(e) > 64) throw new TypeError('unsupported RSA public exponent');
  return { bits, size: Math.ceil(bits / 8) };
}

/** Parses an RSAPublicKey (RFC 8017 A.1.1): SEQUENCE { modulus, publicExponent }. Throws TypeError. */
export function parseRsaPublicKey(der: Uint8Array): RsaPublicKey {
  const outer = new DerReader(der);
  const seq = outer.readSequence();
  outer.expectEnd('RSAPublicKey');
  const n = seq.readUnsignedInteger();
  const e = seq.readUnsignedInteger();
  seq.expectEnd('RSAPublicKey');
  return { n, e, ...checkPublic(n, e) };
}

/** Parses a two-prime RSAPrivateKey (RFC 8017 A.1.2). Throws TypeError. */
export function parseRsaPrivateKey(der: Uint8Array): RsaPrivateKey {
  const outer = new DerReader(der);
  const seq = outer.readSequence();
  outer.expectEnd('RSAPrivateKey');
  if (seq.readSmallInteger() !== 0) throw new TypeError('unsupported RSAPrivateKey version (multi-prime keys are not supported)');
  const n = seq.readUnsignedInteger();
  const e = seq.readUnsignedInteger();
  const d = seq.readUnsignedInteger();
  const p = seq.readUnsignedInteger();
  const q = seq.readUnsignedInteger();
  const dP = seq.readUnsignedInteger();
  const dQ = seq.readUnsignedInteger();
  const qInv = seq.readUnsignedInteger();
  seq.expectEnd('RSAPrivateKey');
  const pub = checkPublic(n, e);
  if (p * q !== n || p < 3n || q < 3n) throw new TypeError('invalid RSA private key: p*q does not equal the modulus');
  if (dP >= p || dQ >= q || qInv >= p || qInv === 0n) throw new TypeError('invalid RSA private key: CRT parameters out of range');
  return { n, e, d, p, q, dP, dQ, qInv, ...pub };
}

/** base^exponent mod modulus, with a fixed 4-bit window. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus <= 0n) throw new RangeError('modulus must be positive');
  if (exponent < 0n) throw new RangeError('exponent must be non-negative');
  if (modulus === 1n) return 0n;
  let b = base % modulus;
  if (b < 0n) b += modulus;
  if (exponent < 0x10000000000000000n) {
    // Public exponents: plain square-and-multiply.
    let r = 1n;
    const bits = exponent.toString(2);
    for (let i = 0; i < bits.length; i++) {
      r = (r * r) % modulus;
      if (bits.charCodeAt(i) === 49) r = (r * b) % modulus;
    }
    return r;
  }
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 16; i++) table.push((table[i - 1]! * b) % modulus);
  const digits = exponent.toString(16);
  let r = table[Number.parseInt(digits[0]!, 16)]!;
  for (let i = 1; i < digits.length; i++) {
    r = (r * r) % modulus;
    r = (r * r) % modulus;
    r = (r * r) % modulus;
    r = (r * r) % modulus;
    const d = Number.parseInt(digits[i]!, 16);
    if (d !== 0) r = (r * table[d]!) % modulus;
  }
  return r;
}

/** The inverse of a modulo m, or undefined when gcd(a, m) ≠ 1. */
export function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const qt = oldR / r;
    [oldR, r] = [r, oldR - qt * r];
    [oldS, s] = [s, oldS - qt * s];
  }
  if (oldR !== 1n) return undefined;
  return ((oldS % m) + m) % m;
}

/** RSASP1 with CRT and blinding, checked against the public exponent. */
function privateOperation(key: RsaPrivateKey, m: bigint, randomFill: (out: Uint8Array) => void): bigint {
  const { n, e, p, q, dP, dQ, qInv } = key;
  let r = 0n;
  let rInv: bigint | undefined;
  const rb = new Uint8Array(key.size);
  for (let tries = 0; rInv === undefined; tries++) {
    if (tries > 64) throw new Error('RSA blinding: could not find an invertible blinding factor');
    randomFill(rb);
    r = bytesToBigInt(rb) % n;
    if (r > 1n) rInv = modInverse(r, n);
  }
  const blinded = (m * modPow(r, e, n)) % n;
  const m1 = modPow(blinded % p, dP, p);
  const m2 = modPow(blinded % q, dQ, q);
  let h = ((m1 - m2) * qInv) % p;
  if (h < 0n) h += p;
  const sBlinded = m2 + h * q;
  const s = (sBlinded * rInv) % n;
  // A fault in the CRT computation would leak a factor of n through the signature.
  if (modPow(s, e, n) !== m) throw new Error('RSA signature failed its self-check');
  return s;
}

/** MGF1 (RFC 8017 B.2.1) XORed into `target` in place. */
function xorMgf1(hash: CHash, seed: Uint8Array, target: Uint8Array): void {
  const hLen = hash.outputLen;
  const input = new Uint8Array(seed.length + 4);
  input.set(seed, 0);
  for (let counter = 0, off = 0; off < target.length; counter++, off += hLen) {
    input[seed.length] = counter >>> 24;
    input[seed.length + 1] = (counter >>> 16) & 0xff;
    input[seed.length + 2] = (counter >>> 8) & 0xff;
    input[seed.length + 3] = counter & 0xff;
    const block = hash(input);
    const end = Math.min(hLen, target.length - off);
    for (let i = 0; i < end; i++) target[off + i]! ^= block[i]!;
  }
}

function pssHashInput(mHash: Uint8Array, salt: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + mHash.length + salt.length);
  m.set(mHash, 8);
  m.set(salt, 8 + mHash.length);
  return m;
}

/** RSASSA-PSS signature of `message` (RFC 8017 §8.1.1) with MGF1 over `hash` and a salt of the hash's length. */
export function rsaPssSign(
  key: RsaPrivateKey,
  hash: CHash,
  message: Uint8Array,
  randomFill: (out: Uint8Array) => void,
): Uint8Array {
  const hLen = hash.outputLen;
  const sLen = hLen;
  const emBits = key.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new TypeError(`RSA key of ${key.bits} bits is too small for PSS with this hash`);
  const salt = new Uint8Array(sLen);
  randomFill(salt);
  const h = hash(pssHashInput(hash(message), salt));
  const em = new Uint8Array(emLen);
  const dbLen = emLen - hLen - 1;
  em[dbLen - sLen - 1] = 0x01;
  em.set(salt, dbLen - sLen);
  xorMgf1(hash, h, em.subarray(0, dbLen));
  em[0]! &= 0xff >>> (8 * emLen - emBits);
  em.set(h, dbLen);
  em[emLen - 1] = 0xbc;
  return bigIntToBytes(privateOperation(key, bytesToBigInt(em), randomFill), key.size);
}

/** RSAVP1: the message representative, or undefined when the signature is out of range. */
function publicOperation(key: RsaPublicKey, signature: Uint8Array): bigint | undefined {
  if (signature.length !== key.size) return undefined;
  const s = bytesToBigInt(signature);
  if (s >= key.n) return undefined;
  return modPow(s, key.e, key.n);
}

/** Verifies an RSASSA-PSS signature (RFC 8017 §8.1.2) whose salt length equals the hash length. */
export function rsaPssVerify(key: RsaPublicKey, hash: CHash, message: Uint8Array, signature: Uint8Array): boolean {
  const m = publicOperation(key, signature);
  if (m === undefined) return false;
  const hLen = hash.outputLen;
  const sLen = hLen;
  const emBits = key.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) return false;
  if (m >> BigInt(8 * emLen) !== 0n) return false;
  const em = bigIntToBytes(m, emLen);
  if (em[emLen - 1] !== 0xbc) return false;
  const dbLen = emLen - hLen - 1;
  const topMask = 0xff >>> (8 * emLen - emBits);
  if ((em[0]! & ~topMask & 0xff) !== 0) return false;
  const h = em.slice(dbLen, dbLen + hLen);
  const db = em.subarray(0, dbLen);
  xorMgf1(hash, h, db);
  db[0]! &= topMask;
  const psLen = dbLen - sLen - 1;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const expected = hash(pssHashInput(hash(message), db.subarray(dbLen - sLen)));
  let diff = 0;
  for (let i = 0; i < hLen; i++) diff |= expected[i]! ^ h[i]!;
  return diff === 0;
}

/** DER DigestInfo prefixes for SHA-256/384/512 (RFC 8017 §9.2 note 1), keyed by digest length. */
const DIGEST_INFO_PREFIX = new Map<number, Uint8Array>([
  [32, Uint8Array.of(0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20)],
  [48, Uint8Array.of(0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30)],
  [64, Uint8Array.of(0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40)],
]);

/** The EMSA-PKCS1-v1_5 encoding (RFC 8017 §9.2) of `message` for a `size`-byte modulus. */
function pkcs1Encoding(hash: CHash, message: Uint8Array, size: number): Uint8Array | undefined {
  const prefix = DIGEST_INFO_PREFIX.get(hash.outputLen);
  if (!prefix) throw new TypeError(`no DigestInfo for a ${hash.outputLen}-byte hash`);
  const tLen = prefix.length + hash.outputLen;
  if (size < tLen + 11) return undefined;
  const em = new Uint8Array(size);
  em[1] = 0x01;
  em.fill(0xff, 2, size - tLen - 1);
  em.set(prefix, size - tLen);
  em.set(hash(message), size - hash.outputLen);
  return em;
}

/** Verifies an RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2.2). */
export function rsaPkcs1Verify(key: RsaPublicKey, hash: CHash, message: Uint8Array, signature: Uint8Array): boolean {
  const m = publicOperation(key, signature);
  if (m === undefined) return false;
  const expected = pkcs1Encoding(hash, message, key.size);
  if (!expected) return false;
  const em = bigIntToBytes(m, key.size);
  let diff = 0;
  for (let i = 0; i < em.length; i++) diff |= em[i]! ^ expected[i]!;
  return diff === 0;
}

/** RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2.1). TLS 1.3 never signs this way; kept for tests and certificates. */
export function rsaPkcs1Sign(
  key: RsaPrivateKey,
  hash: CHash,
  message: Uint8Array,
  randomFill: (out: Uint8Array) => void,
): Uint8Array {
  const em = pkcs1Encoding(hash, message, key.size);
  if (!em) throw new TypeError(`RSA key of ${key.bits} bits is too small for PKCS#1 v1.5 with this hash`);
  return bigIntToBytes(privateOperation(key, bytesToBigInt(em), randomFill), key.size);
}
