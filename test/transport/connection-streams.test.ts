/**
 * Streams end to end (RFC 9000 §2–§3, §19.4–§19.8): reassembly of out-of-order, duplicate and
 * overlapping data exactly once, FIN and final size, RESET_STREAM and STOP_SENDING in both
 * directions with their events and error codes, implicit opening, and stream closure.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { makePair, runHandshake, payload, type QuicPair, type PairOptions } from '../support/quic-pair.js';
import { F, inject, wireFrames } from '../support/quic-wire.js';
import type { Connection } from '../../src/transport/connection.js';
import type { ConnectionEvent } from '../../src/transport/events.js';
import { FrameType, type Frame } from '../../src/transport/frame-types.js';

async function established(opts: PairOptions = {}): Promise<QuicPair> {
  const pair = await makePair(opts);
  expect(runHandshake(pair)).toBe(true);
  pair.net.run(() => false, 100);
  return pair;
}

/** Reads everything readable on a stream now. */
function drain(c: Connection, id: number): { data: Uint8Array; fin: boolean } {
  const parts: Uint8Array[] = [];
  let fin = false;
  for (;;) {
    const r = c.streamRead(id);
    if (r === undefined) break;
    if (r.data.length > 0) parts.push(r.data);
    fin ||= r.fin;
    if (r.data.length === 0) break;
  }
  const n = parts.reduce((a, p) => a + p.length, 0);
  const data = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { data, fin };
}

const ofType = <T extends ConnectionEvent['type']>(events: ConnectionEvent[], type: T) =>
  events.filter((e): e is Extract<ConnectionEvent, { type: T }> => e.type === type);

describe('reassembly', () => {
  it('out-of-order, duplicate and overlapping STREAM frames are delivered exactly once, in order', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    let stream = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4000 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 1000 }),
        (size, cuts, seed) => {
          const id = stream;
          stream += 4;
          const data = payload(size, seed + 1);
          // Segments: random [start, end) pairs (overlapping, duplicated), then a cover of the
          // whole range so that everything arrives; shuffled by the generated order.
          const segs: Array<[number, number]> = cuts.map(([a, b]) => {
            const s = a % size;
            return [s, Math.min(size, s + 1 + (b % 1500))];
          });
          for (let o = 0; o < size; o += 1000) segs.push([o, Math.min(size, o + 1000)]);
          const order = segs.map((s, i) => ({ s, k: (cuts[i % cuts.length]![2] ? 1 : -1) * ((i * 7919 + seed) % 101) }));
          order.sort((x, y) => x.k - y.k);
          let received = 0;
          const events: ConnectionEvent[] = [];
          for (const { s } of order) {
            const fin = s[1] === size;
            inject(pair, 0, [F.stream(id, s[0], data.subarray(s[0], s[1]), fin)]);
            for (let e = server.pollEvent(); e; e = server.pollEvent()) events.push(e);
            const r = drain(server, id);
            expect(data.subarray(received, received + r.data.length)).toEqual(r.data);
            received += r.data.length;
          }
          expect(received).toBe(size);
          expect(server.state).toBe('established');
          expect(ofType(events, 'streamOpened').map((e) => e.streamId)).toEqual([id]);
          // Edge-triggered: never two readable events without a read in between.
          expect(ofType(events, 'streamReadable').length).toBeLessThanOrEqual(order.length);
        },
      ),
      { numRuns: 40, seed: 7 },
    );
    // The ACKs for all those packets went back and were accepted.
    pair.net.run(() => false, 200);
    expect(pair.client.state).toBe('established');
  });

  it('a frame for a higher stream opens the lower ones of the same type, in order', async () => {
    const pair = await established();
    inject(pair, 0, [F.stream(8, 0, Uint8Array.of(1), true)]);
    const server = pair.server.conn!;
    const opened: number[] = [];
    for (let e = server.pollEvent(); e; e = server.pollEvent()) if (e.type === 'streamOpened') opened.push(e.streamId);
    expect(opened).toEqual([0, 4, 8]);
    inject(pair, 0, [F.stream(2, 0, Uint8Array.of(1), true)]);
    const more: number[] = [];
    for (let e = server.pollEvent(); e; e = server.pollEvent()) if (e.type === 'streamOpened') more.push(e.streamId);
    expect(more).toEqual([2]);
  });
});

