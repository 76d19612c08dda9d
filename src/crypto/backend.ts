/**
 * The one small crypto interface every layer uses. Two implementations exist: `node:crypto`
 * (./node-backend.ts) and the @noble libraries (./noble-backend.ts); `defaultCrypto`
 * (./index.ts) picks, per primitive, whichever is faster on Node.
 *
 * Conventions:
 * - No method throws for bad *input from the network*: authentication failure is a return
 *   value (`open` → -1, `verify` → false, `deriveSecret` → undefined). Misuse by the caller
 *   (wrong key length, unknown algorithm) throws TypeError.
 * - Objects created per key (`Aead`, `HeaderProtection`) are meant to be kept for the key's
 *   lifetime and reused for every packet.
 */

export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type HeaderProtectionAlgorithm = 'aes-128-ecb' | 'aes-256-ecb' | 'chacha20';
export type HashAlgorithm = 'sha256' | 'sha384';
export type KeyExchangeGroup = 'x25519' | 'secp256r1' | 'secp384r1';

/** TLS SignatureScheme code points (RFC 8446 §4.2.3) the stack can sign or verify with. */
export const SignatureScheme = {
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
  rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
  rsa_pss_pss_sha256: 0x0809,
} as const;

/** An AEAD bound to one key. The tag is always 16 bytes. */
export interface Aead {
  readonly algorithm: AeadAlgorithm;
  /**
   * Encrypts `src` and writes ciphertext followed by the tag into `dst`
   * (`dst.length >= src.length + 16`). `dst` may be the same memory as `src` at the same
   * offset (in-place). Returns the number of bytes written (`src.length + 16`).
   */
  seal(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, dst: Uint8Array): number;
  /**
   * Decrypts `src` (ciphertext followed by the tag) into `dst`
   * (`dst.length >= src.length - 16`, same in-place rule). Returns the plaintext length,
   * or -1 when the input is shorter than a tag or authentication fails.
   */
  open(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, dst: Uint8Array): number;
  /**
   * Decrypts `src` (ciphertext followed by the tag) and returns the plaintext — a view of
   * memory the caller may keep (fresh, or `src` itself decrypted in place) — or undefined when
   * authentication fails. Lets a receiver use the plaintext without copying it back.
   */
  decrypt(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array): Uint8Array | undefined;
}

/** Header protection (RFC 9001 §5.4) bound to one hp key. */
export interface HeaderProtection {
  readonly algorithm: HeaderProtectionAlgorithm;
  /** Writes the 5-byte mask for the 16-byte `sample` into `out[0..5)`. */
  mask(sample: Uint8Array, out: Uint8Array): void;
}

/** An incremental hash (TLS transcript). */
export interface IncrementalHash {
  update(data: Uint8Array): void;
  /** Digest of everything so far; the hash can still be updated afterwards. */
  digest(): Uint8Array;
  /** An independent copy of the current state. */
  clone(): IncrementalHash;
}

/** One side of an ephemeral key exchange. */
export interface KeyShare {
  readonly group: KeyExchangeGroup;
  /** The public key as sent in a TLS KeyShareEntry (x25519: 32 bytes; NIST: uncompressed point). */
  readonly publicKey: Uint8Array;
  /** The shared secret, or undefined when the peer's key is invalid (bad length, not on the curve, all-zero x25519 result). */
  deriveSecret(peerPublicKey: Uint8Array): Uint8Array | undefined;
}

/** A private key able to produce TLS signatures. */
export interface Signer {
  /** Schemes this key can sign with, in preference order. */
  readonly schemes: readonly number[];
  /** Signs `message` (the whole content; hashing is part of the scheme). Throws TypeError for a scheme not in `schemes`. */
  sign(scheme: number, message: Uint8Array): Uint8Array;
}

/** A public key (from a certificate's SubjectPublicKeyInfo) able to check TLS signatures. */
export interface SignatureVerifier {
  /** Schemes this key can verify. */
  readonly schemes: readonly number[];
  /** True when `signature` is a valid `scheme` signature of `message`; false otherwise (never throws for bad signatures). */
  verify(scheme: number, message: Uint8Array, signature: Uint8Array): boolean;
}

export interface CryptoBackend {
  readonly name: string;
  createAead(algorithm: AeadAlgorithm, key: Uint8Array): Aead;
  createHeaderProtection(algorithm: HeaderProtectionAlgorithm, key: Uint8Array): HeaderProtection;
  hash(algorithm: HashAlgorithm, data: Uint8Array): Uint8Array;
  createHash(algorithm: HashAlgorithm): IncrementalHash;
  hmac(algorithm: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfExtract(algorithm: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  hkdfExpand(algorithm: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** A fresh ephemeral key pair. */
  generateKeyShare(group: KeyExchangeGroup): KeyShare;
  /** A key pair from a given private key (x25519: 32 raw bytes; NIST: the big-endian scalar). For test vectors. */
  keyShareFromPrivateKey(group: KeyExchangeGroup, privateKey: Uint8Array): KeyShare;
  /** A signer from a PKCS#8 DER private key (EC P-256/P-384, RSA, Ed25519). Throws TypeError for unsupported keys. */
  createSigner(pkcs8Der: Uint8Array): Signer;
  /** A verifier from a SubjectPublicKeyInfo DER. Throws TypeError for unsupported key types. */
  createVerifier(spkiDer: Uint8Array): SignatureVerifier;
  /** Fills `out` with cryptographically secure random bytes. */
  randomFill(out: Uint8Array): void;
}

/** Output length in bytes of a hash algorithm. */
export function hashLength(algorithm: HashAlgorithm): number {
  return algorithm === 'sha256' ? 32 : 48;
}

/** AEAD key length in bytes. */
export function aeadKeyLength(algorithm: AeadAlgorithm): number {
  return algorithm === 'aes-128-gcm' ? 16 : 32;
}
