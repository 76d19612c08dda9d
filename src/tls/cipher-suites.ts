/**
 * The TLS 1.3 cipher suites QUIC can use (RFC 8446 §B.4, RFC 9001 §5.3): each names the
 * AEAD, the hash for HKDF and the transcript, and the header-protection cipher QUIC pairs
 * with it.
 */
import type { AeadAlgorithm, HashAlgorithm, HeaderProtectionAlgorithm } from '../crypto/backend.js';

/** What the QUIC layer needs to turn a traffic secret into packet protection. */
export interface TrafficSuite {
  readonly aead: AeadAlgorithm;
  readonly hash: HashAlgorithm;
  readonly hp: HeaderProtectionAlgorithm;
}

export interface CipherSuite extends TrafficSuite {
  /** The CipherSuite code point. */
  readonly code: number;
  readonly name: CipherSuiteName;
  /** AEAD key length in bytes. */
  readonly keyLength: number;
}

export type CipherSuiteName = 'TLS_AES_128_GCM_SHA256' | 'TLS_AES_256_GCM_SHA384' | 'TLS_CHACHA20_POLY1305_SHA256';

export const TLS_AES_128_GCM_SHA256: CipherSuite = {
  code: 0x1301,
  name: 'TLS_AES_128_GCM_SHA256',
  aead: 'aes-128-gcm',
  hash: 'sha256',
  hp: 'aes-128-ecb',
  keyLength: 16,
};

export const TLS_AES_256_GCM_SHA384: CipherSuite = {
  code: 0x1302,
  name: 'TLS_AES_256_GCM_SHA384',
  aead: 'aes-256-gcm',
  hash: 'sha384',
  hp: 'aes-256-ecb',
  keyLength: 32,
};

export const TLS_CHACHA20_POLY1305_SHA256: CipherSuite = {
  code: 0x1303,
  name: 'TLS_CHACHA20_POLY1305_SHA256',
  aead: 'chacha20-poly1305',
  hash: 'sha256',
  hp: 'chacha20',
  keyLength: 32,
};

/** Every supported suite, in the default preference order. */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
];

/** The suite with code point `code`, or undefined when it is not supported. */
export function cipherSuiteByCode(code: number): CipherSuite | undefined {
  for (const s of CIPHER_SUITES) if (s.code === code) return s;
  return undefined;
}

/** The suite named `name`. Throws TypeError for an unknown name. */
export function cipherSuiteByName(name: string): CipherSuite {
  for (const s of CIPHER_SUITES) if (s.name === name) return s;
  throw new TypeError(`unknown cipher suite ${JSON.stringify(name)}`);
}

/**
 * Resolves a configured preference list (names or code points) to suites. Throws TypeError
 * for an unknown or duplicated entry, or an empty list.
 */
export function resolveCipherSuites(list: readonly (CipherSuiteName | number)[] | undefined): CipherSuite[] {
  if (list === undefined) return [...CIPHER_SUITES];
  if (list.length === 0) throw new TypeError('cipherSuites must not be empty');
  const out: CipherSuite[] = [];
  for (const item of list) {
    const s = typeof item === 'number' ? cipherSuiteByCode(item) : cipherSuiteByName(item);
    if (s === undefined) throw new TypeError(`unsupported cipher suite 0x${(item as number).toString(16)}`);
    if (out.includes(s)) throw new TypeError(`cipher suite ${s.name} listed twice`);
    out.push(s);
  }
  return out;
}