describe('FIN and final size', () => {
  it('data then a FIN-only frame; an empty stream with FIN; streamSendComplete and streamClosed', async () => {
    const pair = await established();
    const { client } = pair;
    const server = pair.server.conn!;
    const a = client.openStream(true)!;
    client.streamWrite(a, payload(5000));
    pair.net.run(() => server.streamReadable(a) === 5000, 1000);
    expect(drain(server, a)).toEqual({ data: payload(5000), fin: false });
    client.streamWrite(a, new Uint8Array(0), true);
    pair.net.run(() => false, 100);
    expect(drain(server, a)).toEqual({ data: new Uint8Array(0), fin: true });
    expect(() => client.streamWrite(a, Uint8Array.of(1))).toThrow(TypeError);

    const b = client.openStream(false)!;
    client.streamWrite(b, new Uint8Array(0), true);
    pair.net.run(() => false, 100);
    expect(drain(server, b)).toEqual({ data: new Uint8Array(0), fin: true });
    pair.net.run(() => false, 200);
    // The client's uni stream is done on both sides.
    expect(ofType(pair.clientEvents, 'streamSendComplete').map((e) => e.streamId).sort()).toEqual([a, b].sort());
    expect(ofType(pair.clientEvents, 'streamClosed').map((e) => e.streamId)).toEqual([b]);
    expect(ofType(pair.serverEvents, 'streamClosed').map((e) => e.streamId)).toEqual([b]);
    // The bidi stream closes once the server finishes its direction too.
    server.streamWrite(a, payload(100), true);
    pair.net.run(() => false, 200);
    expect(drain(client, a)).toEqual({ data: payload(100), fin: true });
    pair.net.run(() => false, 200);
    expect(ofType(pair.clientEvents, 'streamClosed').map((e) => e.streamId).sort()).toEqual([a, b].sort());
    expect(ofType(pair.serverEvents, 'streamClosed').map((e) => e.streamId).sort()).toEqual([a, b].sort());
    expect(client.streamRead(a)).toBeUndefined();
    expect(server.streamRead(a)).toBeUndefined();
  });

  it('a FIN that arrives before the data completes the stream once the gap fills', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    const data = payload(3000);
    inject(pair, 0, [F.stream(0, 2000, data.subarray(2000), true)]);
    expect(drain(server, 0)).toEqual({ data: new Uint8Array(0), fin: false });
    inject(pair, 0, [F.stream(0, 0, data.subarray(0, 2000))]);
    expect(drain(server, 0)).toEqual({ data, fin: true });
    // A retransmission of the FIN at the same size is fine.
    inject(pair, 0, [F.stream(0, 2000, data.subarray(2000), true)]);
    expect(server.state).toBe('established');
  });
});

describe('RESET_STREAM', () => {
  for (const resetter of ['client', 'server'] as const) {
    it(`reset by the ${resetter}: the peer sees streamReset with the code and final size`, async () => {
      const pair = await established();
      const client = pair.client;
      const server = pair.server.conn!;
      const id = client.openStream(true)!;
      client.streamWrite(id, payload(100));
      pair.net.run(() => server.streamReadable(id) === 100, 500);
      const [sender, receiver, recvEvents] = resetter === 'client' ? [client, server, pair.serverEvents] : [server, client, pair.clientEvents];
      if (resetter === 'server') {
        server.streamWrite(id, payload(700));
        pair.net.run(() => client.streamReadable(id) === 700, 500);
      }
      const size = resetter === 'client' ? 100 + 5000 : 700 + 5000;
      sender.streamWrite(id, payload(5000, 3));
      pair.net.run(() => false, 5); // sent, not yet all acknowledged
      // Queued but never sent: not part of the final size (RFC 9000 §4.5).
      sender.streamWrite(id, payload(300_000, 4));
      sender.streamReset(id, 0x1234n);
      expect(() => sender.streamWrite(id, Uint8Array.of(1))).toThrow(TypeError);
      pair.net.run(() => recvEvents.some((e) => e.type === 'streamReset'), 1000);
      const ev = ofType(recvEvents, 'streamReset');
      expect(ev).toEqual([{ type: 'streamReset', streamId: id, errorCode: 0x1234n, finalSize: size }]);
      // Nothing more is readable after a reset, even what was buffered.
      expect(receiver.streamReadable(id)).toBe(0);
      expect(receiver.streamRead(id)?.data.length ?? 0).toBe(0);
      expect(client.state).toBe('established');
      expect(server.state).toBe('established');
    });
  }

  it('a lost RESET_STREAM is sent again', async () => {
    const pair = await established();
    const client = pair.client;
    const id = client.openStream(true)!;
    client.streamWrite(id, payload(10));
    pair.net.run(() => false, 100);
    let drops = 0;
    let resets = 0;
    pair.net.tap = (from, d) => {
      if (from === 0 && wireFrames(pair, 0, d).some((f) => f.type === FrameType.ResetStream)) {
        resets++;
        if (drops++ === 0) return undefined;
      }
      return d;
    };
    client.streamReset(id, 9);
    pair.net.run(() => pair.serverEvents.some((e) => e.type === 'streamReset'), 3000);
    expect(resets).toBe(2);
    expect(ofType(pair.serverEvents, 'streamReset')[0]).toMatchObject({ errorCode: 9n, finalSize: 10 });
  });

  it('a reset after all data arrived leaves the data readable and is not reported', async () => {
    const pair = await established();
    const server = pair.server.conn!;
    inject(pair, 0, [F.stream(0, 0, payload(50), true)]);
    inject(pair, 0, [{ type: FrameType.ResetStream, streamId: 0, errorCode: 1n, finalSize: 50 }]);
    expect(drain(server, 0)).toEqual({ data: payload(50), fin: true });
    const events: ConnectionEvent[] = [];
    for (let e = server.pollEvent(); e; e = server.pollEvent()) events.push(e);
    expect(ofType(events, 'streamReset')).toEqual([]);
  });
});

