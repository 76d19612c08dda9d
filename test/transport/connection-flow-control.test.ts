/**
 * Flow control end to end (RFC 9000 §4): MAX_DATA, MAX_STREAM_DATA and MAX_STREAMS credit
 * flows as the application reads; DATA_BLOCKED, STREAM_DATA_BLOCKED and STREAMS_BLOCKED go
 * out when a sender is blocked and are surfaced as events where they arrive; the receive
 * window auto-tunes so one stream can fill a fast path.
 */
import { describe, it, expect } from 'vitest';
import { makePair, runHandshake, payload, type QuicPair, type PairOptions } from '../support/quic-pair.js';
import { inject, wireFrames } from '../support/quic-wire.js';
import type { Connection } from '../../src/transport/connection.js';
import type { ConnectionEvent } from '../../src/transport/events.js';
import { FrameType, type Frame } from '../../src/transport/frame-types.js';

async function established(opts: PairOptions = {}): Promise<QuicPair> {
  const pair = await makePair(opts);
  expect(runHandshake(pair)).toBe(true);
  pair.net.run(() => false, 100);
  return pair;
}

/** Collects the frames each side (or only side `only`) sends. */
function frames(pair: QuicPair, only?: 0 | 1): [Frame[], Frame[]] {
  const out: [Frame[], Frame[]] = [[], []];
  pair.net.tap = (from, d) => {
    if (only === undefined || from === only) out[from].push(...wireFrames(pair, from, d));
    return d;
  };
  return out;
}

function readAll(c: Connection, id: number): number {
  let n = 0;
  for (let r = c.streamRead(id); r && r.data.length > 0; r = c.streamRead(id)) n += r.data.length;
  return n;
}

const ofType = <T extends ConnectionEvent['type']>(events: ConnectionEvent[], type: T) =>
  events.filter((e): e is Extract<ConnectionEvent, { type: T }> => e.type === type);

describe('stream flow control', () => {
  it('a stream blocked at its window sends STREAM_DATA_BLOCKED; the receiver surfaces it, reads, and MAX_STREAM_DATA unblocks', async () => {
    const pair = await established({ serverTransport: { initialMaxStreamDataBidiRemote: 16_000, maxStreamWindow: 16_000 } });
    const client = pair.client;
    const server = pair.server.conn!;
    const wire = frames(pair);
    const id = client.openStream(true)!;
    client.streamWrite(id, payload(100_000), true);
    pair.net.run(() => false, 300);
    // Exactly the window crossed, then the sender said it is blocked at 16000.
    expect(server.streamReadable(id)).toBe(16_000);
    expect(wire[0].filter((f) => f.type === FrameType.StreamDataBlocked)).toEqual([
      { type: FrameType.StreamDataBlocked, streamId: id, maximumStreamData: 16_000 },
    ]);
    expect(ofType(pair.serverEvents, 'peerStreamDataBlocked')).toEqual([{ type: 'peerStreamDataBlocked', streamId: id, limit: 16_000 }]);
    expect(client.streamSendCredit(id)).toBe(0);
    // Reading releases credit: MAX_STREAM_DATA, a streamWritable event, and the rest flows.
    let got = 0;
    pair.net.afterStep = () => {
      pair.collect();
      got += readAll(server, id);
    };
    pair.net.run(() => got === 100_000, 5000);
    expect(got).toBe(100_000);
    const msd = wire[1].filter((f) => f.type === FrameType.MaxStreamData);
    expect(msd.length).toBeGreaterThan(4);
    expect(msd.every((f) => f.type === FrameType.MaxStreamData && f.maximumStreamData <= (f.streamId === id ? got + 16_000 : Infinity))).toBe(true);
    expect(ofType(pair.clientEvents, 'streamWritable').map((e) => e.streamId)).toContain(id);
  });

  it('an unread stream never receives more than its window', async () => {
    const pair = await established({ serverTransport: { initialMaxStreamDataBidiRemote: 10_000 } });
    const id = pair.client.openStream(true)!;
    pair.client.streamWrite(id, payload(1_000_000));
    pair.net.run(() => false, 3000);
    expect(pair.server.conn!.streamReadable(id)).toBe(10_000);
    expect(pair.client.state).toBe('established');
  });
});

