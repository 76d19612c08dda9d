import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuicError, TransportError } from '../../src/transport/errors.js';
import {
  TransportParameterId,
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  isReservedTransportParameterId,
  type TransportParameters,
} from '../../src/transport/transport-params.js';
import type { Role } from '../../src/transport/role.js';
import { writeVarintBig } from '../../src/transport/varint.js';
import { QUIC_V1, QUIC_V2 } from '../../src/transport/version.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

const TPE = TransportError.TRANSPORT_PARAMETER_ERROR;

function v(n: bigint | number): string {
  const b = new Uint8Array(8);
  return toHex(b.subarray(0, writeVarintBig(b, 0, BigInt(n))));
}
/** One parameter: id, length, value (hex). */
function param(id: number | bigint, valueHex: string): string {
  return v(id) + v(valueHex.replace(/\s+/g, '').length / 2) + valueHex.replace(/\s+/g, '');
}

function expectTpError(hex: string, sender: Role, reason: RegExp): void {
  let err: unknown;
  try {
    decodeTransportParameters(fromHex(hex), sender);
  } catch (e) {
    err = e;
  }
  expect(err, hex).toBeInstanceOf(QuicError);
  expect((err as QuicError).code).toBe(TPE);
  expect((err as QuicError).reason).toMatch(reason);
}

/** The quic_transport_parameters extension (0x39) of the RFC 9001 Appendix A.2 ClientHello. */
function rfc9001ClientParameters(): Uint8Array {
  const vec = JSON.parse(readFileSync(new URL('../../../shared/vectors/rfc9001-initial.json', import.meta.url), 'utf8')) as {
    client_initial: { crypto_frame: string };
  };
  const hs = fromHex(vec.client_initial.crypto_frame).subarray(4); // CRYPTO type, offset, 2-byte length
  let p = 4 + 2 + 32; // handshake header, legacy_version, random
  p += 1 + hs[p]!; // session id
  p += 2 + ((hs[p]! << 8) | hs[p + 1]!); // cipher suites
  p += 1 + hs[p]!; // compression methods
  const end = p + 2 + ((hs[p]! << 8) | hs[p + 1]!);
  p += 2;
  while (p < end) {
    const type = (hs[p]! << 8) | hs[p + 1]!;
    const len = (hs[p + 2]! << 8) | hs[p + 3]!;
    if (type === 0x39) return hs.subarray(p + 4, p + 4 + len);
    p += 4 + len;
  }
  throw new Error('no quic_transport_parameters in the vector');
}

