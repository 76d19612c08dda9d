/**
 * The crypto interface on the @noble libraries: pure JavaScript, so it runs wherever the
 * stack runs. AES-GCM, AES block and ChaCha20-Poly1305 from @noble/ciphers; SHA-2, HMAC and
 * HKDF from @noble/hashes; x25519, P-256/P-384 ECDH, ECDSA and Ed25519 from @noble/curves;
 * RSA (which noble lacks) from ./rsa.ts; key containers parsed by ./der.ts.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { extract as hkdfExtractNoble } from '@noble/hashes/hkdf.js';
import type { CHash } from '@noble/hashes/utils.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import {
  SignatureScheme,
  aeadKeyLength,
  hashLength,
  type Aead,
  type AeadAlgorithm,
  type CryptoBackend,
  type HashAlgorithm,
  type IncrementalHash,
  type KeyExchangeGroup,
  type KeyShare,
  type SignatureVerifier,
  type Signer,
} from './backend.js';
import { createNobleHeaderProtection } from './noble-header-protection.js';
import { DerReader, DerTag, oidToString, readAlgorithmIdentifier, type DerElement } from './der.js';
import {
  parseRsaPrivateKey,
  parseRsaPublicKey,
  rsaPkcs1Verify,
  rsaPssSign,
  rsaPssVerify,
  type RsaPrivateKey,
  type RsaPublicKey,
} from './rsa.js';

const TAG = 16;

function randomFill(out: Uint8Array): void {
  // getRandomValues fills at most 65536 bytes per call.
  for (let o = 0; o < out.length; o += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(o, Math.min(out.length, o + 65536)));
  }
}

function hashFunction(alg: HashAlgorithm): CHash {
  if (alg === 'sha256') return sha256;
  if (alg === 'sha384') return sha384;
  throw new TypeError(`unsupported hash algorithm ${String(alg)}`);
}

class NobleAesGcm implements Aead {
  private readonly key: Uint8Array;
  constructor(
    readonly algorithm: AeadAlgorithm,
    key: Uint8Array,
  ) {
    this.key = key.slice();
  }
  seal(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
    const out = gcm(this.key, nonce, aad).encrypt(src);
    dst.set(out, 0);
    return out.length;
  }
  open(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
    const out = this.decrypt(nonce, aad, src);
    if (out === undefined) return -1;
    dst.set(out, 0);
    return out.length;
  }
  decrypt(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array): Uint8Array | undefined {
    if (src.length < TAG) return undefined;
    try {
      return gcm(this.key, nonce, aad).decrypt(src);
    } catch {
      return undefined;
    }
  }
}

class NobleChaCha20Poly1305 implements Aead {
  readonly algorithm = 'chacha20-poly1305' as const;
  private readonly key: Uint8Array;
  constructor(key: Uint8Array) {
    this.key = key.slice();
  }
  seal(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
    const n = src.length + TAG;
    // noble copies src into the output first, then encrypts there: in-place works.
    chacha20poly1305(this.key, nonce, aad).encrypt(src, dst.subarray(0, n));
    return n;
  }
  open(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
    const n = src.length - TAG;
    if (n < 0) return -1;
    try {
      // The tag is checked before anything is written to dst.
      chacha20poly1305(this.key, nonce, aad).decrypt(src, dst.subarray(0, n));
    } catch {
      return -1;
    }
    return n;
  }
  decrypt(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array): Uint8Array | undefined {
    if (src.length < TAG) return undefined;
    try {
      return chacha20poly1305(this.key, nonce, aad).decrypt(src);
    } catch {
      return undefined;
    }
  }
}

interface NobleHashState {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
  clone(): NobleHashState;
}

class NobleIncrementalHash implements IncrementalHash {
  constructor(private readonly h: NobleHashState) {}
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digest(): Uint8Array {
    return this.h.clone().digest();
  }
  clone(): IncrementalHash {
    return new NobleIncrementalHash(this.h.clone());
  }
}

/** A fixed-length big-endian scalar, left-padded; TypeError when too long. */
function fixedScalar(priv: Uint8Array, length: number, group: string): Uint8Array {
  if (priv.length === length) return priv.slice();
  if (priv.length === 0 || priv.length > length) {
    throw new TypeError(`${group} private key must be at most ${length} bytes, got ${priv.length}`);
  }
  const out = new Uint8Array(length);
  out.set(priv, length - priv.length);
  return out;
}

