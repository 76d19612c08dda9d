/** Retry Integrity Tag: RFC 9001 A.4 and RFC 9369 A.4 on both backends. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { nodeBackend } from '../../src/crypto/node-backend.js';
import { nobleBackend } from '../../src/crypto/noble-backend.js';
import { defaultCrypto } from '../../src/crypto/index.js';
import { hkdfExpandLabel } from '../../src/crypto/hkdf-label.js';
import type { CryptoBackend } from '../../src/crypto/backend.js';
import { computeRetryIntegrityTag, verifyRetryIntegrity } from '../../src/transport/retry-integrity.js';
import { QUIC_V1, QUIC_V2, versionParameters } from '../../src/transport/version.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

function vectors(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`../../../shared/vectors/${name}`, import.meta.url), 'utf8'));
}

const BACKENDS: readonly CryptoBackend[] = [nodeBackend, nobleBackend, defaultCrypto];
const VERSIONS = [
  { name: 'v1', vec: vectors('rfc9001-initial.json'), params: versionParameters(QUIC_V1)! },
  { name: 'v2', vec: vectors('rfc9369-v2.json'), params: versionParameters(QUIC_V2)! },
];

describe.each(BACKENDS)('$name backend', (crypto) => {
  describe.each(VERSIONS)('$name', ({ vec, params }) => {
    const packet = fromHex(vec.retry.packet);
    const odcid = fromHex(vec.retry.odcid);

    it('the version\'s Retry key and nonce derive from the published secret (RFC 9001 §5.8)', () => {
      const secret = fromHex(vec.retry_integrity_secret);
      expect(toHex(hkdfExpandLabel(crypto, 'sha256', secret, params.keyLabel, new Uint8Array(0), 16))).toBe(vec.retry_integrity_key);
      expect(toHex(hkdfExpandLabel(crypto, 'sha256', secret, params.ivLabel, new Uint8Array(0), 12))).toBe(vec.retry_integrity_nonce);
      expect(toHex(params.retryKey)).toBe(vec.retry.retry_integrity_key);
    });

    it('computes the tag of the A.4 Retry packet', () => {
      const tag = computeRetryIntegrityTag(crypto, params, odcid, packet.subarray(0, packet.length - 16));
      expect(toHex(tag)).toBe(toHex(packet.subarray(packet.length - 16)));
      const out = new Uint8Array(20);
      computeRetryIntegrityTag(crypto, params, odcid, packet.subarray(0, packet.length - 16), out.subarray(2));
      expect(toHex(out.subarray(2, 18))).toBe(toHex(tag));
    });

    it('accepts the A.4 packet and rejects any change to it or to the ODCID', () => {
      expect(verifyRetryIntegrity(crypto, params, odcid, packet)).toBe(true);
      for (let i = 0; i < packet.length; i++) {
        const bad = packet.slice();
        bad[i]! ^= 0x04;
        expect(verifyRetryIntegrity(crypto, params, odcid, bad), `byte ${i}`).toBe(false);
      }
      const otherOdcid = odcid.slice();
      otherOdcid[0]! ^= 1;
      expect(verifyRetryIntegrity(crypto, params, otherOdcid, packet)).toBe(false);
      expect(verifyRetryIntegrity(crypto, params, odcid.subarray(1), packet)).toBe(false);
      expect(verifyRetryIntegrity(crypto, params, odcid, packet.subarray(0, 15))).toBe(false);
      expect(verifyRetryIntegrity(crypto, params, new Uint8Array(256), packet)).toBe(false);
    });
  });

  it('a v1 tag does not verify as v2', () => {
    const v1 = VERSIONS[0]!;
    expect(verifyRetryIntegrity(crypto, VERSIONS[1]!.params, fromHex(v1.vec.retry.odcid), fromHex(v1.vec.retry.packet))).toBe(false);
  });
});

it('an ODCID longer than 255 bytes is a RangeError when computing', () => {
  expect(() => computeRetryIntegrityTag(nodeBackend, versionParameters(QUIC_V1)!, new Uint8Array(256), new Uint8Array(10))).toThrow(
    RangeError,
  );
});
