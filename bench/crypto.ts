/**
 * Crypto backend benchmark: `npm run bench:crypto`.
 *
 * Per backend and per QUIC cipher suite: ns per 1200-byte packet for AEAD seal and open, and
 * ns per header-protection mask; then the handshake primitives (hashing, HKDF, key exchange,
 * signatures). Both backends run in the same process; every row is warmed up, then timed in
 * several rounds, and the median round is reported. The last column names the faster backend,
 * which is what `defaultCrypto` (src/crypto/index.ts) is built from.
 */
import { generateKeyPairSync } from 'node:crypto';
import { nodeBackend } from '../src/crypto/node-backend.js';
import { nobleBackend } from '../src/crypto/noble-backend.js';
import { defaultCrypto } from '../src/crypto/index.js';
import { SignatureScheme, type AeadAlgorithm, type CryptoBackend, type HeaderProtectionAlgorithm } from '../src/crypto/backend.js';

const PACKET = 1200;
const ROUNDS = 7;
/** Target duration of one timed round. */
const ROUND_MS = 60;

let sink = 0;


/** Median ns per call of `fn` over ROUNDS rounds, after warming up and calibrating the round size. */
function measure(fn: () => number | void): number {
  // Warm-up and calibration: run until ~ROUND_MS has passed, to learn the per-call cost.
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ROUND_MS) * 1_000_000n;
  while (process.hrtime.bigint() - start < budget || calls < 3) {
    sink ^= Number(fn() ?? 0);
    calls++;
  }
  const perCall = Number(process.hrtime.bigint() - start) / calls;
  const n = Math.max(3, Math.round((ROUND_MS * 1e6) / perCall));
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink ^= Number(fn() ?? 0);
    rounds.push(Number(process.hrtime.bigint() - t0) / n);
  }
  rounds.sort((a, b) => a - b);
  return rounds[ROUNDS >> 1]!;
}

interface Row {
  name: string;
  results: number[];
}

