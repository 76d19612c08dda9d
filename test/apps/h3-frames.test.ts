import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { H3FrameReader, encodeDataFrameHeader, encodeH3Frame, encodeSettings, type H3FrameHandler } from '../../src/apps/h3-frames.js';
import { decodeSettings } from '../../src/apps/h3-connection.js';
import { H3Error, H3ErrorCode, H3FrameType } from '../../src/apps/h3-constants.js';
import { concatBytes, fromHex, toHex } from '../../src/util/bytes.js';

/** Records what the reader reports; DATA pieces are joined per frame. */
class Recorder implements H3FrameHandler {
  events: string[] = [];
  private data: number[] | undefined;
  onFrame(type: number, payload: Uint8Array): void {
    this.flush();
    this.events.push(`frame ${type} ${toHex(payload)}`);
  }
  onDataFrame(length: number): void {
    this.flush();
    this.data = [];
    this.events.push(`data ${length}`);
    if (length === 0) this.flush();
  }
  onData(d: Uint8Array): void {
    this.data!.push(...d);
  }
  flush(): void {
    if (this.data !== undefined && this.data.length > 0) this.events.push(`bytes ${toHex(Uint8Array.from(this.data))}`);
    this.data = undefined;
  }
}

function h3Error(f: () => void): number | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(H3Error);
    return (e as H3Error).code;
  }
  return undefined;
}

const stream = concatBytes(
  encodeH3Frame(H3FrameType.HEADERS, fromHex('0000d1')),
  encodeH3Frame(0x21, fromHex('deadbeef')), // reserved (grease) type: skipped
  encodeDataFrameHeader(5),
  fromHex('0102030405'),
  encodeH3Frame(0x1f * 7 + 0x21, new Uint8Array(70000)), // large unknown frame: skipped, not buffered
  encodeDataFrameHeader(0),
  encodeH3Frame(H3FrameType.HEADERS, fromHex('0000')),
);
const expected = ['frame 1 0000d1', 'data 5', 'bytes 0102030405', 'data 0', 'frame 1 0000'];

describe('H3FrameReader', () => {
  it('splits frames, passes DATA through and skips unknown types', () => {
    const r = new Recorder();
    const reader = new H3FrameReader(r);
    reader.push(stream);
    r.flush();
    expect(r.events).toEqual(expected);
    expect(reader.atFrameBoundary).toBe(true);
    expect(() => reader.end()).not.toThrow();
  });

  it('gives the same result however the bytes are split', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const r = new Recorder();
        const reader = new H3FrameReader(r);
        let prev = 0;
        for (const p of [...points, stream.length]) {
          reader.push(stream.subarray(prev, p));
          prev = p;
        }
        r.flush();
        expect(r.events).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('also works one byte at a time (varint headers split across pushes)', () => {
    const r = new Recorder();
    const reader = new H3FrameReader(r);
    for (let i = 0; i < stream.length; i++) reader.push(stream.subarray(i, i + 1));
    r.flush();
    expect(r.events).toEqual(expected);
  });

  it('refuses a collected frame above the limit with H3_EXCESSIVE_LOAD', () => {
    const reader = new H3FrameReader(new Recorder(), 100);
    expect(h3Error(() => reader.push(encodeH3Frame(H3FrameType.HEADERS, new Uint8Array(101))))).toBe(H3ErrorCode.H3_EXCESSIVE_LOAD);
  });

  it('reports a stream that ends inside a frame as H3_FRAME_ERROR', () => {
    const reader = new H3FrameReader(new Recorder());
    reader.push(encodeH3Frame(H3FrameType.HEADERS, fromHex('000000')).subarray(0, 3));
    expect(reader.atFrameBoundary).toBe(false);
    expect(h3Error(() => reader.end())).toBe(H3ErrorCode.H3_FRAME_ERROR);
    const inData = new H3FrameReader(new Recorder());
    inData.push(concatBytes(encodeDataFrameHeader(4), fromHex('01')));
    expect(h3Error(() => inData.end())).toBe(H3ErrorCode.H3_FRAME_ERROR);
  });
});

describe('SETTINGS', () => {
  it('round-trips identifiers and values, including unknown (grease) ones', () => {
    const s = decodeSettings(encodeSettings([[0x01, 0], [0x07, 0], [0x21, 12345], [0x06, 1 << 20]]));
    expect([...s]).toEqual([[0x01, 0], [0x07, 0], [0x21, 12345], [0x06, 1 << 20]]);
  });

  it('rejects a repeated setting and HTTP/2-only settings with H3_SETTINGS_ERROR', () => {
    expect(h3Error(() => decodeSettings(encodeSettings([[0x01, 0], [0x01, 0]])))).toBe(H3ErrorCode.H3_SETTINGS_ERROR);
    for (const id of [2, 3, 4, 5]) expect(h3Error(() => decodeSettings(encodeSettings([[id, 1]])))).toBe(H3ErrorCode.H3_SETTINGS_ERROR);
  });

  it('rejects a truncated payload with H3_FRAME_ERROR', () => {
    expect(h3Error(() => decodeSettings(fromHex('01')))).toBe(H3ErrorCode.H3_FRAME_ERROR);
    expect(h3Error(() => decodeSettings(fromHex('0140')))).toBe(H3ErrorCode.H3_FRAME_ERROR);
  });
});