class NobleX25519Share implements KeyShare {
  readonly group = 'x25519' as const;
  readonly publicKey: Uint8Array;
  constructor(private readonly priv: Uint8Array) {
    this.publicKey = x25519.getPublicKey(priv);
  }
  deriveSecret(peer: Uint8Array): Uint8Array | undefined {
    if (peer.length !== 32) return undefined;
    let s: Uint8Array;
    try {
      s = x25519.getSharedSecret(this.priv, peer);
    } catch {
      return undefined;
    }
    let acc = 0;
    for (let i = 0; i < s.length; i++) acc |= s[i]!;
    return acc === 0 ? undefined : s;
  }
}

type WeierstrassCurve = typeof p256;

const ECDH_CURVES: Record<string, { curve: WeierstrassCurve; scalarLength: number; pointLength: number }> = {
  secp256r1: { curve: p256, scalarLength: 32, pointLength: 65 },
  secp384r1: { curve: p384, scalarLength: 48, pointLength: 97 },
};

class NobleEcdhShare implements KeyShare {
  readonly publicKey: Uint8Array;
  constructor(
    readonly group: KeyExchangeGroup,
    private readonly curve: WeierstrassCurve,
    private readonly pointLength: number,
    private readonly priv: Uint8Array,
  ) {
    this.publicKey = curve.getPublicKey(priv, false);
  }
  deriveSecret(peer: Uint8Array): Uint8Array | undefined {
    // RFC 8446 §4.2.8.2: only the uncompressed form; the shared secret is the x coordinate.
    if (peer.length !== this.pointLength || peer[0] !== 0x04) return undefined;
    try {
      // fromBytes inside getSharedSecret checks the point is on the curve and not infinity.
      return this.curve.getSharedSecret(this.priv, peer, true).slice(1);
    } catch {
      return undefined;
    }
  }
}

// ---- Keys for signatures -------------------------------------------------------------------

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_ED25519 = '1.3.101.112';

interface EcCurveInfo {
  readonly curve: WeierstrassCurve;
  readonly scheme: number;
  readonly scalarLength: number;
}

const EC_CURVES_BY_OID: Record<string, EcCurveInfo> = {
  '1.2.840.10045.3.1.7': { curve: p256, scheme: SignatureScheme.ecdsa_secp256r1_sha256, scalarLength: 32 },
  '1.3.132.0.34': { curve: p384, scheme: SignatureScheme.ecdsa_secp384r1_sha384, scalarLength: 48 },
  '1.3.132.0.35': { curve: p521 as WeierstrassCurve, scheme: SignatureScheme.ecdsa_secp521r1_sha512, scalarLength: 66 },
};

function ecCurveFromParameters(params: DerElement | undefined): EcCurveInfo {
  if (!params || params.tag !== DerTag.ObjectIdentifier) throw new TypeError('unsupported EC key: parameters are not a named curve');
  const oid = oidToString(params.contents);
  const info = EC_CURVES_BY_OID[oid];
  if (!info) throw new TypeError(`unsupported EC curve ${oid}`);
  return info;
}

const PSS_SCHEMES: readonly number[] = [
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
];
const PKCS1_SCHEMES: readonly number[] = [
  SignatureScheme.rsa_pkcs1_sha256,
  SignatureScheme.rsa_pkcs1_sha384,
  SignatureScheme.rsa_pkcs1_sha512,
];

/** Hash for an RSA scheme and whether it is PSS, or undefined for a non-RSA scheme. */
function rsaSchemeParameters(scheme: number): { hash: CHash; pss: boolean } | undefined {
  switch (scheme) {
    case SignatureScheme.rsa_pss_rsae_sha256:
    case SignatureScheme.rsa_pss_pss_sha256:
      return { hash: sha256, pss: true };
    case SignatureScheme.rsa_pss_rsae_sha384:
      return { hash: sha384, pss: true };
    case SignatureScheme.rsa_pss_rsae_sha512:
      return { hash: sha512, pss: true };
    case SignatureScheme.rsa_pkcs1_sha256:
      return { hash: sha256, pss: false };
    case SignatureScheme.rsa_pkcs1_sha384:
      return { hash: sha384, pss: false };
    case SignatureScheme.rsa_pkcs1_sha512:
      return { hash: sha512, pss: false };
    default:
      return undefined;
  }
}

type PrivateKeyMaterial =
  | { kind: 'ec'; info: EcCurveInfo; scalar: Uint8Array }
  | { kind: 'ed25519'; seed: Uint8Array }
  | { kind: 'rsa' | 'rsa-pss'; key: RsaPrivateKey };

type PublicKeyMaterial =
  | { kind: 'ec'; info: EcCurveInfo; point: Uint8Array }
  | { kind: 'ed25519'; point: Uint8Array }
  | { kind: 'rsa' | 'rsa-pss'; key: RsaPublicKey };

