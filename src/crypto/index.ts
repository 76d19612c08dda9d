export * from './backend.js';
export { nodeBackend } from './node-backend.js';
export { hkdfLabel, hkdfExpandLabel } from './hkdf-label.js';
import { nodeBackend } from './node-backend.js';
import { createNobleHeaderProtection } from './noble-header-protection.js';
import type { CryptoBackend } from './backend.js';

/**
 * The backend used when none is given: per primitive, whichever of node:crypto and @noble is
 * faster on Node. Measured with `npm run bench:crypto` (Node 20.20, 2-core VM shared with
 * other work, median of 7 rounds; ranges over three runs):
 *
 * - AEAD seal/open of a 1200-byte packet: node:crypto, 6.5–16 µs, against @noble's 26–230 µs
 *   (node's cost is mostly creating the per-packet cipher object, whether the key is a
 *   KeyObject or raw bytes; noble's GCM rebuilds its GHASH tables on every call).
 * - Header-protection mask: JavaScript (./noble-header-protection.ts) — AES block with a
 *   per-key schedule 0.3–0.6 µs against node's reused ECB cipher 1.0–1.9 µs; one ChaCha20
 *   block 0.2–0.4 µs against node's per-packet chacha20 cipher 4.7–6.4 µs.
 * - Hashes, transcript hashing, HMAC, HKDF: node:crypto, 1.1–4× faster.
 * - Key exchange (x25519, P-256, P-384), ECDSA, Ed25519, RSA: node:crypto, 1.6–39× faster.
 *
 * The @noble backend itself (./noble-backend.ts) is for runtimes without node:crypto; import
 * it directly to use it.
 */
export const defaultCrypto: CryptoBackend = {
  name: 'default',
  createAead: (algorithm, key) => nodeBackend.createAead(algorithm, key),
  createHeaderProtection: (algorithm, key) => createNobleHeaderProtection(algorithm, key),
  hash: (algorithm, data) => nodeBackend.hash(algorithm, data),
  createHash: (algorithm) => nodeBackend.createHash(algorithm),
  hmac: (algorithm, key, data) => nodeBackend.hmac(algorithm, key, data),
  hkdfExtract: (algorithm, salt, ikm) => nodeBackend.hkdfExtract(algorithm, salt, ikm),
  hkdfExpand: (algorithm, prk, info, length) => nodeBackend.hkdfExpand(algorithm, prk, info, length),
  generateKeyShare: (group) => nodeBackend.generateKeyShare(group),
  keyShareFromPrivateKey: (group, privateKey) => nodeBackend.keyShareFromPrivateKey(group, privateKey),
  createSigner: (pkcs8Der) => nodeBackend.createSigner(pkcs8Der),
  createVerifier: (spkiDer) => nodeBackend.createVerifier(spkiDer),
  randomFill: (out) => nodeBackend.randomFill(out),
};
