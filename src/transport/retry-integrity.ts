/**
 * The Retry Integrity Tag (RFC 9001 §5.8, RFC 9369 §3.3.3): AES-128-GCM, with a key and nonce
 * fixed per version, over the Retry pseudo-packet (ODCID length, ODCID, then the Retry packet
 * without its tag) as associated data and an empty plaintext; the tag is the output.
 */
import type { Aead, CryptoBackend } from '../crypto/backend.js';
import type { VersionParameters } from './version.js';
import { RETRY_INTEGRITY_TAG_LENGTH } from './packet.js';


const EMPTY = new Uint8Array(0);
const aeadCache = new WeakMap<CryptoBackend, Map<number, Aead>>();

function retryAead(crypto: CryptoBackend, version: VersionParameters): Aead {
  let perVersion = aeadCache.get(crypto);
  if (perVersion === undefined) {
    perVersion = new Map();
    aeadCache.set(crypto, perVersion);
  }
  let aead = perVersion.get(version.version);
  if (aead === undefined) {
    aead = crypto.createAead('aes-128-gcm', version.retryKey);
    perVersion.set(version.version, aead);
  }
  return aead;
}

function pseudoPacket(odcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  if (odcid.length > 255) throw new RangeError(`original destination connection ID is ${odcid.length} bytes`);
  const p = new Uint8Array(1 + odcid.length + retryWithoutTag.length);
  p[0] = odcid.length;
  p.set(odcid, 1);
  p.set(retryWithoutTag, 1 + odcid.length);
  return p;
}

/**
 * Writes the integrity tag of the Retry packet `retryWithoutTag`, sent in reply to a packet
 * whose Destination Connection ID was `odcid`, into `out[0..16)` (a new array if omitted).
 */
export function computeRetryIntegrityTag(
  crypto: CryptoBackend,
  version: VersionParameters,
  odcid: Uint8Array,
  retryWithoutTag: Uint8Array,
  out: Uint8Array = new Uint8Array(RETRY_INTEGRITY_TAG_LENGTH),
): Uint8Array {
  if (out.length < RETRY_INTEGRITY_TAG_LENGTH) throw new RangeError(`tag output needs ${RETRY_INTEGRITY_TAG_LENGTH} bytes, has ${out.length}`);
  retryAead(crypto, version).seal(version.retryNonce, pseudoPacket(odcid, retryWithoutTag), EMPTY, out);
  return out;
}

/**
 * True when the last 16 bytes of `retryPacket` are its valid integrity tag for `odcid`
 * (the client's original Destination Connection ID). False for anything else, including a
 * packet too short to carry a tag.
 */
export function verifyRetryIntegrity(
  crypto: CryptoBackend,
  version: VersionParameters,
  odcid: Uint8Array,
  retryPacket: Uint8Array,
): boolean {
  const tagStart = retryPacket.length - RETRY_INTEGRITY_TAG_LENGTH;
  if (tagStart < 0 || odcid.length > 255) return false;
  const aad = pseudoPacket(odcid, retryPacket.subarray(0, tagStart));
  // Opening the tag as an empty ciphertext checks it in the AEAD (constant time there).
  return retryAead(crypto, version).open(version.retryNonce, aad, retryPacket.subarray(tagStart), EMPTY) === 0;
}
