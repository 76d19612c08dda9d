/**
 * The node:crypto implementation of the crypto interface. node:crypto is part of Node itself
 * (OpenSSL inside the runtime), not a native addon.
 */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  randomFillSync,
  sign as nodeSign,
  verify as nodeVerify,
  constants,
  type Cipher,
  type CipherGCM,
  type Hash,
  type KeyObject,
} from 'node:crypto';
import {
  SignatureScheme,
  hashLength,
  aeadKeyLength,
  type Aead,
  type AeadAlgorithm,
  type CryptoBackend,
  type HashAlgorithm,
  type HeaderProtection,
  type HeaderProtectionAlgorithm,
  type IncrementalHash,
  type KeyExchangeGroup,
  type KeyShare,
  type SignatureVerifier,
  type Signer,
} from './backend.js';

const TAG = 16;
const ZERO5 = new Uint8Array(5);
/** Shared by every AEAD call, so sealing a packet does not allocate an options object. */
const AEAD_OPTIONS = { authTagLength: TAG } as const;

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

class NodeAead implements Aead {
  private readonly key: KeyObject;
  private readonly cipherName: string;
  constructor(
    readonly algorithm: AeadAlgorithm,
    key: Uint8Array,
  ) {
    if (key.length !== aeadKeyLength(algorithm)) {
      throw new TypeError(`${algorithm} needs a ${aeadKeyLength(algorithm)}-byte key, got ${key.length}`);
    }
    this.key = createSecretKey(asBuffer(key));
    this.cipherName = algorithm;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
    const c = createCipheriv(this.cipherName as 'aes-128-gcm', this.key, nonce, AEAD_OPTIONS) as CipherGCM;
    c.setAAD(aad);
    const n = src.length;
    const ct = c.update(src);
    c.final();
    dst.set(ct, 0);
    dst.set(c.getAuthTag(), n);
    return n + TAG;
  }

  open(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
    const pt = this.decrypt(nonce, aad, src);
    if (pt === undefined) return -1;
    dst.set(pt, 0);
    return pt.length;
  }

  decrypt(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array): Uint8Array | undefined {
    const n = src.length - TAG;
    if (n < 0) return undefined;
    const d = createDecipheriv(this.cipherName as 'aes-128-gcm', this.key, nonce, AEAD_OPTIONS);
    d.setAuthTag(src.subarray(n));
    d.setAAD(aad);
    const pt = d.update(src.subarray(0, n));
    try {
      d.final();
    } catch {
      return undefined;
    }
    return pt;
  }
}

class NodeAesHeaderProtection implements HeaderProtection {
  private readonly ecb: Cipher;
  constructor(
    readonly algorithm: HeaderProtectionAlgorithm,
    key: Uint8Array,
  ) {
    const want = algorithm === 'aes-128-ecb' ? 16 : 32;
    if (key.length !== want) throw new TypeError(`${algorithm} header protection needs a ${want}-byte key, got ${key.length}`);
    // ECB on whole blocks keeps no state between calls, so one cipher object serves every packet.
    this.ecb = createCipheriv(algorithm, asBuffer(key), null);
    this.ecb.setAutoPadding(false);
  }
  mask(sample: Uint8Array, out: Uint8Array): void {
    const block = this.ecb.update(sample.subarray(0, 16));
    for (let i = 0; i < 5; i++) out[i] = block[i]!;
  }
}

class NodeChaChaHeaderProtection implements HeaderProtection {
  readonly algorithm = 'chacha20' as const;
  private readonly key: KeyObject;
  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new TypeError(`chacha20 header protection needs a 32-byte key, got ${key.length}`);
    this.key = createSecretKey(asBuffer(key));
  }
  mask(sample: Uint8Array, out: Uint8Array): void {
    // node's chacha20 IV is the 4-byte little-endian counter followed by the 12-byte nonce,
    // which is exactly the sample layout RFC 9001 §5.4.4 prescribes.
    const m = createCipheriv('chacha20', this.key, sample.subarray(0, 16)).update(ZERO5);
    for (let i = 0; i < 5; i++) out[i] = m[i]!;
  }
}

class NodeIncrementalHash implements IncrementalHash {
  constructor(private readonly h: Hash) {}
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digest(): Uint8Array {
    return new Uint8Array(this.h.copy().digest());
  }
  clone(): IncrementalHash {
    return new NodeIncrementalHash(this.h.copy());
  }
}

