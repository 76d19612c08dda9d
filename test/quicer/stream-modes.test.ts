/**
 * Stream receive modes over UDP loopback: active, passive recv, once, counted N with
 * `passive`, FIN delivery, switching modes with a pending recv, zero-length sends, stream IDs.
 */
import { describe, it, expect, afterEach } from 'vitest';
import * as quicer from '../../src/quicer/quicer.js';
import type { QuicStrm } from '../../src/quicer/stream-handle.js';
import { bytes, connectedPair, data, dataUntilFin, event, pendingEvents, sleep, text, type Pair } from './stream-harness.js';

const FIN = quicer.SendFlag.FIN;
let pair: Pair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

/** A client stream with the server's side of it (an orphan at the server owner, passive). */
async function clientStream(p: Pair, opts: Record<string, unknown> = {}, first = 'x'): Promise<{ c: QuicStrm; s: QuicStrm }> {
  const r = quicer.startStream(p.client, opts, p.clientOwner);
  if (r[0] !== 'ok') throw new Error(`startStream: ${r.join(' ')}`);
  const c = r[1];
  quicer.asyncSend(c, bytes(first));
  const [, , s] = await event(p.serverOwner, 'new_stream');
  return { c, s: s as QuicStrm };
}

describe('active mode', () => {
  it('true: every chunk as a data message with absolute_offset/len/flags, FIN flagged, then peer_send_shutdown', async () => {
    pair = await connectedPair();
    const { c, s } = await clientStream(pair, {}, 'hello ');
    expect(quicer.setopt(s, 'active', true)).toEqual(['ok']);
    const [d1, p1] = await data(pair.serverOwner, s);
    expect(text(d1)).toBe('hello ');
    expect(p1).toEqual({ absolute_offset: 0, len: 6, flags: 0 });
    quicer.asyncSend(c, bytes('world'), FIN);
    const [d2, p2] = await data(pair.serverOwner, s);
    expect(text(d2)).toBe('world');
    expect(p2).toEqual({ absolute_offset: 6, len: 5, flags: 2 });
    await event(pair.serverOwner, 'peer_send_shutdown', s);
    // The data message with the FIN comes before peer_send_shutdown, and nothing after it.
    expect(pendingEvents(pair.serverOwner, s)).toEqual([]);
  });

  it("'once': one data message, then the stream is passive (no passive message); the rest waits for recv", async () => {
    pair = await connectedPair();
    const { c, s } = await clientStream(pair, {}, 'one');
    quicer.setopt(s, 'active', 'once');
    expect(text((await data(pair.serverOwner, s))[0])).toBe('one');
    expect(quicer.getopt(s, 'active')).toEqual(['ok', false]);
    quicer.asyncSend(c, bytes('two'));
    await sleep(60);
    expect(pendingEvents(pair.serverOwner, s)).toEqual([]);
    const r = await quicer.recv(s, 0);
    expect(r[0]).toBe('ok');
    expect(text(r[1] as Uint8Array)).toBe('two');
  });

  it('N: N data messages, then `passive`; a count adds to the current count; reaching 0 by a negative count also says passive', async () => {
    pair = await connectedPair();
    const { c, s } = await clientStream(pair, {}, 'a');
    quicer.setopt(s, 'active', 2);
    expect(text((await data(pair.serverOwner, s))[0])).toBe('a');
    expect(quicer.getopt(s, 'active')).toEqual(['ok', 1]);
    quicer.setopt(s, 'active', 1); // adds: 2 again
    expect(quicer.getopt(s, 'active')).toEqual(['ok', 2]);
    quicer.asyncSend(c, bytes('b'));
    expect(text((await data(pair.serverOwner, s))[0])).toBe('b');
    await sleep(20);
    quicer.asyncSend(c, bytes('B'));
    expect(text((await data(pair.serverOwner, s))[0])).toBe('B');
    await event(pair.serverOwner, 'passive', s);
    quicer.asyncSend(c, bytes('c'));
    await sleep(60);
    expect(pendingEvents(pair.serverOwner, s)).toEqual([]);
    expect(text(((await quicer.recv(s, 1)) as [string, Uint8Array])[1])).toBe('c');
    quicer.setopt(s, 'active', 3);
    quicer.setopt(s, 'active', -3);
    await event(pair.serverOwner, 'passive', s);
    expect(quicer.getopt(s, 'active')).toEqual(['ok', false]);
  });

  it('recv on an active stream is einval', async () => {
    pair = await connectedPair();
    const { s } = await clientStream(pair);
    quicer.setopt(s, 'active', true);
    expect(await quicer.recv(s, 0)).toEqual(['error', 'einval']);
  });
});

