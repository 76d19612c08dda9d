/**
 * Where incoming streams go and how they change hands, over UDP loopback: queued stream
 * acceptors first (skipping dead ones), the rest to the connection owner as passive orphans;
 * acceptStream; handoff keeping the order of data and events; controlling_process.
 */
import { describe, it, expect, afterEach } from 'vitest';
import * as quicer from '../../src/quicer/quicer.js';
import { FunctionProcess, Inbox } from '../../src/quicer/process.js';
import type { QuicStrm, RecvDataProps } from '../../src/quicer/stream-handle.js';
import { bytes, connectedPair, data, dataUntilFin, event, sleep, text, type Pair } from './stream-harness.js';

const FIN = quicer.SendFlag.FIN;
let pair: Pair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

function open(p: Pair, payload: string, flags = 0, opts: Record<string, unknown> = {}): QuicStrm {
  const r = quicer.startStream(p.client, opts, p.clientOwner);
  if (r[0] !== 'ok') throw new Error(`startStream: ${r.join(' ')}`);
  quicer.asyncSend(r[1], bytes(payload), flags);
  return r[1];
}

describe('incoming streams', () => {
  it('no acceptor queued: the connection owner gets new_stream {flags, is_orphan: true}, passive', async () => {
    pair = await connectedPair();
    open(pair, 'bidi');
    open(pair, 'uni', FIN, { open_flag: 1 });
    const [, , s1, p1] = await event(pair.serverOwner, 'new_stream');
    const [, , s2, p2] = await event(pair.serverOwner, 'new_stream');
    expect(p1).toEqual({ flags: 0, is_orphan: true });
    expect(p2).toEqual({ flags: 1, is_orphan: true });
    expect(quicer.getopt(s1 as QuicStrm, 'active')).toEqual(['ok', false]);
    await sleep(30);
    expect(pair.serverOwner.pending.filter((m) => Array.isArray(m) && m[1] instanceof Uint8Array)).toEqual([]); // passive: no data messages
    expect(text(((await quicer.recv(s1 as QuicStrm, 4)) as [string, Uint8Array])[1])).toBe('bidi');
    expect(text(((await quicer.recv(s2 as QuicStrm, 0)) as [string, Uint8Array])[1])).toBe('uni');
  });

  it('queued acceptors get streams first, in order, with their stream options; the rest go to the owner as orphans', async () => {
    pair = await connectedPair();
    const acc1 = new Inbox();
    const acc2 = new Inbox();
    expect(quicer.asyncAcceptStream(pair.server, { active: true }, acc1)).toEqual(['ok', pair.server]);
    quicer.asyncAcceptStream(pair.server, { active: false }, acc2);
    open(pair, 'zero');
    open(pair, 'four');
    open(pair, 'eight');
    const [, , a1, pa1] = await event(acc1, 'new_stream');
    expect(pa1).toEqual({ flags: 0, is_orphan: false });
    expect(quicer.getopt(a1 as QuicStrm, 'stream_id')).toEqual(['ok', 0]);
    expect(text((await data(acc1, a1 as QuicStrm))[0])).toBe('zero'); // active: as a message
    const [, , a2] = await event(acc2, 'new_stream');
    expect(quicer.getopt(a2 as QuicStrm, 'stream_id')).toEqual(['ok', 4]);
    expect(text(((await quicer.recv(a2 as QuicStrm, 4)) as [string, Uint8Array])[1])).toBe('four');
    const [, , o, po] = await event(pair.serverOwner, 'new_stream');
    expect(po).toEqual({ flags: 0, is_orphan: true });
    expect(quicer.getopt(o as QuicStrm, 'stream_id')).toEqual(['ok', 8]);
  });

  it('a dead acceptor is skipped: the stream goes to the next live one, or to the owner as an orphan (QUICER.md §5.3)', async () => {
    pair = await connectedPair();
    const dead = new Inbox();
    const live = new Inbox();
    quicer.asyncAcceptStream(pair.server, {}, dead);
    quicer.asyncAcceptStream(pair.server, {}, live);
    dead.exit('gone');
    open(pair, 'a');
    const [, , s] = await event(live, 'new_stream');
    expect(text((await data(live, s as QuicStrm))[0])).toBe('a');
    const dead2 = new Inbox();
    quicer.asyncAcceptStream(pair.server, {}, dead2);
    dead2.exit('gone');
    open(pair, 'b');
    const [, , o, props] = await event(pair.serverOwner, 'new_stream');
    expect(props).toEqual({ flags: 0, is_orphan: true });
    expect(text(((await quicer.recv(o as QuicStrm, 1)) as [string, Uint8Array])[1])).toBe('b');
  });

  it('acceptStream waits for the next stream and gives it to the caller with the data that came meanwhile', async () => {
    pair = await connectedPair();
    const me = new Inbox();
    const accepting = quicer.acceptStream(pair.server, { active: true }, 3000, me);
    const c = open(pair, 'first');
    await sleep(40);
    quicer.asyncSend(c, bytes(' second'), FIN);
    const r = await accepting;
    expect(r[0]).toBe('ok');
    const s = r[1] as QuicStrm;
    expect(s.owner).toBe(me);
    const { all } = await dataUntilFin(me, s);
    expect(all).toBe('first second');
    expect(await quicer.acceptStream(pair.server, {}, 50, me)).toEqual(['error', 'timeout']);
    // The timed-out acceptor is not left in the queue: the next stream is an orphan.
    open(pair, 'x');
    expect((await event(pair.serverOwner, 'new_stream'))[3]).toEqual({ flags: 0, is_orphan: true });
  });

  it('pending acceptors are told when the connection closes', async () => {
    pair = await connectedPair();
    const acc = new Inbox();
    quicer.asyncAcceptStream(pair.server, {}, acc);
    const waiting = quicer.acceptStream(pair.server, {}, 5000, new Inbox());
    await quicer.shutdownConnection(pair.client);
    await event(acc, 'closed');
    expect(await waiting).toEqual(['error', 'closed']);
  });
});