function b64url(u: Uint8Array): string {
  return asBuffer(u).toString('base64url');
}

const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

class NodeX25519Share implements KeyShare {
  readonly group = 'x25519' as const;
  readonly publicKey: Uint8Array;
  constructor(private readonly priv: KeyObject) {
    const jwk = createPublicKey(priv).export({ format: 'jwk' });
    this.publicKey = new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
  }
  deriveSecret(peer: Uint8Array): Uint8Array | undefined {
    if (peer.length !== 32) return undefined;
    try {
      const pub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(peer) }, format: 'jwk' });
      const s = new Uint8Array(diffieHellman({ privateKey: this.priv, publicKey: pub }));
      let acc = 0;
      for (const b of s) acc |= b;
      return acc === 0 ? undefined : s;
    } catch {
      return undefined;
    }
  }
}

class NodeEcdhShare implements KeyShare {
  readonly publicKey: Uint8Array;
  constructor(
    readonly group: KeyExchangeGroup,
    private readonly ecdh: ReturnType<typeof createECDH>,
  ) {
    this.publicKey = new Uint8Array(ecdh.getPublicKey());
  }
  deriveSecret(peer: Uint8Array): Uint8Array | undefined {
    const len = this.group === 'secp256r1' ? 65 : 97;
    if (peer.length !== len || peer[0] !== 0x04) return undefined;
    try {
      return new Uint8Array(this.ecdh.computeSecret(asBuffer(peer)));
    } catch {
      return undefined;
    }
  }
}

const CURVE: Record<string, string> = { secp256r1: 'prime256v1', secp384r1: 'secp384r1' };

interface SchemeParams {
  digest: string | null;
  padding?: number;
  saltLength?: number;
}

