import type { CryptoBackend, HashAlgorithm } from './backend.js';

const PREFIX = 'tls13 ';

/**
 * The HkdfLabel structure of RFC 8446 §7.1: uint16 length, opaque label<7..255> ("tls13 " +
 * label), opaque context<0..255>. QUIC (RFC 9001 §5.1) and TLS share it.
 */
export function hkdfLabel(length: number, label: string, context: Uint8Array): Uint8Array {
  const full = PREFIX + label;
  if (full.length > 255) throw new TypeError(`HKDF label too long: ${label}`);
  if (context.length > 255) throw new TypeError(`HKDF context too long: ${context.length}`);
  const out = new Uint8Array(2 + 1 + full.length + 1 + context.length);
  out[0] = length >> 8;
  out[1] = length & 0xff;
  out[2] = full.length;
  for (let i = 0; i < full.length; i++) out[3 + i] = full.charCodeAt(i);
  out[3 + full.length] = context.length;
  out.set(context, 4 + full.length);
  return out;
}

/** HKDF-Expand-Label(secret, label, context, length) of RFC 8446 §7.1. */
export function hkdfExpandLabel(
  crypto: CryptoBackend,
  algorithm: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return crypto.hkdfExpand(algorithm, secret, hkdfLabel(length, label, context), length);
}