describe('passive mode', () => {
  it('recv(n) waits for exactly n bytes across packets; recv(0) takes what is there', async () => {
    pair = await connectedPair();
    const { c, s } = await clientStream(pair, {}, 'abc');
    expect(quicer.getopt(s, 'active')).toEqual(['ok', false]);
    const six = quicer.recv(s, 6);
    let done = false;
    void six.then(() => (done = true));
    await sleep(60);
    expect(done).toBe(false); // only 3 bytes so far
    quicer.asyncSend(c, bytes('defgh'));
    const r = await six;
    expect(r[0]).toBe('ok');
    expect(text(r[1] as Uint8Array)).toBe('abcdef');
    const rest = await quicer.recv(s, 0);
    expect(text(rest[1] as Uint8Array)).toBe('gh');
  });

  it('the FIN: a recv(n) the peer cannot fill gets the rest, the next gets peer_send_shutdown; the owner is told', async () => {
    pair = await connectedPair();
    const { c, s } = await clientStream(pair, {}, '12');
    quicer.asyncSend(c, bytes('345'), FIN);
    const r = await quicer.recv(s, 10);
    expect(text(r[1] as Uint8Array)).toBe('12345');
    await event(pair.serverOwner, 'peer_send_shutdown', s);
    expect(await quicer.recv(s, 1)).toEqual(['error', 'peer_send_shutdown']);
  });

  it('a lone FIN after everything was read reaches a passive owner as peer_send_shutdown', async () => {
    pair = await connectedPair();
    const { c, s } = await clientStream(pair, {}, 'data');
    expect(text(((await quicer.recv(s, 4)) as [string, Uint8Array])[1])).toBe('data');
    quicer.asyncShutdownStream(c, quicer.StreamShutdownFlag.GRACEFUL);
    await event(pair.serverOwner, 'peer_send_shutdown', s);
  });

  it('passive -> active with a recv pending: the recv ends with einval and every byte arrives once, in order, as messages', async () => {
    pair = await connectedPair();
    const { c, s } = await clientStream(pair, {}, 'ABCD');
    const pending = quicer.recv(s, 10);
    await sleep(40);
    quicer.setopt(s, 'active', true);
    expect(await pending).toEqual(['error', 'einval']);
    quicer.asyncSend(c, bytes('EFGHIJ'), FIN);
    const { all, chunks } = await dataUntilFin(pair.serverOwner, s);
    expect(all).toBe('ABCDEFGHIJ');
    expect(chunks[0]![1].absolute_offset).toBe(0);
    // Offsets are contiguous: no byte twice, none missing.
    let off = 0;
    for (const [d, p] of chunks) {
      expect(p.absolute_offset).toBe(off);
      off += d.length;
    }
  });

  it('active -> passive -> active: recv in between takes only what it asked for, messages continue at the right offset', async () => {
    pair = await connectedPair();
    const { c, s } = await clientStream(pair, {}, '0123');
    quicer.setopt(s, 'active', 'once');
    const [d0, p0] = await data(pair.serverOwner, s);
    expect([text(d0), p0.absolute_offset]).toEqual(['0123', 0]);
    quicer.asyncSend(c, bytes('4567'));
    await sleep(40);
    expect(text(((await quicer.recv(s, 2)) as [string, Uint8Array])[1])).toBe('45');
    quicer.setopt(s, 'active', true);
    const [d1, p1] = await data(pair.serverOwner, s);
    expect([text(d1), p1.absolute_offset]).toEqual(['67', 6]);
  });
});

describe('sending', () => {
  it('zero-length sends are accepted and do not wedge the stream: SYNC completes, data and FIN still go', async () => {
    pair = await connectedPair({ client: { send_buffering_enabled: false } });
    const { c, s } = await clientStream(pair, {}, 'a');
    quicer.setopt(s, 'active', true);
    expect(quicer.asyncSend(c, new Uint8Array(0), quicer.SendFlag.SYNC, pair.clientOwner)).toEqual(['ok', 0]);
    const [, , , canceled] = await event(pair.clientOwner, 'send_complete', c);
    expect(canceled).toBe(false);
    expect(await quicer.send(c, new Uint8Array(0))).toEqual(['ok', 0]);
    quicer.asyncSend(c, bytes('b'));
    expect(quicer.asyncSend(c, new Uint8Array(0), FIN)).toEqual(['ok', 0]);
    const { all, chunks } = await dataUntilFin(pair.serverOwner, s);
    expect(all).toBe('ab');
    expect(chunks.at(-1)![1].flags).toBe(2);
    await event(pair.serverOwner, 'peer_send_shutdown', s);
    expect(quicer.asyncSend(c, bytes('late'))).toEqual(['error', 'stm_send_error', 'invalid_state']);
  });

  it('bad send arguments are a TypeError/RangeError naming the value', async () => {
    pair = await connectedPair();
    const { c } = await clientStream(pair);
    expect(() => quicer.asyncSend(c, 'text' as unknown as Uint8Array)).toThrow(/data must be a Uint8Array, got string/);
    expect(() => quicer.asyncSend(c, bytes('x'), -1)).toThrow(RangeError);
    expect(() => quicer.recv(c, 1.5)).toThrow(/len must be a non-negative integer, got 1.5/);
  });
});

describe('stream IDs', () => {
  it('client bidi 0, 4, 8; server bidi 1, 5; client uni 2, 6; server uni 3, 7', async () => {
    pair = await connectedPair({ client: { peer_bidi_stream_count: 4, peer_unidi_stream_count: 4 } });
    const id = (r: ReturnType<typeof quicer.startStream>): unknown => (r[0] === 'ok' ? quicer.getopt(r[1], 'stream_id')[1] : r);
    const p = pair;
    expect([0, 1, 2].map(() => id(quicer.startStream(p.client, {}, p.clientOwner)))).toEqual([0, 4, 8]);
    expect([0, 1].map(() => id(quicer.startStream(p.server, {}, p.serverOwner)))).toEqual([1, 5]);
    expect([0, 1].map(() => id(quicer.startStream(p.client, { open_flag: 1 }, p.clientOwner)))).toEqual([2, 6]);
    expect([0, 1].map(() => id(quicer.startStream(p.server, { open_flag: 1 }, p.serverOwner)))).toEqual([3, 7]);
    // The peer sees the same IDs: data on a third server uni stream (11) opens 3, 7 and 11 at the client, flags 1.
    const r = quicer.startStream(p.server, { open_flag: 1 }, p.serverOwner);
    quicer.asyncSend(r[1] as QuicStrm, bytes('u'), FIN);
    const seen: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const [, , cs, props] = await event(p.clientOwner, 'new_stream');
      expect(props).toEqual({ flags: 1, is_orphan: true });
      seen.push(quicer.getopt(cs as QuicStrm, 'stream_id')[1]);
    }
    expect(seen).toEqual([3, 7, 11]);
  });
});