describe('decoding', () => {
  it('reads the RFC 9001 client transport parameters (initial_max_data saturates at 2^53-1)', () => {
    const tp = decodeTransportParameters(rfc9001ClientParameters(), 'client');
    expect(tp).toEqual({
      ...defaultTransportParameters(),
      initialMaxData: Number.MAX_SAFE_INTEGER, // 2^62-1 on the wire
      initialMaxStreamDataBidiLocal: 65535,
      initialMaxStreamDataBidiRemote: 65535,
      initialMaxStreamDataUni: 65535,
      initialMaxStreamsBidi: 16,
      initialMaxStreamsUni: 16,
      maxIdleTimeout: 30000,
      initialSourceConnectionId: fromHex('8394c8f03e515708'),
    });
  });

  it('fills RFC defaults for absent parameters', () => {
    const tp = decodeTransportParameters(new Uint8Array(0), 'server');
    expect(tp.maxUdpPayloadSize).toBe(65527);
    expect(tp.ackDelayExponent).toBe(3);
    expect(tp.maxAckDelay).toBe(25);
    expect(tp.activeConnectionIdLimit).toBe(2);
    expect(tp.maxDatagramFrameSize).toBe(0);
    expect(tp.disableActiveMigration).toBe(false);
    expect(tp.initialSourceConnectionId).toBeUndefined();
  });

  it('reads the extensions: version_information, max_datagram_frame_size, grease_quic_bit, disable_1rtt_encryption', () => {
    const hex =
      param(0x11, '6b3343cf 6b3343cf 00000001') + param(0x20, v(1200)) + param(0x2ab2, '') + param(0xbaad, '');
    const tp = decodeTransportParameters(fromHex(hex), 'client');
    expect(tp.versionInformation).toEqual({ chosenVersion: QUIC_V2, availableVersions: [QUIC_V2, QUIC_V1] });
    expect(tp.maxDatagramFrameSize).toBe(1200);
    expect(tp.greaseQuicBit).toBe(true);
    expect(tp.disable1RttEncryption).toBe(true);
    // A server may list no Available Versions, and need not include its Chosen Version.
    expect(decodeTransportParameters(fromHex(param(0x11, '00000001')), 'server').versionInformation).toEqual({
      chosenVersion: QUIC_V1,
      availableVersions: [],
    });
  });

  it('reads preferred_address and the server-only parameters from a server', () => {
    const pa = '01020304 1151 ' + '20'.repeat(16) + ' 01bb 04 aabbccdd ' + '77'.repeat(16);
    const hex =
      param(0x0d, pa) + param(0x00, '0102') + param(0x02, '55'.repeat(16)) + param(0x10, 'abcdef') + param(0x0f, '');
    const tp = decodeTransportParameters(fromHex(hex), 'server');
    expect(tp.preferredAddress).toEqual({
      ipv4Address: fromHex('01020304'),
      ipv4Port: 0x1151,
      ipv6Address: fromHex('20'.repeat(16)),
      ipv6Port: 443,
      connectionId: fromHex('aabbccdd'),
      statelessResetToken: fromHex('77'.repeat(16)),
    });
    expect(tp.originalDestinationConnectionId).toEqual(fromHex('0102'));
    expect(tp.statelessResetToken).toEqual(fromHex('55'.repeat(16)));
    expect(tp.retrySourceConnectionId).toEqual(fromHex('abcdef'));
    expect(tp.initialSourceConnectionId).toEqual(new Uint8Array(0));
  });

  it('copies byte strings out of the input', () => {
    const bytes = fromHex(param(0x0f, 'aabb'));
    const tp = decodeTransportParameters(bytes, 'client');
    bytes.fill(0);
    expect(tp.initialSourceConnectionId).toEqual(fromHex('aabb'));
  });

  it('ignores unknown and reserved (GREASE) parameters, even huge ones', () => {
    const hex = param(27, 'deadbeef') + param(31 * 1000 + 27, '') + param(0x7fff, '01') + param(2n ** 62n - 1n, '00') + param(2n ** 61n + 27n, 'ff') + param(0x03, v(1500));
    const tp = decodeTransportParameters(fromHex(hex), 'client');
    expect(tp).toEqual({ ...defaultTransportParameters(), maxUdpPayloadSize: 1500 });
  });

  it('accepts non-minimal varint values whose length matches', () => {
    expect(decodeTransportParameters(fromHex(param(0x01, '4005')), 'client').maxIdleTimeout).toBe(5);
    expect(decodeTransportParameters(fromHex(param(0x01, 'c000000000000005')), 'client').maxIdleTimeout).toBe(5);
  });
});