function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e4) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${Math.round(ns)} ns`;
}

function printTable(title: string, backends: readonly CryptoBackend[], rows: readonly Row[]): void {
  const nameWidth = Math.max(...rows.map((r) => r.name.length), 10);
  const colWidth = 14;
  console.log(`\n${title}`);
  const header = 'primitive'.padEnd(nameWidth) + backends.map((b) => b.name.padStart(colWidth)).join('') + '  faster';
  console.log(header);
  console.log('-'.repeat(header.length + 8));
  for (const r of rows) {
    // The candidates are node:crypto and @noble; a third column (the default composite) is shown, not ranked.
    const best = r.results[1]! < r.results[0]! ? 1 : 0;
    const ratio = r.results[1 - best]! / r.results[best]!;
    console.log(
      r.name.padEnd(nameWidth) +
        r.results.map((v) => formatNs(v).padStart(colWidth)).join('') +
        `  ${backends[best]!.name} (×${ratio.toFixed(1)})`,
    );
  }
}

const SUITES: readonly { name: string; aead: AeadAlgorithm; hp: HeaderProtectionAlgorithm; keyLength: number }[] = [
  { name: 'AES-128-GCM', aead: 'aes-128-gcm', hp: 'aes-128-ecb', keyLength: 16 },
  { name: 'AES-256-GCM', aead: 'aes-256-gcm', hp: 'aes-256-ecb', keyLength: 32 },
  { name: 'ChaCha20-Poly1305', aead: 'chacha20-poly1305', hp: 'chacha20', keyLength: 32 },
];

function packetRows(backends: readonly CryptoBackend[]): Row[] {
  const rows: Row[] = [];
  const aad = new Uint8Array(25).fill(0xc3);
  const nonce = new Uint8Array(12);
  for (const s of SUITES) {
    const key = new Uint8Array(s.keyLength).fill(7);
    const seal: number[] = [];
    const open: number[] = [];
    const mask: number[] = [];
    for (const b of backends) {
      const aead = b.createAead(s.aead, key);
      // A datagram-sized buffer, sealed and opened in place at an unaligned offset as the stack does.
      const buf = new Uint8Array(1500);
      const payload = buf.subarray(25, 25 + PACKET);
      const sealed = buf.subarray(25, 25 + PACKET + 16);
      let pn = 0;
      seal.push(
        measure(() => {
          nonce[11] = pn++ & 0xff;
          return aead.seal(nonce, aad, payload, sealed);
        }),
      );
      // Open a fixed valid packet; re-copy it each time since opening in place overwrites it.
      const original = new Uint8Array(PACKET + 16);
      nonce[11] = 0;
      aead.seal(nonce, aad, new Uint8Array(PACKET), original);
      const work = new Uint8Array(1500);
      const ct = work.subarray(25, 25 + PACKET + 16);
      const pt = work.subarray(25, 25 + PACKET);
      open.push(
        measure(() => {
          ct.set(original);
          return aead.open(nonce, aad, ct, pt);
        }),
      );
      const hp = b.createHeaderProtection(s.hp, key);
      const out = new Uint8Array(5);
      const sample = buf.subarray(29, 45);
      mask.push(
        measure(() => {
          sample[0]!++;
          hp.mask(sample, out);
          return out[0];
        }),
      );
    }
    rows.push({ name: `${s.name} seal ${PACKET} B`, results: seal });
    rows.push({ name: `${s.name} open ${PACKET} B`, results: open });
    rows.push({ name: `${s.name} hp mask`, results: mask });
  }
  return rows;
}

function handshakeRows(backends: readonly CryptoBackend[]): Row[] {
  const rows: Row[] = [];
  const add = (name: string, fn: (b: CryptoBackend) => () => unknown) =>
    rows.push({ name, results: backends.map((b) => measure(fn(b) as () => void)) });
  const kb = new Uint8Array(1024).fill(1);
  const secret = new Uint8Array(32).fill(2);
  const info = new Uint8Array(20).fill(3);
  add('sha256 1 KB', (b) => () => b.hash('sha256', kb));
  // A TLS 1.3 server's transcript: ClientHello, ServerHello, EncryptedExtensions, Certificate,
  // CertificateVerify, two Finished; a digest after each message.
  const messages = [250, 90, 80, 1800, 264, 36, 36].map((n) => new Uint8Array(n).fill(n & 0xff));
  add('transcript: 7 msgs, 7 digests', (b) => () => {
    const h = b.createHash('sha256');
    let x = 0;
    for (const m of messages) {
      h.update(m);
      x ^= h.digest()[0]!;
    }
    return x;
  });
  add('hmac sha256 32 B', (b) => () => b.hmac('sha256', secret, secret));
  add('hkdfExtract sha256', (b) => () => b.hkdfExtract('sha256', secret, secret));
  add('hkdfExpand sha256 32 B', (b) => () => b.hkdfExpand('sha256', secret, info, 32));
  for (const g of ['x25519', 'secp256r1', 'secp384r1'] as const) {
    add(`${g} generate+derive`, (b) => {
      const peer = b.generateKeyShare(g).publicKey;
      return () => b.generateKeyShare(g).deriveSecret(peer);
    });
  }
  const keys = [
    ['ECDSA P-256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), SignatureScheme.ecdsa_secp256r1_sha256],
    ['ECDSA P-384', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), SignatureScheme.ecdsa_secp384r1_sha384],
    ['Ed25519', generateKeyPairSync('ed25519'), SignatureScheme.ed25519],
    ['RSA-2048 PSS', generateKeyPairSync('rsa', { modulusLength: 2048 }), SignatureScheme.rsa_pss_rsae_sha256],
  ] as const;
  const msg = new Uint8Array(130).fill(0x20);
  for (const [name, pair, scheme] of keys) {
    const pkcs8 = new Uint8Array(pair.privateKey.export({ type: 'pkcs8', format: 'der' }));
    const spki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
    const sig = nodeBackend.createSigner(pkcs8).sign(scheme, msg);
    add(`${name} sign`, (b) => {
      const s = b.createSigner(pkcs8);
      return () => s.sign(scheme, msg);
    });
    add(`${name} verify`, (b) => {
      const v = b.createVerifier(spki);
      return () => v.verify(scheme, msg, sig);
    });
  }
  return rows;
}

const backends: readonly CryptoBackend[] = [nodeBackend, nobleBackend, defaultCrypto];
console.log(`crypto backends on Node ${process.version}, ${ROUNDS} rounds of ~${ROUND_MS} ms per cell, median round`);
printTable('Per-packet work (ns per packet)', backends, packetRows(backends));
printTable('Handshake primitives (per operation)', backends, handshakeRows(backends));
if (sink === 0x7fffffff) console.log('');