describe('STOP_SENDING', () => {
  for (const asker of ['client', 'server'] as const) {
    it(`asked by the ${asker}: the peer sees streamStopSending and answers with RESET_STREAM carrying the code`, async () => {
      const pair = await established();
      const client = pair.client;
      const server = pair.server.conn!;
      const id = client.openStream(true)!;
      client.streamWrite(id, payload(100));
      pair.net.run(() => server.streamReadable(id) === 100, 500);
      server.streamWrite(id, payload(100));
      pair.net.run(() => client.streamReadable(id) === 100, 500);
      drain(client, id);
      drain(server, id);
      const [stopper, peer, stopperEvents, peerEvents] =
        asker === 'server' ? [server, client, pair.serverEvents, pair.clientEvents] : [client, server, pair.clientEvents, pair.serverEvents];
      const peerSide: 0 | 1 = asker === 'server' ? 0 : 1;
      const frames: Frame[] = [];
      pair.net.tap = (from, d) => {
        if (from === peerSide) frames.push(...wireFrames(pair, from, d));
        return d;
      };
      peer.streamWrite(id, payload(200_000));
      stopper.streamStopSending(id, 77n);
      pair.net.run(() => stopperEvents.some((e) => e.type === 'streamReset'), 2000);
      expect(ofType(peerEvents, 'streamStopSending')).toEqual([{ type: 'streamStopSending', streamId: id, errorCode: 77n }]);
      const reset = frames.find((f) => f.type === FrameType.ResetStream);
      expect(reset).toMatchObject({ streamId: id, errorCode: 77n });
      expect(ofType(stopperEvents, 'streamReset')[0]).toMatchObject({ streamId: id, errorCode: 77n });
      // The peer stopped sending: far less than the 200 kB crossed the wire afterwards.
      const after = frames.filter((f) => f.type === FrameType.Stream).reduce((n, f) => n + (f.type === FrameType.Stream ? f.data.length : 0), 0);
      expect(after).toBeLessThan(200_000);
      expect(() => peer.streamWrite(id, Uint8Array.of(1))).toThrow(TypeError);
      // The other direction still works.
      stopper.streamWrite(id, payload(300), true);
      pair.net.run(() => peer.streamReadable(id) === 300, 500);
      expect(drain(peer, id)).toEqual({ data: payload(300), fin: true });
    });
  }

  it('STOP_SENDING after all data was acknowledged needs no RESET_STREAM', async () => {
    const pair = await established();
    const client = pair.client;
    const server = pair.server.conn!;
    const id = client.openStream(false)!;
    client.streamWrite(id, payload(100), true);
    pair.net.run(() => pair.clientEvents.some((e) => e.type === 'streamSendComplete'), 500);
    const frames: Frame[] = [];
    pair.net.tap = (from, d) => {
      if (from === 0) frames.push(...wireFrames(pair, 0, d));
      return d;
    };
    inject(pair, 1, [{ type: FrameType.StopSending, streamId: id, errorCode: 3n }]);
    pair.net.run(() => false, 200);
    expect(frames.some((f) => f.type === FrameType.ResetStream)).toBe(false);
    expect(drain(server, id)).toEqual({ data: payload(100), fin: true });
  });
});