describe('decoding errors: TRANSPORT_PARAMETER_ERROR with a precise reason', () => {
  it('truncation and lengths beyond the input', () => {
    expectTpError('40', 'client', /variable-length/);
    expectTpError('01', 'client', /variable-length/);
    expectTpError('0105aabb', 'client', /max_idle_timeout: length 5 exceeds/);
  });

  it('duplicates, known or unknown, told apart exactly above 2^53', () => {
    expectTpError(param(0x01, '05') + param(0x01, '05'), 'client', /max_idle_timeout appears more than once/);
    expectTpError(param(0x7fff, '') + param(0x7fff, ''), 'client', /0x7fff appears more than once/);
    expectTpError(param(2n ** 61n, '') + param(2n ** 61n, ''), 'client', /more than once/);
    expect(() => decodeTransportParameters(fromHex(param(2n ** 61n, '') + param(2n ** 61n + 1n, '')), 'client')).not.toThrow();
  });

  it('a value whose length is not its varint', () => {
    expectTpError(param(0x01, '0500'), 'client', /max_idle_timeout: value of 2 bytes is not one variable-length integer/);
    expectTpError(param(0x04, ''), 'client', /initial_max_data: value of 0 bytes/);
    expectTpError(param(0x0e, '40'), 'client', /active_connection_id_limit/);
  });

  it('bad fixed lengths', () => {
    expectTpError(param(0x02, '55'.repeat(15)), 'server', /stateless_reset_token: 15 bytes, not 16/);
    expectTpError(param(0x02, '55'.repeat(17)), 'server', /stateless_reset_token: 17 bytes/);
    for (const id of [0x00, 0x0f, 0x10]) expectTpError(param(id, '01'.repeat(21)), 'server', /21 bytes exceeds 20/);
    expectTpError(param(0x0c, '00'), 'client', /disable_active_migration: must be empty/);
    expectTpError(param(0x2ab2, '00'), 'client', /grease_quic_bit: must be empty/);
    expectTpError(param(0xbaad, '01'), 'client', /disable_1rtt_encryption: must be empty/);
  });

  it('out-of-range values', () => {
    expectTpError(param(0x03, v(1199)), 'client', /max_udp_payload_size: 1199 is below 1200/);
    expect(decodeTransportParameters(fromHex(param(0x03, v(1200))), 'client').maxUdpPayloadSize).toBe(1200);
    expectTpError(param(0x0a, v(21)), 'client', /ack_delay_exponent: 21 exceeds 20/);
    expect(decodeTransportParameters(fromHex(param(0x0a, v(20))), 'client').ackDelayExponent).toBe(20);
    expectTpError(param(0x0b, v(16384)), 'client', /max_ack_delay: 16384 is not below 2\^14/);
    expect(decodeTransportParameters(fromHex(param(0x0b, v(16383))), 'client').maxAckDelay).toBe(16383);
    expectTpError(param(0x0e, v(1)), 'client', /active_connection_id_limit: 1 is below 2/);
    expectTpError(param(0x0e, v(0)), 'client', /active_connection_id_limit: 0 is below 2/);
    expectTpError(param(0x08, v(2n ** 60n + 1n)), 'client', /initial_max_streams_bidi: exceeds 2\^60/);
    expectTpError(param(0x09, v(2n ** 62n - 1n)), 'client', /initial_max_streams_uni: exceeds 2\^60/);
    expect(decodeTransportParameters(fromHex(param(0x08, v(2n ** 60n))), 'client').initialMaxStreamsBidi).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('preferred_address with a zero-length or oversized CID, or the wrong length', () => {
    const head = '01020304 1151 ' + '20'.repeat(16) + ' 01bb';
    const token = '77'.repeat(16);
    expectTpError(param(0x0d, `${head} 00 ${token}`), 'server', /zero-length connection ID/);
    expectTpError(param(0x0d, `${head} 15 ${'01'.repeat(21)} ${token}`), 'server', /21 bytes exceeds 20/);
    expectTpError(param(0x0d, `${head} 02 0102 ${token} 00`), 'server', /expected 43/);
    expectTpError(param(0x0d, `${head} 02 0102 ${token.slice(2)}`), 'server', /expected 43/);
    expectTpError(param(0x0d, '0102'), 'server', /fewer than the 41 required/);
  });

  it('server-only parameters sent by a client', () => {
    const cases: [number, string, RegExp][] = [
      [0x00, '0102', /original_destination_connection_id/],
      [0x02, '55'.repeat(16), /stateless_reset_token/],
      [0x0d, '01020304 1151 ' + '20'.repeat(16) + ' 01bb 01 aa ' + '77'.repeat(16), /preferred_address/],
      [0x10, '0102', /retry_source_connection_id/],
    ];
    for (const [id, value, name] of cases) {
      expectTpError(param(id, value), 'client', /a client sent the server-only parameter/);
      expectTpError(param(id, value), 'client', name);
      expect(() => decodeTransportParameters(fromHex(param(id, value)), 'server')).not.toThrow();
    }
  });

  it('malformed version_information (RFC 9368 §4)', () => {
    expectTpError(param(0x11, ''), 'server', /not a non-zero multiple of 4/);
    expectTpError(param(0x11, '000000010000'), 'server', /not a non-zero multiple of 4/);
    expectTpError(param(0x11, '00000000'), 'server', /Chosen Version is 0/);
    expectTpError(param(0x11, '00000001 00000001 00000000'), 'server', /an Available Version is 0/);
    expectTpError(param(0x11, '00000001 6b3343cf'), 'client', /not among its Available Versions/);
    expectTpError(param(0x11, '00000001'), 'client', /not among its Available Versions/);
  });

  it('property: random bytes raise nothing but TRANSPORT_PARAMETER_ERROR', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.constantFrom<Role>('client', 'server'), (bytes, role) => {
        try {
          decodeTransportParameters(bytes, role);
        } catch (e) {
          expect(e).toBeInstanceOf(QuicError);
          expect((e as QuicError).code).toBe(TPE);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: random parameter lists of known IDs raise nothing but TRANSPORT_PARAMETER_ERROR', () => {
    const ids = [...Object.values(TransportParameterId), 27, 58];
    const entry = fc.tuple(fc.constantFrom(...ids), fc.uint8Array({ maxLength: 50 })).map(([id, value]) => param(id, toHex(value)));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), fc.constantFrom<Role>('client', 'server'), (entries, role) => {
        try {
          decodeTransportParameters(fromHex(entries.join('')), role);
        } catch (e) {
          expect(e).toBeInstanceOf(QuicError);
          expect((e as QuicError).code).toBe(TPE);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

// ------------------------------------------------------------------------------------------

const safe = fc.maxSafeNat();
const cid = fc.uint8Array({ maxLength: 20 });
const token16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const version32 = fc.integer({ min: 1, max: 0xffffffff });
const paramsArb: fc.Arbitrary<Partial<TransportParameters>> = fc.record(
  {
    originalDestinationConnectionId: cid,
    maxIdleTimeout: safe,
    statelessResetToken: token16,
    maxUdpPayloadSize: fc.integer({ min: 1200, max: Number.MAX_SAFE_INTEGER }),
    initialMaxData: safe,
    initialMaxStreamDataBidiLocal: safe,
    initialMaxStreamDataBidiRemote: safe,
    initialMaxStreamDataUni: safe,
    initialMaxStreamsBidi: safe,
    initialMaxStreamsUni: safe,
    ackDelayExponent: fc.integer({ min: 0, max: 20 }),
    maxAckDelay: fc.integer({ min: 0, max: 16383 }),
    disableActiveMigration: fc.boolean(),
    preferredAddress: fc.record({
      ipv4Address: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      ipv4Port: fc.integer({ min: 0, max: 65535 }),
      ipv6Address: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      ipv6Port: fc.integer({ min: 0, max: 65535 }),
      connectionId: fc.uint8Array({ minLength: 1, maxLength: 20 }),
      statelessResetToken: token16,
    }),
    activeConnectionIdLimit: fc.integer({ min: 2, max: Number.MAX_SAFE_INTEGER }),
    initialSourceConnectionId: cid,
    retrySourceConnectionId: cid,
    maxDatagramFrameSize: safe,
    versionInformation: fc.record({ chosenVersion: version32, availableVersions: fc.array(version32, { maxLength: 5 }) }),
    greaseQuicBit: fc.boolean(),
    disable1RttEncryption: fc.boolean(),
  },
  { requiredKeys: [] },
);

describe('encoding', () => {
  it('property: encode then decode gives the parameters back, defaults filled in', () => {
    fc.assert(
      fc.property(paramsArb, (params) => {
        const bytes = encodeTransportParameters(params);
        const back = decodeTransportParameters(bytes, 'server');
        expect(back).toEqual({ ...defaultTransportParameters(), ...params });
      }),
      { numRuns: 500 },
    );
  });

  it('leaves out parameters at their defaults', () => {
    expect(encodeTransportParameters(defaultTransportParameters()).length).toBe(0);
    expect(toHex(encodeTransportParameters({ maxIdleTimeout: 30000, activeConnectionIdLimit: 2 }))).toBe('010480007530');
  });

  it('re-encodes the RFC 9001 client parameters to a set that decodes the same', () => {
    const tp = decodeTransportParameters(rfc9001ClientParameters(), 'client');
    expect(decodeTransportParameters(encodeTransportParameters(tp, { senderRole: 'client' }), 'client')).toEqual(tp);
  });

  it('adds a GREASE parameter when asked, which decoders ignore', () => {
    const bytes = encodeTransportParameters({ maxIdleTimeout: 1 }, { grease: { id: 31 * 5 + 27, value: fromHex('c0ffee') } });
    // max_idle_timeout = 1, then ID 182 (2-byte varint 0x40b6), length 3, value.
    expect(toHex(bytes)).toBe('010101' + '40b6' + '03' + 'c0ffee');
    expect(decodeTransportParameters(bytes, 'client')).toEqual({ ...defaultTransportParameters(), maxIdleTimeout: 1 });
    expect(isReservedTransportParameterId(27)).toBe(true);
    expect(isReservedTransportParameterId(58)).toBe(true);
    expect(isReservedTransportParameterId(59)).toBe(false);
    expect(() => encodeTransportParameters({}, { grease: { id: 28, value: new Uint8Array(0) } })).toThrow(/31 \* N \+ 27/);
  });

  it('refuses values the RFC forbids, and server-only parameters for a client', () => {
    expect(() => encodeTransportParameters({ maxUdpPayloadSize: 1199 })).toThrow(/max_udp_payload_size 1199/);
    expect(() => encodeTransportParameters({ ackDelayExponent: 21 })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ maxAckDelay: 16384 })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ activeConnectionIdLimit: 1 })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ statelessResetToken: new Uint8Array(15) })).toThrow(/stateless_reset_token is 15 bytes/);
    expect(() => encodeTransportParameters({ initialSourceConnectionId: new Uint8Array(21) })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ versionInformation: { chosenVersion: 0, availableVersions: [] } })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ maxIdleTimeout: -1 })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ originalDestinationConnectionId: fromHex('01') }, { senderRole: 'client' })).toThrow(
      /a client must not send original_destination_connection_id/,
    );
    expect(() => encodeTransportParameters({ originalDestinationConnectionId: fromHex('01') }, { senderRole: 'server' })).not.toThrow();
  });
});
