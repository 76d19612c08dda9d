import type { CryptoBackend } from '../crypto/backend.js';
import { writeRetry, writeVersionNegotiation } from '../transport/packet-header-writer.js';
import { computeRetryIntegrityTag } from '../transport/retry-integrity.js';
import { SUPPORTED_VERSIONS, versionParameters } from '../transport/version.js';

/**
 * Packets an endpoint sends without connection state (RFC 9000 §5.2.2, §8.1.2, §10.3):
 * Version Negotiation, Retry and Stateless Reset.
 */

/** A Version Negotiation packet answering a client Initial with (dcid, scid). */
export function versionNegotiationPacket(crypto: CryptoBackend, clientDcid: Uint8Array, clientScid: Uint8Array): Uint8Array {
  const buf = new Uint8Array(7 + clientDcid.length + clientScid.length + 4 * (SUPPORTED_VERSIONS.length + 1));
  const r = new Uint8Array(5);
  crypto.randomFill(r);
  // Include a reserved version (0x?a?a?a?a) so clients keep handling unknown versions (RFC 9000 §6.3).
  const rand = ((r[1]! << 24) | (r[2]! << 16) | (r[3]! << 8) | r[4]!) >>> 0;
  const grease = ((rand & 0xf0f0f0f0) | 0x0a0a0a0a) >>> 0;
  const versions = [...SUPPORTED_VERSIONS, grease];
  const n = writeVersionNegotiation(buf, 0, clientScid, clientDcid, versions, r[0]! & 0x7f);
  return buf.subarray(0, n);
}

/** A Retry packet for a client Initial with (dcid = odcid, scid), carrying `token`, with our new SCID. */
export function retryPacket(
  crypto: CryptoBackend,
  version: number,
  clientDcid: Uint8Array,
  clientScid: Uint8Array,
  newScid: Uint8Array,
  token: Uint8Array,
): Uint8Array {
  const params = versionParameters(version);
  if (params === undefined) throw new RangeError(`unsupported version 0x${version.toString(16)}`);
  const buf = new Uint8Array(7 + clientScid.length + newScid.length + token.length + 16);
  const tagAt = writeRetry(buf, 0, version, clientScid, newScid, token);
  computeRetryIntegrityTag(crypto, params, clientDcid, buf.subarray(0, tagAt), buf.subarray(tagAt, tagAt + 16));
  return buf.subarray(0, tagAt + 16);
}

/**
 * A stateless reset answering a datagram of `triggerLength` bytes: random bytes that look like
 * a short-header packet, ending in `token`, shorter than the trigger (so two endpoints cannot
 * loop), and at least 21 bytes. Undefined when the trigger is too short to answer.
 */
export function statelessResetPacket(crypto: CryptoBackend, token: Uint8Array, triggerLength: number): Uint8Array | undefined {
  const len = Math.min(triggerLength - 1, 43);
  if (len < 21) return undefined;
  const buf = new Uint8Array(len);
  crypto.randomFill(buf.subarray(0, len - 16));
  buf[0] = (buf[0]! & 0x3f) | 0x40; // short header form with the fixed bit
  buf.set(token, len - 16);
  return buf;
}
