import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferReader } from '../../src/transport/buffer-reader.js';
import { QuicError, TransportError } from '../../src/transport/errors.js';
import { decodeFrames, readFrame } from '../../src/transport/frame.js';
import {
  ackFrameLength,
  cryptoFrameHeaderLength,
  encodeFrame,
  encodeFrameToBytes,
  frameLength,
  streamFrameHeaderLength,
  writeAckFrame,
  writeCryptoFrameHeader,
  writeDatagramFrameHeader,
  writeStreamFrameHeader,
} from '../../src/transport/frame-encode.js';
import { FrameType, wireFrameType, type Frame } from '../../src/transport/frame-types.js';
import { VARINT_MAX, writeVarintBig } from '../../src/transport/varint.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

const FEE = TransportError.FRAME_ENCODING_ERROR;
const PV = TransportError.PROTOCOL_VIOLATION;

function vec(name: string): Record<string, Record<string, string | number>> {
  return JSON.parse(readFileSync(new URL(`../../../shared/vectors/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    Record<string, string | number>
  >;
}

function quicErrorOf(fn: () => unknown): QuicError {
  try {
    fn();
  } catch (e) {
    if (e instanceof QuicError) return e;
    throw new Error(`expected a QuicError, got ${String(e)}`);
  }
  throw new Error('expected a QuicError, nothing was thrown');
}

function expectError(hex: string, code: number, frameType: number | undefined, reason?: RegExp): void {
  const err = quicErrorOf(() => decodeFrames(fromHex(hex)));
  expect(err.code, `${hex}: ${err.message}`).toBe(code);
  expect(err.frameType, `${hex}: ${err.message}`).toBe(frameType);
  if (reason) expect(err.reason).toMatch(reason);
}

/** Varint hex of a bigint (for hand-built frames). */
function v(n: bigint | number): string {
  const b = new Uint8Array(8);
  return toHex(b.subarray(0, writeVarintBig(b, 0, BigInt(n))));
}

describe('RFC 9001 Appendix A payloads', () => {
  it('client Initial: one CRYPTO frame, then PADDING collapsed into one frame', () => {
    const ci = vec('rfc9001-initial.json').client_initial!;
    const payload = fromHex(ci.payload as string);
    expect(payload.length).toBe(ci.payload_length_with_padding);
    const frames = decodeFrames(payload);
    const crypto = fromHex(ci.crypto_frame as string);
    expect(frames).toHaveLength(2);
    const f0 = frames[0]!;
    expect(f0.type).toBe(FrameType.Crypto);
    if (f0.type !== FrameType.Crypto) return;
    expect(f0.offset).toBe(0);
    expect(f0.data.length).toBe(crypto.length - 4);
    expect(f0.data[0]).toBe(0x01); // ClientHello
    expect(f0.data.buffer).toBe(payload.buffer); // view, not copy
    expect(frames[1]).toEqual({ type: FrameType.Padding, length: payload.length - crypto.length });
    expect(encodeFrameToBytes(f0)).toEqual(crypto);
  });

  it('server Initial: ACK of packet 0, then CRYPTO (ServerHello)', () => {
    const si = vec('rfc9001-initial.json').server_initial!;
    const payload = fromHex(si.payload as string);
    const frames = decodeFrames(payload);
    expect(frames[0]).toEqual({ type: FrameType.Ack, largestAcknowledged: 0, ackDelay: 0, ranges: [0, 0], ect0: 0, ect1: 0, ce: 0 });
    expect(frames[1]!.type).toBe(FrameType.Crypto);
    expect(frames).toHaveLength(2);
    const out = new Uint8Array(payload.length);
    let p = 0;
    for (const f of frames) p = encodeFrame(f, out, p);
    expect(toHex(out.subarray(0, p))).toBe(si.payload);
  });

  it('ChaCha20 short-header payload: PING', () => {
    const s = vec('rfc9001-initial.json').chacha20_short_header!;
    expect(decodeFrames(fromHex(s.payload_plaintext as string))).toEqual([{ type: FrameType.Ping }]);
  });
});

describe('decoding each frame type', () => {
  const cases: [string, string, Frame][] = [
    ['PADDING run', '000000', { type: 0x00, length: 3 }],
    ['PING', '01', { type: 0x01 }],
    ['ACK with 2 ranges', `02 ${v(100)} 05 01 02 03 04`, { type: 0x02, largestAcknowledged: 100, ackDelay: 5, ranges: [100, 98, 93, 89], ect0: 0, ect1: 0, ce: 0 }],
    ['ACK_ECN', '03 0a 00 00 00 01 02 03', { type: 0x03, largestAcknowledged: 10, ackDelay: 0, ranges: [10, 10], ect0: 1, ect1: 2, ce: 3 }],
    ['RESET_STREAM', `04 04 ${v(2n ** 62n - 1n)} ${v(1000)}`, { type: 0x04, streamId: 4, errorCode: 2n ** 62n - 1n, finalSize: 1000 }],
    ['STOP_SENDING', '05 08 11', { type: 0x05, streamId: 8, errorCode: 0x11n }],
    ['CRYPTO', '06 05 03 aabbcc', { type: 0x06, offset: 5, data: fromHex('aabbcc') }],
    ['NEW_TOKEN', '07 02 beef', { type: 0x07, token: fromHex('beef') }],
    ['STREAM 0x08 (no OFF, no LEN)', '08 01 aabb', { type: 0x08, streamId: 1, offset: 0, data: fromHex('aabb'), fin: false, explicitLength: false }],
    ['STREAM 0x0f (OFF, LEN, FIN)', '0f 02 4064 01 cc', { type: 0x08, streamId: 2, offset: 100, data: fromHex('cc'), fin: true, explicitLength: true }],
    ['STREAM 0x0b (LEN, FIN) empty', '0b 03 00', { type: 0x08, streamId: 3, offset: 0, data: new Uint8Array(0), fin: true, explicitLength: true }],
    ['MAX_DATA', `10 ${v(2n ** 40n)}`, { type: 0x10, maximumData: 2 ** 40 }],
    ['MAX_STREAM_DATA', '11 04 3f', { type: 0x11, streamId: 4, maximumStreamData: 63 }],
    ['MAX_STREAMS bidi at 2^60', `12 ${v(2n ** 60n)}`, { type: 0x12, maximumStreams: Number.MAX_SAFE_INTEGER }],
    ['MAX_STREAMS uni', '13 07', { type: 0x13, maximumStreams: 7 }],
    ['DATA_BLOCKED', '14 09', { type: 0x14, maximumData: 9 }],
    ['STREAM_DATA_BLOCKED', '15 01 02', { type: 0x15, streamId: 1, maximumStreamData: 2 }],
    ['STREAMS_BLOCKED bidi', '16 03', { type: 0x16, maximumStreams: 3 }],
    ['STREAMS_BLOCKED uni', '17 04', { type: 0x17, maximumStreams: 4 }],
    ['NEW_CONNECTION_ID', `18 05 02 04 01020304 ${'ab'.repeat(16)}`, { type: 0x18, sequenceNumber: 5, retirePriorTo: 2, connectionId: fromHex('01020304'), statelessResetToken: fromHex('ab'.repeat(16)) }],
    ['RETIRE_CONNECTION_ID', '19 06', { type: 0x19, sequenceNumber: 6 }],
    ['PATH_CHALLENGE', '1a 0102030405060708', { type: 0x1a, data: fromHex('0102030405060708') }],
    ['PATH_RESPONSE', '1b 0807060504030201', { type: 0x1b, data: fromHex('0807060504030201') }],
    ['CONNECTION_CLOSE transport', '1c 07 06 02 6869', { type: 0x1c, errorCode: 7n, frameType: 6, reason: fromHex('6869') }],
    ['CONNECTION_CLOSE application', `1d ${v(2n ** 61n)} 00`, { type: 0x1d, errorCode: 2n ** 61n, reason: new Uint8Array(0) }],
    ['HANDSHAKE_DONE', '1e', { type: 0x1e }],
    ['DATAGRAM 0x30', '30 010203', { type: 0x30, data: fromHex('010203'), explicitLength: false }],
    ['DATAGRAM 0x31', '31 02 0102', { type: 0x30, data: fromHex('0102'), explicitLength: true }],
  ];
  it.each(cases)('%s', (_name, hex, expected) => {
    const frames = decodeFrames(fromHex(hex));
    expect(frames).toEqual([expected]);
  });

  it('collapses each run of PADDING separately and reports the wire type on the reader', () => {
    const r = new BufferReader(fromHex('00000001000b0101aa'));
    const out: [Frame, number | undefined][] = [];
    while (r.pos < r.end) out.push([readFrame(r), r.frameType]);
    expect(out).toEqual([
      [{ type: 0, length: 3 }, 0x00],
      [{ type: 1 }, 0x01],
      [{ type: 0, length: 1 }, 0x00],
      [{ type: 0x08, streamId: 1, offset: 0, data: fromHex('aa'), fin: true, explicitLength: true }, 0x0b],
    ]);
  });
});

describe('malformed frames: exact error code and frame type', () => {
  it('unknown frame types are FRAME_ENCODING_ERROR with the type', () => {
    expectError('1f', FEE, 0x1f, /unknown/);
    expectError('2f', FEE, 0x2f);
    expectError('32', FEE, 0x32);
    expectError('4040', FEE, 0x40);
    expectError(`${v(2n ** 40n)}`, FEE, 2 ** 40);
  });

  it('a frame type not in its shortest encoding is PROTOCOL_VIOLATION (RFC 9000 §12.4)', () => {
    expectError('4001', PV, 0x01, /minimal/);
    expectError('80000006', PV, 0x06);
    expectError('4021', PV, 0x21);
    expectError('c000000000000000', PV, 0x00);
  });

  it('a truncated frame type is FRAME_ENCODING_ERROR', () => {
    expectError('40', FEE, undefined);
  });

  it('every truncation of every well-formed frame with fixed extent fails with its type', () => {
    // Frames whose last field has an explicit size (no run-to-end STREAM/DATAGRAM, no PADDING).
    const hexes = [
      `02 ${v(100)} 05 01 02 03 04`, '03 0a 00 00 00 01 02 03', `04 04 ${v(5)} ${v(1000)}`, '05 08 11', '06 05 03 aabbcc',
      '07 02 beef', '0e 02 4064 02 ccdd', '10 4064', '11 04 3f', '12 07', '15 01 02', '17 04',
      `18 05 02 04 01020304 ${'ab'.repeat(16)}`, '19 4006', '1a 0102030405060708', '1b 0807060504030201',
      '1c 07 06 02 6869', '1d 07 02 6869', '31 02 0102',
    ];
    for (const hex of hexes) {
      const bytes = fromHex(hex);
      expect(decodeFrames(bytes)).toHaveLength(1);
      for (let n = 1; n < bytes.length; n++) {
        const err = quicErrorOf(() => decodeFrames(bytes.subarray(0, n)));
        expect(err.code, `${hex} cut at ${n}`).toBe(FEE);
        expect(err.frameType, `${hex} cut at ${n}`).toBe(bytes[0]);
      }
    }
  });

  it('ACK ranges below packet 0 and impossible range counts', () => {
    expectError('02 05 00 00 06', FEE, 0x02, /First ACK Range/);
    expectError('02 05 00 01 02 02 00', FEE, 0x02, /starts below/); // smallest 3, gap 2 → 3-2-2 = -1
    expectError('02 05 00 01 02 01 01', FEE, 0x02, /ends below/); // smallest 3, gap 1 → 0, len 1 → -1
    expectError('03 05 00 01 02 00 00', FEE, 0x03); // 0 - 0 - 2 < 0 … and ECN counts missing
    expectError(`02 05 00 ${v(2n ** 40n)} 00`, FEE, 0x02, /Range Count/);
    // Exactly reaching packet 0 is fine.
    expect(decodeFrames(fromHex('02 05 00 01 02 01 00'))[0]).toMatchObject({ ranges: [5, 3, 0, 0] });
  });

  it('NEW_CONNECTION_ID: length 0 or over 20, Retire Prior To above Sequence Number', () => {
    const token = 'ab'.repeat(16);
    expectError(`18 05 02 00 ${token}`, FEE, 0x18, /Length 0/);
    expectError(`18 05 02 15 ${'01'.repeat(21)} ${token}`, FEE, 0x18, /Length 21/);
    expectError(`18 02 03 01 01 ${token}`, FEE, 0x18, /Retire Prior To/);
    // Exact even where numbers saturate: 2^60+1 > 2^60.
    expectError(`18 ${v(2n ** 60n)} ${v(2n ** 60n + 1n)} 01 01 ${token}`, FEE, 0x18, /Retire Prior To/);
    expect(decodeFrames(fromHex(`18 ${v(2n ** 60n + 1n)} ${v(2n ** 60n)} 01 01 ${token}`))).toHaveLength(1);
    expect(decodeFrames(fromHex(`18 05 05 14 ${'01'.repeat(20)} ${token}`))).toHaveLength(1);
  });

  it('MAX_STREAMS and STREAMS_BLOCKED above 2^60', () => {
    for (const t of ['12', '13', '16', '17']) {
      expectError(`${t} ${v(2n ** 60n + 1n)}`, FEE, Number.parseInt(t, 16), /2\^60/);
      expect(decodeFrames(fromHex(`${t} ${v(2n ** 60n)}`))).toHaveLength(1);
    }
  });

  it('STREAM and CRYPTO data ending past 2^62-1', () => {
    const max = 2n ** 62n - 1n;
    expectError(`0e 00 ${v(max)} 01 aa`, FEE, 0x0e, /2\^62/);
    expectError(`0c 00 ${v(max - 1n)} aabb`, FEE, 0x0c, /2\^62/);
    expectError(`06 ${v(max)} 01 aa`, FEE, 0x06, /2\^62/);
    expect(decodeFrames(fromHex(`0e 00 ${v(max)} 00`))).toHaveLength(1);
    expect(decodeFrames(fromHex(`0c 00 ${v(max - 1n)} aa`))).toHaveLength(1);
  });

  it('lengths running past the packet', () => {
    expectError('0a 00 05 aabb', FEE, 0x0a, /STREAM Length/);
    expectError('06 00 05 aabb', FEE, 0x06, /CRYPTO Length/);
    expectError('07 05 aabb', FEE, 0x07, /Token Length/);
    expectError('1c 01 00 05 6869', FEE, 0x1c, /Reason Phrase/);
    expectError('1d 01 05 6869', FEE, 0x1d, /Reason Phrase/);
    expectError('31 05 aabb', FEE, 0x31, /DATAGRAM Length/);
  });

  it('an empty NEW_TOKEN', () => {
    expectError('07 00', FEE, 0x07, /empty/);
  });

  it('property: random payloads only ever raise QuicError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const frames = decodeFrames(bytes);
          for (const f of frames) expect(typeof f.type).toBe('number');
        } catch (e) {
          expect(e).toBeInstanceOf(QuicError);
          expect([FEE, PV]).toContain((e as QuicError).code);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: random payloads starting with each known frame type only ever raise QuicError', () => {
    const types = [...Array(0x1f).keys(), 0x30, 0x31];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 40 }), (t, rest) => {
        const bytes = new Uint8Array(1 + rest.length);
        bytes[0] = t;
        bytes.set(rest, 1);
        try {
          decodeFrames(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(QuicError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ------------------------------------------------------------------------------------------
// Encoding

const safe = fc.maxSafeNat();
const small = fc.nat(1 << 20);
const code = fc.bigInt({ min: 0n, max: VARINT_MAX });
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

const ackRanges: fc.Arbitrary<number[]> = fc
  .tuple(fc.nat(1 << 30), fc.array(fc.tuple(fc.nat(1000), fc.nat(1000)), { minLength: 1, maxLength: 12 }))
  .map(([base, pairs]) => {
    const ascending: number[] = [];
    let low = base;
    for (const [gap, len] of pairs) {
      ascending.push(low, low + len);
      low = low + len + gap + 2;
    }
    const out: number[] = [];
    for (let i = ascending.length - 2; i >= 0; i -= 2) out.push(ascending[i + 1]!, ascending[i]!);
    return out;
  });

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.integer({ min: 1, max: 50 }).map((length): Frame => ({ type: 0x00, length })),
  fc.constant<Frame>({ type: 0x01 }),
  fc.tuple(ackRanges, small, fc.boolean(), small, small, small).map(([ranges, ackDelay, ecn, ect0, ect1, ce]): Frame =>
    ecn
      ? { type: 0x03, largestAcknowledged: ranges[0]!, ackDelay, ranges, ect0, ect1, ce }
      : { type: 0x02, largestAcknowledged: ranges[0]!, ackDelay, ranges, ect0: 0, ect1: 0, ce: 0 },
  ),
  fc.tuple(safe, code, safe).map(([streamId, errorCode, finalSize]): Frame => ({ type: 0x04, streamId, errorCode, finalSize })),
  fc.tuple(safe, code).map(([streamId, errorCode]): Frame => ({ type: 0x05, streamId, errorCode })),
  fc.tuple(safe, bytes(60)).map(([offset, data]): Frame => ({ type: 0x06, offset: Math.max(0, offset - data.length), data })),
  fc.uint8Array({ minLength: 1, maxLength: 60 }).map((token): Frame => ({ type: 0x07, token })),
  fc.tuple(safe, safe, bytes(60), fc.boolean(), fc.boolean()).map(([streamId, offset, data, fin, explicitLength]): Frame => ({
    type: 0x08, streamId, offset: Math.max(0, offset - data.length), data, fin, explicitLength,
  })),
  safe.map((maximumData): Frame => ({ type: 0x10, maximumData })),
  fc.tuple(safe, safe).map(([streamId, maximumStreamData]): Frame => ({ type: 0x11, streamId, maximumStreamData })),
  fc.tuple(fc.constantFrom(0x12, 0x13, 0x16, 0x17), safe).map(([t, maximumStreams]) => ({ type: t, maximumStreams }) as Frame),
  safe.map((maximumData): Frame => ({ type: 0x14, maximumData })),
  fc.tuple(safe, safe).map(([streamId, maximumStreamData]): Frame => ({ type: 0x15, streamId, maximumStreamData })),
  fc.tuple(safe, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(
    ([sequenceNumber, back, connectionId, statelessResetToken]): Frame => ({
      type: 0x18, sequenceNumber, retirePriorTo: Math.max(0, sequenceNumber - back), connectionId, statelessResetToken,
    }),
  ),
  safe.map((sequenceNumber): Frame => ({ type: 0x19, sequenceNumber })),
  fc.tuple(fc.constantFrom(0x1a, 0x1b), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([t, data]) => ({ type: t, data }) as Frame),
  fc.tuple(code, safe, bytes(40)).map(([errorCode, frameType, reason]): Frame => ({ type: 0x1c, errorCode, frameType, reason })),
  fc.tuple(code, bytes(40)).map(([errorCode, reason]): Frame => ({ type: 0x1d, errorCode, reason })),
  fc.constant<Frame>({ type: 0x1e }),
  fc.tuple(bytes(60), fc.boolean()).map(([data, explicitLength]): Frame => ({ type: 0x30, data, explicitLength })),
);

/** Frames that run to the end of the packet must be last; padding runs merge. */
function normalise(frames: Frame[]): Frame[] {
  const out: Frame[] = [];
  frames.forEach((f, i) => {
    let g = f;
    if ((g.type === 0x08 || g.type === 0x30) && i < frames.length - 1) g = { ...g, explicitLength: true };
    const prev = out[out.length - 1];
    if (g.type === 0x00 && prev?.type === 0x00) out[out.length - 1] = { type: 0x00, length: prev.length + g.length };
    else out.push(g);
  });
  return out;
}

describe('encoding', () => {
  it('property: encode then decode is the identity for every frame type, and frameLength is exact', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const out = encodeFrameToBytes(frame);
        expect(out.length).toBe(frameLength(frame));
        expect(out[0]).toBe(wireFrameType(frame));
        expect(decodeFrames(out)).toEqual([frame]);
      }),
      { numRuns: 1500 },
    );
  });

  it('property: a sequence of frames in one payload decodes back to the same sequence', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), (raw) => {
        const frames = normalise(raw);
        const buf = new Uint8Array(frames.reduce((n, f) => n + frameLength(f), 0) + 5);
        let p = 5;
        for (const f of frames) p = encodeFrame(f, buf, p);
        expect(p).toBe(buf.length);
        const r = new BufferReader(buf, 5);
        const back: Frame[] = [];
        while (r.pos < r.end) back.push(readFrame(r));
        expect(back).toEqual(frames);
      }),
      { numRuns: 1000 },
    );
  });

  it('fast writers produce the same bytes as encodeFrame', () => {
    fc.assert(
      fc.property(safe, fc.nat(1 << 30), bytes(30), fc.boolean(), fc.boolean(), ackRanges, small, fc.boolean(), (id, offset, data, fin, explicitLength, ranges, delay, ecn) => {
        const buf = new Uint8Array(400);
        let p = writeStreamFrameHeader(buf, 0, id, offset, data.length, fin, explicitLength);
        expect(p).toBe(streamFrameHeaderLength(id, offset, data.length, explicitLength));
        buf.set(data, p);
        expect(buf.subarray(0, p + data.length)).toEqual(
          encodeFrameToBytes({ type: 0x08, streamId: id, offset, data, fin, explicitLength }),
        );
        p = writeCryptoFrameHeader(buf, 0, offset, data.length);
        expect(p).toBe(cryptoFrameHeaderLength(offset, data.length));
        buf.set(data, p);
        expect(buf.subarray(0, p + data.length)).toEqual(encodeFrameToBytes({ type: 0x06, offset, data }));
        p = writeDatagramFrameHeader(buf, 0, data.length, explicitLength);
        buf.set(data, p);
        expect(buf.subarray(0, p + data.length)).toEqual(encodeFrameToBytes({ type: 0x30, data, explicitLength }));
        const counts = ecn ? { ect0: 1, ect1: 2, ce: 3 } : null;
        p = writeAckFrame(buf, 0, ranges, delay, counts);
        expect(p).toBe(ackFrameLength(ranges, delay, counts));
        const decoded = decodeFrames(buf.subarray(0, p));
        expect(decoded).toEqual([
          { type: ecn ? 0x03 : 0x02, largestAcknowledged: ranges[0], ackDelay: delay, ranges, ect0: ecn ? 1 : 0, ect1: ecn ? 2 : 0, ce: ecn ? 3 : 0 },
        ]);
      }),
      { numRuns: 500 },
    );
  });

  it('the STREAM OFF bit is set only for a non-zero offset', () => {
    const buf = new Uint8Array(20);
    writeStreamFrameHeader(buf, 0, 4, 0, 3, false, true);
    expect(buf[0]).toBe(0x0a);
    writeStreamFrameHeader(buf, 0, 4, 1, 3, true, false);
    expect(buf[0]).toBe(0x0d);
  });

  it('refuses invalid frames and short buffers with RangeError, writing nothing', () => {
    const buf = new Uint8Array(10);
    expect(() => encodeFrame({ type: 0x07, token: new Uint8Array(0) }, buf, 0)).toThrow(RangeError);
    expect(() => encodeFrame({ type: 0x1a, data: new Uint8Array(7) }, buf, 0)).toThrow(RangeError);
    expect(() =>
      encodeFrame({ type: 0x18, sequenceNumber: 1, retirePriorTo: 2, connectionId: fromHex('01'), statelessResetToken: new Uint8Array(16) }, new Uint8Array(40), 0),
    ).toThrow(/retirePriorTo/);
    expect(() =>
      encodeFrame({ type: 0x18, sequenceNumber: 1, retirePriorTo: 0, connectionId: new Uint8Array(21), statelessResetToken: new Uint8Array(16) }, new Uint8Array(60), 0),
    ).toThrow(RangeError);
    expect(() => encodeFrame({ type: 0x06, offset: 0, data: new Uint8Array(9) }, buf, 0)).toThrow(/does not fit/);
    expect(Array.from(buf)).toEqual(Array(10).fill(0));
    expect(() => writeAckFrame(buf, 0, [5, 6], 0, null)).toThrow(RangeError);
    expect(() => writeAckFrame(buf, 0, [9, 5, 4, 0], 0, null)).toThrow(/gap/);
    expect(() => writeAckFrame(buf, 0, [], 0, null)).toThrow(RangeError);
    expect(() => writeStreamFrameHeader(buf, 0, 0, 0, 20, false, true)).toThrow(/does not fit/);
    expect(() => frameLength({ type: 0x02, largestAcknowledged: 4, ackDelay: 0, ranges: [5, 5], ect0: 0, ect1: 0, ce: 0 })).toThrow(RangeError);
    expect(() => frameLength({ type: 0x00, length: 0 })).toThrow(RangeError);
    expect(() => frameLength({ type: 0x99 } as unknown as Frame)).toThrow(TypeError);
  });
});