describe('connection flow control', () => {
  it('streams blocked at MAX_DATA send DATA_BLOCKED, surfaced as peerDataBlocked; reading sends MAX_DATA', async () => {
    const pair = await established({ serverTransport: { initialMaxData: 30_000, maxConnectionWindow: 30_000 } });
    const client = pair.client;
    const server = pair.server.conn!;
    const wire = frames(pair);
    const ids = [client.openStream(true)!, client.openStream(true)!, client.openStream(false)!];
    for (const id of ids) client.streamWrite(id, payload(40_000, id), true);
    pair.net.run(() => false, 300);
    const buffered = ids.reduce((n, id) => n + server.streamReadable(id), 0);
    expect(buffered).toBe(30_000);
    expect(wire[0].filter((f) => f.type === FrameType.DataBlocked)).toEqual([{ type: FrameType.DataBlocked, maximumData: 30_000 }]);
    expect(ofType(pair.serverEvents, 'peerDataBlocked')).toEqual([{ type: 'peerDataBlocked', limit: 30_000 }]);
    const got = new Map<number, number>();
    pair.net.afterStep = () => {
      pair.collect();
      for (const id of ids) got.set(id, (got.get(id) ?? 0) + readAll(server, id));
    };
    pair.net.run(() => ids.every((id) => got.get(id) === 40_000), 5000);
    expect(ids.map((id) => got.get(id))).toEqual([40_000, 40_000, 40_000]);
    const md = wire[1].filter((f) => f.type === FrameType.MaxData);
    expect(md.length).toBeGreaterThan(2);
    // Every MAX_DATA stays within one window of what was consumed (nothing runs away).
    const last = md.at(-1)!;
    expect(last.type === FrameType.MaxData && last.maximumData).toBeLessThanOrEqual(120_000 + 30_000);
  });

  it('a stale BLOCKED frame (for a limit already raised) is not surfaced', async () => {
    const pair = await established({ serverTransport: { initialMaxData: 30_000 } });
    inject(pair, 0, [{ type: FrameType.DataBlocked, maximumData: 10_000 }]);
    inject(pair, 0, [{ type: FrameType.StreamDataBlocked, streamId: 0, maximumStreamData: 1 }]);
    pair.collect();
    expect(ofType(pair.serverEvents, 'peerDataBlocked')).toEqual([]);
    expect(ofType(pair.serverEvents, 'peerStreamDataBlocked')).toEqual([]);
    inject(pair, 0, [{ type: FrameType.DataBlocked, maximumData: 30_000 }]);
    pair.collect();
    expect(ofType(pair.serverEvents, 'peerDataBlocked')).toEqual([{ type: 'peerDataBlocked', limit: 30_000 }]);
  });
});

describe('stream count flow control', () => {
  it('at the limit openStream returns undefined and STREAMS_BLOCKED goes out; closed streams bring MAX_STREAMS', async () => {
    const pair = await established({ serverTransport: { initialMaxStreamsBidi: 4 } });
    const client = pair.client;
    const server = pair.server.conn!;
    const wire = frames(pair);
    expect(client.streamsAvailable(true)).toBe(4);
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push(client.openStream(true)!);
    expect(client.openStream(true)).toBeUndefined();
    pair.net.run(() => false, 100);
    expect(wire[0].filter((f) => f.type === FrameType.StreamsBlockedBidi)).toEqual([{ type: FrameType.StreamsBlockedBidi, maximumStreams: 4 }]);
    expect(ofType(pair.serverEvents, 'peerNeedsStreams')).toEqual([{ type: 'peerNeedsStreams', bidi: true }]);
    // Finish the streams both ways: the server forgets them and raises the limit.
    for (const id of ids) client.streamWrite(id, payload(10), true);
    pair.net.run(() => false, 100);
    for (const id of ids) {
      readAll(server, id);
      server.streamRead(id);
      server.streamWrite(id, payload(10), true);
    }
    pair.net.afterStep = () => {
      pair.collect();
      for (const id of ids) readAll(client, id);
    };
    pair.net.run(() => ofType(pair.clientEvents, 'streamsAvailable').length > 0, 1000);
    const maxStreams = wire[1].filter((f) => f.type === FrameType.MaxStreamsBidi);
    expect(maxStreams.length).toBeGreaterThan(0);
    expect(ofType(pair.clientEvents, 'streamsAvailable').at(-1)!.bidi).toBeGreaterThan(0);
    expect(client.openStream(true)).toBe(16);
  });

  it('setPeerStreamLimit raises the limit at once with MAX_STREAMS', async () => {
    const pair = await established({ serverTransport: { initialMaxStreamsUni: 1 } });
    const wire = frames(pair);
    expect(pair.client.streamsAvailable(false)).toBe(1);
    pair.server.conn!.setPeerStreamLimit(false, 10);
    pair.net.run(() => false, 100);
    expect(wire[1].some((f) => f.type === FrameType.MaxStreamsUni && f.maximumStreams === 10)).toBe(true);
    expect(pair.client.streamsAvailable(false)).toBe(10);
  });
});

describe('receive window auto-tuning', () => {
  it('one stream fills a fast path: the stream window grows well past its initial size', async () => {
    const initial = 64 * 1024;
    const pair = await established({
      link: { delay: 10, rate: 100_000 /* 100 MB/s */, queueBytes: 2_000_000 },
      transport: { initialMaxStreamDataBidiRemote: initial, maxStreamWindow: 16 * 1024 * 1024 },
    });
    const client = pair.client;
    const server = pair.server.conn!;
    const wire = frames(pair, 1);
    const id = client.openStream(true)!;
    const size = 20 * 1024 * 1024;
    const data = payload(size);
    let written = 0;
    let got = 0;
    const t0 = pair.net.now;
    pair.net.afterStep = () => {
      pair.collect();
      while (written < size && client.streamUnacked(id) < 8 << 20) {
        client.streamWrite(id, data.subarray(written, written + (1 << 20)), written + (1 << 20) >= size);
        written += 1 << 20;
      }
      got += readAll(server, id);
    };
    pair.net.run(() => got === size, 60_000);
    expect(got).toBe(size);
    const ms = pair.net.now - t0;
    const msd = wire[1].filter((f): f is Extract<Frame, { type: typeof FrameType.MaxStreamData }> => f.type === FrameType.MaxStreamData);
    const window = server.streams.get(id)?.recvCredit.window ?? msd.at(-1)!.maximumStreamData;
    // A fixed 64 KiB window would allow 64 KiB per 20 ms round trip: 3.2 MB/s, over 6 s for 20 MB.
    console.log(`auto-tuning: 20 MB in ${ms.toFixed(0)} ms simulated, stream window ${initial} -> ${window}`);
    expect(window).toBeGreaterThanOrEqual(16 * initial);
    expect(ms).toBeLessThan(2000);
  });
});