describe('handoff', () => {
  it('keeps order: post_handoff first, then the data and events queued at the old owner, then new ones; the old owner gets nothing more', async () => {
    pair = await connectedPair();
    const c = open(pair, 'one,');
    const [, , s] = await event(pair.serverOwner, 'new_stream');
    const stream = s as QuicStrm;
    quicer.setopt(stream, 'active', true);
    await sleep(30);
    quicer.asyncSend(c, bytes('two,'));
    await sleep(30);
    quicer.asyncSend(c, bytes('three'), FIN);
    await sleep(60);
    // Everything so far sits unread at the old owner.
    const seen: unknown[][] = [];
    const newOwner = new FunctionProcess((m) => {
      seen.push(m as unknown[]);
    });
    // Only the owner may hand the stream over.
    const stranger = new FunctionProcess((m) => {
      if (m === 'try') seen.push(['stranger', quicer.handoffStream(stream, stranger)]);
    });
    stranger.send('try');
    await sleep(5);
    expect(seen.splice(0)).toEqual([['stranger', ['error', 'not_owner']]]);
    expect(quicer.handoffStream(stream, newOwner, { hello: 1 })).toEqual(['ok']);
    quicer.asyncSend(stream, bytes('reply'), FIN);
    expect(await quicer.shutdownStream(stream, quicer.StreamShutdownFlag.GRACEFUL, 0, 3000)).toEqual(['ok']);
    await sleep(30);
    expect(seen[0]).toEqual(['stream_owner_handoff', stream, { hello: 1 }]);
    const kinds = seen.slice(1).map((m) => (m[1] instanceof Uint8Array ? `data:${text(m[1])}@${(m[3] as RecvDataProps).absolute_offset}` : String(m[1])));
    expect(kinds).toEqual(['data:one,@0', 'data:two,@4', 'data:three@8', 'peer_send_shutdown', 'send_shutdown_complete', 'stream_closed']);
    expect(pair.serverOwner.pending.filter((m) => Array.isArray(m) && m[2] === stream)).toEqual([]);
  });

  it('controllingProcess moves later events to the new owner; the old owner dying then changes nothing (QUICER.md §5.17)', async () => {
    pair = await connectedPair();
    const old = new FunctionProcess(() => {});
    const r = quicer.startStream(pair.client, {}, old);
    const c = r[1] as QuicStrm;
    quicer.asyncSend(c, bytes('ping'));
    const [, , s] = await event(pair.serverOwner, 'new_stream');
    const next = new Inbox();
    expect(quicer.controllingProcess(c, next)).toEqual(['ok']);
    old.exit('crashed');
    await sleep(50);
    expect(c.isClosed).toBe(false);
    quicer.asyncSend(s as QuicStrm, bytes('pong'));
    expect(text((await data(next, c))[0])).toBe('pong');
  });
});