/** PrivateKeyInfo (RFC 5208 §5) → key material. Throws TypeError. */
function parsePkcs8(der: Uint8Array): PrivateKeyMaterial {
  const outer = new DerReader(der);
  const pki = outer.readSequence();
  outer.expectEnd('PrivateKeyInfo');
  const version = pki.readSmallInteger();
  if (version !== 0 && version !== 1) throw new TypeError(`unsupported PKCS#8 version ${version}`);
  const alg = readAlgorithmIdentifier(pki);
  const privateKey = pki.read(DerTag.OctetString);
  // Optional attributes / public key (OneAsymmetricKey, RFC 5958) are ignored.
  switch (alg.oid) {
    case OID_EC_PUBLIC_KEY: {
      const info = ecCurveFromParameters(alg.parameters);
      // ECPrivateKey (RFC 5915 §3): SEQUENCE { version 1, privateKey OCTET STRING, [0] params, [1] publicKey }.
      const inner = new DerReader(privateKey);
      const ec = inner.readSequence();
      inner.expectEnd('ECPrivateKey');
      if (ec.readSmallInteger() !== 1) throw new TypeError('unsupported ECPrivateKey version');
      const scalar = fixedScalar(ec.read(DerTag.OctetString), info.scalarLength, 'EC');
      if (!info.curve.utils.isValidSecretKey(scalar)) throw new TypeError('invalid EC private key scalar');
      return { kind: 'ec', info, scalar };
    }
    case OID_ED25519: {
      // CurvePrivateKey (RFC 8410 §7): the 32-byte seed wrapped in an OCTET STRING.
      const inner = new DerReader(privateKey);
      const seed = inner.read(DerTag.OctetString);
      inner.expectEnd('CurvePrivateKey');
      if (seed.length !== 32) throw new TypeError(`Ed25519 private key must be 32 bytes, got ${seed.length}`);
      return { kind: 'ed25519', seed: seed.slice() };
    }
    case OID_RSA_ENCRYPTION:
      return { kind: 'rsa', key: parseRsaPrivateKey(privateKey) };
    case OID_RSASSA_PSS:
      return { kind: 'rsa-pss', key: parseRsaPrivateKey(privateKey) };
    default:
      throw new TypeError(`unsupported private key algorithm ${alg.oid}`);
  }
}

/** SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) → key material. Throws TypeError. */
function parseSpki(der: Uint8Array): PublicKeyMaterial {
  const outer = new DerReader(der);
  const spki = outer.readSequence();
  outer.expectEnd('SubjectPublicKeyInfo');
  const alg = readAlgorithmIdentifier(spki);
  const bits = spki.readBitStringBytes();
  spki.expectEnd('SubjectPublicKeyInfo');
  switch (alg.oid) {
    case OID_EC_PUBLIC_KEY: {
      const info = ecCurveFromParameters(alg.parameters);
      try {
        info.curve.Point.fromBytes(bits).assertValidity();
      } catch {
        throw new TypeError('invalid EC public key: not a point on the curve');
      }
      return { kind: 'ec', info, point: bits.slice() };
    }
    case OID_ED25519:
      if (bits.length !== 32) throw new TypeError(`Ed25519 public key must be 32 bytes, got ${bits.length}`);
      return { kind: 'ed25519', point: bits.slice() };
    case OID_RSA_ENCRYPTION:
      return { kind: 'rsa', key: parseRsaPublicKey(bits) };
    case OID_RSASSA_PSS:
      return { kind: 'rsa-pss', key: parseRsaPublicKey(bits) };
    default:
      throw new TypeError(`unsupported public key algorithm ${alg.oid}`);
  }
}

function schemesFor(kind: PrivateKeyMaterial['kind'], ec: EcCurveInfo | undefined, forSigning: boolean): number[] {
  switch (kind) {
    case 'ec':
      return [ec!.scheme];
    case 'ed25519':
      return [SignatureScheme.ed25519];
    case 'rsa':
      // PKCS#1 v1.5 is for certificate signatures only: TLS 1.3 never signs with it.
      return forSigning ? [...PSS_SCHEMES] : [...PSS_SCHEMES, ...PKCS1_SCHEMES];
    case 'rsa-pss':
      return [SignatureScheme.rsa_pss_pss_sha256];
  }
}

class NobleSigner implements Signer {
  readonly schemes: readonly number[];
  constructor(private readonly key: PrivateKeyMaterial) {
    this.schemes = schemesFor(key.kind, key.kind === 'ec' ? key.info : undefined, true);
  }
  sign(scheme: number, message: Uint8Array): Uint8Array {
    if (!this.schemes.includes(scheme)) {
      throw new TypeError(`key of type ${this.key.kind} cannot sign with scheme 0x${scheme.toString(16)}`);
    }
    const k = this.key;
    switch (k.kind) {
      case 'ec':
        // The curve's own hash (SHA-256/384/512) is applied; DER-encoded as TLS requires.
        return k.info.curve.sign(message, k.scalar, { format: 'der' });
      case 'ed25519':
        return ed25519.sign(message, k.seed);
      case 'rsa':
      case 'rsa-pss':
        return rsaPssSign(k.key, rsaSchemeParameters(scheme)!.hash, message, randomFill);
    }
  }
}

