/**
 * Configuration defaults and checks shared by client and server: which signature schemes,
 * groups and protocols an endpoint uses, and how its configuration is validated.
 */
import { SignatureScheme, type KeyExchangeGroup } from '../crypto/backend.js';
import type { TlsCommonConfig } from './types.js';

/** Default groups, in preference order. */
export const DEFAULT_GROUPS: readonly KeyExchangeGroup[] = ['x25519', 'secp256r1', 'secp384r1'];

/** Default signature schemes accepted in CertificateVerify, in preference order. */
export const DEFAULT_SIGNATURE_SCHEMES: readonly number[] = [
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.ed25519,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
];

/** Schemes TLS 1.3 never allows in CertificateVerify (RSASSA-PKCS1-v1_5, SHA-1, DSA). */
export function isForbiddenInCertificateVerify(scheme: number): boolean {
  const hash = scheme >> 8;
  const sig = scheme & 0xff;
  // 0x0201..0x0203 (SHA-1), 0x0401/0x0501/0x0601 (PKCS#1 v1.5), 0x0402/0x0502/0x0602 (DSA).
  return (hash >= 0x02 && hash <= 0x06 && (sig === 0x01 || sig === 0x02)) || hash === 0x02;
}

const GROUP_NAMES: readonly string[] = ['x25519', 'secp256r1', 'secp384r1'];

/** Validates and copies a group list. Throws TypeError for an unknown, duplicated or empty list. */
export function resolveGroups(list: readonly KeyExchangeGroup[] | undefined, what: string): KeyExchangeGroup[] {
  if (list === undefined) return [...DEFAULT_GROUPS];
  if (list.length === 0) throw new TypeError(`${what} must not be empty`);
  const out: KeyExchangeGroup[] = [];
  for (const g of list) {
    if (!GROUP_NAMES.includes(g)) throw new TypeError(`${what}: unknown group ${JSON.stringify(g)}`);
    if (out.includes(g)) throw new TypeError(`${what}: group ${g} listed twice`);
    out.push(g);
  }
  return out;
}

/** Validates the signature scheme list. */
export function resolveSignatureSchemes(list: readonly number[] | undefined): number[] {
  if (list === undefined) return [...DEFAULT_SIGNATURE_SCHEMES];
  if (list.length === 0) throw new TypeError('signatureSchemes must not be empty');
  for (const s of list) {
    if (!Number.isInteger(s) || s < 0 || s > 0xffff) throw new TypeError(`signatureSchemes: ${s} is not a SignatureScheme code`);
  }
  return [...list];
}

/** Validates the ALPN list (required in the QUIC profile). */
export function resolveAlpn(config: TlsCommonConfig, quic: boolean): string[] {
  const list = config.alpn ?? [];
  if (quic && list.length === 0) throw new TypeError('alpn: QUIC requires at least one application protocol (RFC 9001 §8.1)');
  for (const p of list) {
    if (typeof p !== 'string' || p.length === 0 || p.length > 255) throw new TypeError(`alpn: invalid protocol name ${JSON.stringify(p)}`);
  }
  return [...list];
}

/** Validates the transport parameters (required in the QUIC profile). */
export function resolveTransportParameters(config: TlsCommonConfig, quic: boolean): Uint8Array | undefined {
  const tp = config.transportParameters;
  if (quic && tp === undefined) throw new TypeError('transportParameters: QUIC requires this endpoint\'s transport parameters (RFC 9001 §8.2)');
  if (tp !== undefined && !(tp instanceof Uint8Array)) throw new TypeError('transportParameters must be a Uint8Array');
  return tp;
}

/** True for an IPv4 or IPv6 literal (never sent as SNI, RFC 6066 §3). */
export function isIpLiteral(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}