describe('many streams', () => {
  it('fifty concurrent streams (bidi and uni) all arrive intact under 2% loss', async () => {
    const pair = await established({ link: { delay: 10, loss: 0.02 } });
    const client = pair.client;
    const server = pair.server.conn!;
    const ids: number[] = [];
    for (let i = 0; i < 50; i++) {
      const id = client.openStream(i % 2 === 0)!;
      ids.push(id);
      client.streamWrite(id, payload(1000 + i * 97, i), true);
    }
    const got = new Map<number, Uint8Array[]>();
    const done = new Set<number>();
    pair.net.afterStep = () => {
      pair.collect();
      for (const id of ids) {
        if (done.has(id)) continue;
        const r = drain(server, id);
        if (r.data.length) got.set(id, [...(got.get(id) ?? []), r.data]);
        if (r.fin) done.add(id);
      }
    };
    pair.net.run(() => done.size === ids.length, 20_000);
    expect(done.size).toBe(50);
    ids.forEach((id, i) => {
      const parts = got.get(id) ?? [];
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        all.set(p, o);
        o += p.length;
      }
      expect(all).toEqual(payload(1000 + i * 97, i));
    });
  });
});

describe('request/response streams over time', () => {
  it('300 request/response exchanges through a limit of 10 concurrent streams: credit keeps flowing, nothing leaks', async () => {
    const pair = await established({ serverTransport: { initialMaxStreamsBidi: 10 } });
    const { client } = pair;
    const server = pair.server.conn!;
    let started = 0;
    let answered = 0;
    const open = new Set<number>();
    const serverSeen = new Set<number>();
    let seenEvents = 0;
    pair.net.afterStep = () => {
      pair.collect();
      for (; seenEvents < pair.serverEvents.length; seenEvents++) {
        const e = pair.serverEvents[seenEvents]!;
        if (e.type === 'streamOpened') serverSeen.add(e.streamId);
      }
      while (started < 300) {
        const id = client.openStream(true);
        if (id === undefined) break;
        client.streamWrite(id, payload(200, started), true);
        open.add(id);
        started++;
      }
      for (const id of serverSeen) {
        const r = drain(server, id);
        if (r.fin) {
          server.streamWrite(id, r.data, true); // echo
          serverSeen.delete(id);
        }
      }
      for (const id of open) {
        const r = drain(client, id);
        if (r.fin) {
          expect(r.data.length).toBe(200);
          open.delete(id);
          answered++;
        }
      }
    };
    pair.net.run(() => answered === 300, 30_000);
    expect(answered).toBe(300);
    pair.net.run(() => false, 300);
    // Every stream was forgotten on both sides.
    expect(client.streams.size).toBe(0);
    expect(server.streams.size).toBe(0);
    expect(client.streamsAvailable(true)).toBe(10);
  });
});

describe('priorities', () => {
  /** Writes 400 kB on two streams at once; returns when each finished arriving at the server. */
  async function race(prioA: number, prioB: number): Promise<{ a: number; b: number }> {
    const pair = await established({ transport: { initialMaxStreamDataBidiRemote: 1 << 20, initialMaxData: 4 << 20 } });
    const { client } = pair;
    const server = pair.server.conn!;
    const a = client.openStream(true)!;
    const b = client.openStream(true)!;
    client.streamSetPriority(a, prioA);
    client.streamSetPriority(b, prioB);
    client.streamWrite(a, payload(400_000, 1), true);
    client.streamWrite(b, payload(400_000, 2), true);
    const done: Record<string, number> = {};
    const got = { a: 0, b: 0 };
    pair.net.afterStep = () => {
      got.a += drain(server, a).data.length;
      got.b += drain(server, b).data.length;
      if (got.a === 400_000) done.a ??= pair.net.now;
      if (got.b === 400_000) done.b ??= pair.net.now;
    };
    pair.net.run(() => done.a !== undefined && done.b !== undefined, 10_000);
    return { a: done.a!, b: done.b! };
  }

  it('a higher-priority stream is sent first; equal priorities share the path', async () => {
    const first = await race(0, 10);
    expect(first.b).toBeLessThan(first.a);
    const reversed = await race(10, 0);
    expect(reversed.a).toBeLessThan(reversed.b);
    const shared = await race(3, 3);
    // Round-robin: both finish within a couple of packets' time of each other.
    expect(Math.abs(shared.a - shared.b)).toBeLessThan(Math.abs(first.a - first.b) / 4);
  });
});