class NobleVerifier implements SignatureVerifier {
  readonly schemes: readonly number[];
  constructor(private readonly key: PublicKeyMaterial) {
    this.schemes = schemesFor(key.kind, key.kind === 'ec' ? key.info : undefined, false);
  }
  verify(scheme: number, message: Uint8Array, signature: Uint8Array): boolean {
    if (!this.schemes.includes(scheme)) return false;
    const k = this.key;
    try {
      switch (k.kind) {
        case 'ec':
          // OpenSSL accepts high-S signatures, so must we.
          return k.info.curve.verify(signature, message, k.point, { format: 'der', lowS: false });
        case 'ed25519':
          // RFC 8032 rules (as OpenSSL), not the laxer ZIP-215 ones.
          return ed25519.verify(signature, message, k.point, { zip215: false });
        case 'rsa':
        case 'rsa-pss': {
          const p = rsaSchemeParameters(scheme)!;
          return p.pss ? rsaPssVerify(k.key, p.hash, message, signature) : rsaPkcs1Verify(k.key, p.hash, message, signature);
        }
      }
    } catch {
      return false;
    }
  }
}

function hmacBytes(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(hashFunction(alg), key, data);
}

export const nobleBackend: CryptoBackend = {
  name: '@noble',
  createAead(alg, key) {
    if (key.length !== aeadKeyLength(alg)) {
      throw new TypeError(`${alg} needs a ${aeadKeyLength(alg)}-byte key, got ${key.length}`);
    }
    if (alg === 'chacha20-poly1305') return new NobleChaCha20Poly1305(key);
    if (alg === 'aes-128-gcm' || alg === 'aes-256-gcm') return new NobleAesGcm(alg, key);
    throw new TypeError(`unsupported AEAD ${String(alg)}`);
  },
  createHeaderProtection: createNobleHeaderProtection,
  hash: (alg, data) => hashFunction(alg)(data),
  createHash: (alg) => new NobleIncrementalHash(hashFunction(alg).create() as unknown as NobleHashState),
  hmac: hmacBytes,
  hkdfExtract: (alg, salt, ikm) => hkdfExtractNoble(hashFunction(alg), ikm, salt.length ? salt : new Uint8Array(hashLength(alg))),
  hkdfExpand(alg, prk, info, length) {
    const hash = hashFunction(alg);
    const hl = hash.outputLen;
    if (!Number.isInteger(length) || length < 0 || length > 255 * hl) {
      throw new TypeError(`HKDF-Expand length ${length} must be an integer in 0..255*HashLen`);
    }
    const out = new Uint8Array(length);
    const counter = new Uint8Array(1);
    let t: Uint8Array = new Uint8Array(0);
    for (let i = 1, o = 0; o < length; i++, o += hl) {
      counter[0] = i;
      t = hmac.create(hash, prk).update(t).update(info).update(counter).digest();
      out.set(t.subarray(0, Math.min(hl, length - o)), o);
    }
    return out;
  },
  generateKeyShare(group) {
    if (group === 'x25519') {
      const priv = new Uint8Array(32);
      randomFill(priv);
      return new NobleX25519Share(priv);
    }
    const c = ECDH_CURVES[group];
    if (!c) throw new TypeError(`unsupported group ${String(group)}`);
    return new NobleEcdhShare(group, c.curve, c.pointLength, c.curve.utils.randomSecretKey());
  },
  keyShareFromPrivateKey(group, priv) {
    if (group === 'x25519') {
      if (priv.length !== 32) throw new TypeError(`x25519 private key must be 32 bytes, got ${priv.length}`);
      return new NobleX25519Share(priv.slice());
    }
    const c = ECDH_CURVES[group];
    if (!c) throw new TypeError(`unsupported group ${String(group)}`);
    const scalar = fixedScalar(priv, c.scalarLength, group);
    if (!c.curve.utils.isValidSecretKey(scalar)) throw new TypeError(`${group} private key is out of range`);
    return new NobleEcdhShare(group, c.curve, c.pointLength, scalar);
  },
  createSigner: (pkcs8Der) => new NobleSigner(parsePkcs8(pkcs8Der)),
  createVerifier: (spkiDer) => new NobleVerifier(parseSpki(spkiDer)),
  randomFill,
};