const SCHEMES = new Map<number, SchemeParams>([
  [SignatureScheme.ecdsa_secp256r1_sha256, { digest: 'sha256' }],
  [SignatureScheme.ecdsa_secp384r1_sha384, { digest: 'sha384' }],
  [SignatureScheme.ecdsa_secp521r1_sha512, { digest: 'sha512' }],
  [SignatureScheme.rsa_pss_rsae_sha256, { digest: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
  [SignatureScheme.rsa_pss_rsae_sha384, { digest: 'sha384', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }],
  [SignatureScheme.rsa_pss_rsae_sha512, { digest: 'sha512', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }],
  [SignatureScheme.rsa_pss_pss_sha256, { digest: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
  [SignatureScheme.rsa_pkcs1_sha256, { digest: 'sha256', padding: constants.RSA_PKCS1_PADDING }],
  [SignatureScheme.rsa_pkcs1_sha384, { digest: 'sha384', padding: constants.RSA_PKCS1_PADDING }],
  [SignatureScheme.rsa_pkcs1_sha512, { digest: 'sha512', padding: constants.RSA_PKCS1_PADDING }],
  [SignatureScheme.ed25519, { digest: null }],
]);

/** Schemes a key of this type can produce or check. `forSigning` leaves out PKCS#1 v1.5, which TLS 1.3 forbids in CertificateVerify. */
function schemesFor(key: KeyObject, forSigning: boolean): number[] {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return [SignatureScheme.ecdsa_secp256r1_sha256];
      if (curve === 'secp384r1') return [SignatureScheme.ecdsa_secp384r1_sha384];
      if (curve === 'secp521r1') return [SignatureScheme.ecdsa_secp521r1_sha512];
      throw new TypeError(`unsupported EC curve ${curve ?? '(unknown)'}`);
    }
    case 'rsa': {
      const pss = [SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.rsa_pss_rsae_sha384, SignatureScheme.rsa_pss_rsae_sha512];
      return forSigning
        ? pss
        : [...pss, SignatureScheme.rsa_pkcs1_sha256, SignatureScheme.rsa_pkcs1_sha384, SignatureScheme.rsa_pkcs1_sha512];
    }
    case 'rsa-pss':
      return [SignatureScheme.rsa_pss_pss_sha256];
    case 'ed25519':
      return [SignatureScheme.ed25519];
    default:
      throw new TypeError(`unsupported key type ${key.asymmetricKeyType ?? '(unknown)'}`);
  }
}

function nodeKeyOptions(key: KeyObject, p: SchemeParams) {
  const o: { key: KeyObject; padding?: number; saltLength?: number; dsaEncoding?: 'der' } = { key };
  if (p.padding !== undefined) o.padding = p.padding;
  if (p.saltLength !== undefined) o.saltLength = p.saltLength;
  if (key.asymmetricKeyType === 'ec') o.dsaEncoding = 'der';
  return o;
}

class NodeSigner implements Signer {
  readonly schemes: readonly number[];
  constructor(private readonly key: KeyObject) {
    this.schemes = schemesFor(key, true);
  }
  sign(scheme: number, message: Uint8Array): Uint8Array {
    const p = SCHEMES.get(scheme);
    if (!p || !this.schemes.includes(scheme)) {
      throw new TypeError(`key of type ${this.key.asymmetricKeyType} cannot sign with scheme 0x${scheme.toString(16)}`);
    }
    return new Uint8Array(nodeSign(p.digest, message, nodeKeyOptions(this.key, p)));
  }
}

class NodeVerifier implements SignatureVerifier {
  readonly schemes: readonly number[];
  constructor(private readonly key: KeyObject) {
    this.schemes = schemesFor(key, false);
  }
  verify(scheme: number, message: Uint8Array, signature: Uint8Array): boolean {
    const p = SCHEMES.get(scheme);
    if (!p || !this.schemes.includes(scheme)) return false;
    try {
      return nodeVerify(p.digest, message, nodeKeyOptions(this.key, p), signature);
    } catch {
      return false;
    }
  }
}

function hmacBytes(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(alg, key).update(data).digest());
}

export const nodeBackend: CryptoBackend = {
  name: 'node:crypto',
  createAead: (alg, key) => new NodeAead(alg, key),
  createHeaderProtection: (alg, key) =>
    alg === 'chacha20' ? new NodeChaChaHeaderProtection(key) : new NodeAesHeaderProtection(alg, key),
  hash: (alg, data) => new Uint8Array(createHash(alg).update(data).digest()),
  createHash: (alg) => new NodeIncrementalHash(createHash(alg)),
  hmac: hmacBytes,
  hkdfExtract: (alg, salt, ikm) => hmacBytes(alg, salt.length ? salt : new Uint8Array(hashLength(alg)), ikm),
  hkdfExpand(alg, prk, info, length) {
    const hl = hashLength(alg);
    if (length > 255 * hl) throw new TypeError(`HKDF-Expand length ${length} exceeds 255*HashLen`);
    const out = new Uint8Array(length);
    let t = new Uint8Array(0);
    let o = 0;
    for (let i = 1; o < length; i++) {
      const h = createHmac(alg, prk);
      h.update(t);
      h.update(info);
      h.update(Uint8Array.of(i));
      t = new Uint8Array(h.digest());
      out.set(t.subarray(0, Math.min(hl, length - o)), o);
      o += hl;
    }
    return out;
  },
  generateKeyShare(group) {
    if (group === 'x25519') return new NodeX25519Share(generateKeyPairSync('x25519').privateKey);
    const curve = CURVE[group];
    if (!curve) throw new TypeError(`unsupported group ${group}`);
    const ecdh = createECDH(curve);
    ecdh.generateKeys();
    return new NodeEcdhShare(group, ecdh);
  },
  keyShareFromPrivateKey(group, priv) {
    if (group === 'x25519') {
      if (priv.length !== 32) throw new TypeError(`x25519 private key must be 32 bytes, got ${priv.length}`);
      const der = Buffer.concat([X25519_PKCS8_PREFIX, asBuffer(priv)]);
      return new NodeX25519Share(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    }
    const curve = CURVE[group];
    if (!curve) throw new TypeError(`unsupported group ${group}`);
    const ecdh = createECDH(curve);
    ecdh.setPrivateKey(asBuffer(priv));
    return new NodeEcdhShare(group, ecdh);
  },
  createSigner(pkcs8Der) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: asBuffer(pkcs8Der), format: 'der', type: 'pkcs8' });
    } catch (e) {
      throw new TypeError(`not a usable PKCS#8 private key: ${(e as Error).message}`);
    }
    return new NodeSigner(key);
  },
  createVerifier(spkiDer) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: asBuffer(spkiDer), format: 'der', type: 'spki' });
    } catch (e) {
      throw new TypeError(`not a usable SubjectPublicKeyInfo: ${(e as Error).message}`);
    }
    return new NodeVerifier(key);
  },
  randomFill(out) {
    randomFillSync(out);
  },
};
