/**
 * Stream events over UDP loopback: aborts both ways and their error codes, shutdown flags as
 * the peer observes them, owner death, send completion (SYNC, send buffering on/off, blocking
 * send and cancellation), start_completed with the event mask, peer_accepted after the peer's
 * stream limit, FAIL_BLOCKED, and the IMMEDIATE start flag.
 */
import { describe, it, expect, afterEach } from 'vitest';
import * as quicer from '../../src/quicer/quicer.js';
import { FunctionProcess, Inbox, type Process } from '../../src/quicer/process.js';
import type { QuicStrm } from '../../src/quicer/stream-handle.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import { StreamSendBuffer } from '../../src/transport/stream-send-buffer.js';
import { bytes, connectedPair, data, dataUntilFin, event, pendingEvents, sleep, text, type Pair } from './stream-harness.js';

const { FIN, SYNC } = quicer.SendFlag;
const SD = quicer.StreamShutdownFlag;
let pair: Pair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

/** A client stream owned by `owner` (default the client inbox) and the server's side, made active. */
async function openPair(p: Pair, opts: Record<string, unknown> = {}, owner: Process = p.clientOwner): Promise<{ c: QuicStrm; s: QuicStrm }> {
  const r = quicer.startStream(p.client, opts, owner);
  if (r[0] !== 'ok') throw new Error(`startStream: ${r.join(' ')}`);
  quicer.asyncSend(r[1], bytes('hi'));
  const [, , s] = await event(p.serverOwner, 'new_stream');
  quicer.setopt(s as QuicStrm, 'active', true);
  await data(p.serverOwner, s as QuicStrm);
  return { c: r[1], s: s as QuicStrm };
}

describe('aborts and shutdown flags, as the peer sees them', () => {
  it('ABORT_SEND: the peer gets peer_send_aborted with the code; we get send_shutdown_complete(false)', async () => {
    pair = await connectedPair();
    const { c, s } = await openPair(pair);
    quicer.asyncShutdownStream(c, SD.ABORT_SEND, 4242);
    const [, , , code] = await event(pair.serverOwner, 'peer_send_aborted', s);
    expect(code).toBe(4242n);
    const [, , , graceful] = await event(pair.clientOwner, 'send_shutdown_complete', c);
    expect(graceful).toBe(false);
  });

  it('ABORT_RECEIVE: the peer gets peer_receive_aborted with the code, and its send completes aborted', async () => {
    pair = await connectedPair();
    const { c, s } = await openPair(pair);
    quicer.asyncShutdownStream(s, SD.ABORT_RECEIVE, 77);
    const [, , , code] = await event(pair.clientOwner, 'peer_receive_aborted', c);
    expect(code).toBe(77n);
    expect((await event(pair.clientOwner, 'send_shutdown_complete', c))[3]).toBe(false);
    // The transport answered STOP_SENDING with RESET_STREAM(77): the server sees the abort too.
    expect((await event(pair.serverOwner, 'peer_send_aborted', s))[3]).toBe(77n);
  });

  it('ABORT: both directions, one code; GRACEFUL: the FIN after queued data', async () => {
    pair = await connectedPair();
    const a = await openPair(pair);
    quicer.asyncShutdownStream(a.c, SD.ABORT, 5);
    expect((await event(pair.serverOwner, 'peer_send_aborted', a.s))[3]).toBe(5n);
    expect((await event(pair.serverOwner, 'peer_receive_aborted', a.s))[3]).toBe(5n);
    const b = await openPair(pair);
    quicer.asyncSend(b.c, bytes('tail'));
    quicer.asyncShutdownStream(b.c, SD.GRACEFUL);
    const { all } = await dataUntilFin(pair.serverOwner, b.s);
    expect(all).toBe('tail');
    await event(pair.serverOwner, 'peer_send_shutdown', b.s);
    expect((await event(pair.clientOwner, 'send_shutdown_complete', b.c))[3]).toBe(true);
  });

  it('shutdownStream waits for stream_closed; stream_closed props describe a stream that ended on its own', async () => {
    pair = await connectedPair();
    const { c, s } = await openPair(pair);
    quicer.asyncSend(s, bytes('bye'), FIN);
    expect(await quicer.shutdownStream(c, SD.GRACEFUL, 0, 3000)).toEqual(['ok']);
    const [, , , props] = await event(pair.clientOwner, 'stream_closed', c);
    expect(props).toEqual({ is_conn_shutdown: false, is_app_closing: false, is_shutdown_by_app: false, is_closed_remotely: false, status: 'success', error: 0 });
  });

  it('IMMEDIATE with ABORT: stream_closed at once, before the peer answers; the peer still sees both aborts', async () => {
    pair = await connectedPair();
    const { c, s } = await openPair(pair);
    const plain = await openPair(pair);
    quicer.asyncShutdownStream(plain.c, SD.ABORT, 8);
    expect(plain.c.isClosed).toBe(false); // waits for the peer
    quicer.asyncShutdownStream(c, SD.ABORT | SD.IMMEDIATE, 9);
    expect(c.isClosed).toBe(true); // synchronously: no datagram could have come back yet
    const [, , , props] = await event(pair.clientOwner, 'stream_closed', c);
    expect(props).toMatchObject({ is_conn_shutdown: false, status: 'success' });
    expect((await event(pair.serverOwner, 'peer_send_aborted', s))[3]).toBe(9n);
    expect((await event(pair.serverOwner, 'peer_receive_aborted', s))[3]).toBe(9n);
  });

  it('flags MsQuic rejects throw RangeError naming the value', async () => {
    pair = await connectedPair();
    const { c } = await openPair(pair);
    expect(() => quicer.asyncShutdownStream(c, 0)).toThrow(/shutdown flags: 0 is not allowed/);
    expect(() => quicer.asyncShutdownStream(c, SD.GRACEFUL | SD.ABORT_SEND)).toThrow(/GRACEFUL \(1\) cannot be combined/);
    expect(() => quicer.asyncShutdownStream(c, SD.IMMEDIATE | SD.ABORT_SEND)).toThrow(/IMMEDIATE \(8\) needs ABORT/);
  });

  it('the owner of a stream dies: the stream is aborted both ways with error 0', async () => {
    pair = await connectedPair();
    const owner = new FunctionProcess(() => {});
    const { s } = await openPair(pair, {}, owner);
    owner.exit('crashed');
    expect((await event(pair.serverOwner, 'peer_send_aborted', s))[3]).toBe(0n);
    expect((await event(pair.serverOwner, 'peer_receive_aborted', s))[3]).toBe(0n);
  });

  it('while the connection is closing, stream calls answer closed (or do nothing) instead of throwing', async () => {
    pair = await connectedPair();
    const { c } = await openPair(pair);
    quicer.asyncShutdownConnection(pair.client, 0, 0);
    expect(quicer.startStream(pair.client, {}, pair.clientOwner)).toEqual(['error', 'closed']);
    expect(quicer.asyncSend(c, bytes('x'))).toEqual(['error', 'closed']);
    expect(quicer.asyncShutdownStream(c, SD.ABORT, 1)).toEqual(['ok']);
    expect(quicer.asyncShutdownStream(c, SD.GRACEFUL)).toEqual(['ok']);
    expect((await event(pair.clientOwner, 'stream_closed', c))[3]).toMatchObject({ is_conn_shutdown: true, is_app_closing: true });
  });

  it('the connection goes away: stream_closed says is_conn_shutdown, by whom and with which code', async () => {
    pair = await connectedPair();
    const { c, s } = await openPair(pair);
    await quicer.shutdownConnection(pair.client, 0, 33);
    const [, , , mine] = await event(pair.clientOwner, 'stream_closed', c);
    expect(mine).toMatchObject({ is_conn_shutdown: true, is_app_closing: true, is_shutdown_by_app: true, is_closed_remotely: false, error: 33 });
    const [, , , theirs] = await event(pair.serverOwner, 'stream_closed', s);
    expect(theirs).toMatchObject({ is_conn_shutdown: true, is_app_closing: false, is_shutdown_by_app: true, is_closed_remotely: true, error: 33 });
  });
});

describe('send completion', () => {
  /** An owner that notes how much of its stream the peer had acknowledged when send_complete arrived. */
  function ackProbe(): { owner: FunctionProcess; done: Promise<[boolean, number]>; stream?: QuicStrm } {
    const o: { owner: FunctionProcess; done: Promise<[boolean, number]>; stream?: QuicStrm } = {} as never;
    o.done = new Promise((resolve) => {
      o.owner = new FunctionProcess((m) => {
        if (Array.isArray(m) && m[1] === 'send_complete') {
          const st = m[2] as QuicStrm;
          resolve([m[3] as boolean, st.conn.ec!.conn.streamAckedOffset(st.id!)]);
        }
      });
    });
    return o;
  }

  it('with send_buffering_enabled (default) SYNC completes at once, before the peer acknowledged anything', async () => {
    pair = await connectedPair();
    const probe = ackProbe();
    const r = quicer.startStream(pair.client, {}, probe.owner);
    const payload = new Uint8Array(20_000).fill(7);
    expect(quicer.asyncSend(r[1] as QuicStrm, payload, SYNC, probe.owner)).toEqual(['ok', 20_000]);
    expect(await probe.done).toEqual([false, 0]);
  });

  it('with send_buffering_enabled false SYNC completes only once the peer acknowledged every byte', async () => {
    pair = await connectedPair({ client: { send_buffering_enabled: false } });
    const probe = ackProbe();
    const r = quicer.startStream(pair.client, {}, probe.owner);
    const payload = new Uint8Array(20_000).fill(7);
    quicer.asyncSend(r[1] as QuicStrm, payload, SYNC, probe.owner);
    const [canceled, acked] = await probe.done;
    expect(canceled).toBe(false);
    expect(acked).toBeGreaterThanOrEqual(20_000);
  });

  it('send/2 blocks until completion; aborted first, it returns cancelled (and SYNC says isCanceled true)', async () => {
    pair = await connectedPair({ client: { send_buffering_enabled: false } });
    const { c } = await openPair(pair);
    const ok = await quicer.send(c, bytes('acked'));
    expect(ok).toEqual(['ok', 5]);
    expect(c.conn.ec!.conn.streamAckedOffset(c.id!)).toBeGreaterThanOrEqual(7);
    const pending = quicer.send(c, new Uint8Array(5000));
    const inbox = new Inbox();
    quicer.asyncSend(c, bytes('more'), SYNC, inbox);
    quicer.asyncShutdownStream(c, SD.ABORT_SEND, 1);
    expect(await pending).toEqual(['error', 'cancelled']);
    expect((await event(inbox, 'send_complete', c))[3]).toBe(true);
  });
});

describe('starting streams', () => {
  it('start_completed only with the stream event mask (quic_event_mask or event_mask): status, stream_id, is_peer_accepted', async () => {
    pair = await connectedPair();
    const inbox = new Inbox();
    const plain = quicer.startStream(pair.client, {}, inbox)[1] as QuicStrm;
    const masked = quicer.startStream(pair.client, { quic_event_mask: 1 }, inbox)[1] as QuicStrm;
    const masked2 = quicer.startStream(pair.client, { event_mask: 1 }, inbox)[1] as QuicStrm;
    expect((await event(inbox, 'start_completed', masked))[3]).toEqual({ status: 'success', stream_id: 4, is_peer_accepted: true });
    expect((await event(inbox, 'start_completed', masked2))[3]).toEqual({ status: 'success', stream_id: 8, is_peer_accepted: true });
    expect(pendingEvents(inbox, plain)).toEqual([]);
  });

  it('beyond the peer limit a stream waits (start_completed says not accepted, with its future ID) and gets peer_accepted when MAX_STREAMS allows it; its data follows', async () => {
    pair = await connectedPair({ server: { peer_bidi_stream_count: 1 } });
    const { c: first, s: firstAtServer } = await openPair(pair);
    const inbox = new Inbox();
    const r = quicer.startStream(pair.client, { quic_event_mask: 1, start_flag: quicer.StreamStartFlag.INDICATE_PEER_ACCEPT }, inbox);
    expect(r[0]).toBe('ok');
    const waiting = r[1] as QuicStrm;
    expect((await event(inbox, 'start_completed', waiting))[3]).toEqual({ status: 'success', stream_id: 4, is_peer_accepted: false });
    quicer.asyncSend(waiting, bytes('queued'), FIN);
    await sleep(50);
    expect(pendingEvents(inbox, waiting)).toEqual([]); // no peer_accepted yet
    // Closing the first stream both ways gives the client credit for another (MAX_STREAMS).
    quicer.asyncSend(first, bytes(''), FIN);
    quicer.asyncSend(firstAtServer, bytes(''), FIN);
    await event(inbox, 'peer_accepted', waiting);
    expect(quicer.getopt(waiting, 'stream_id')).toEqual(['ok', 4]);
    const [, , s2] = await event(pair.serverOwner, 'new_stream', undefined);
    expect(text(((await quicer.recv(s2 as QuicStrm, 6)) as [string, Uint8Array])[1])).toBe('queued');
  });

  it('a client stream started before the handshake completed waits for the peer\'s limits and starts with them', async () => {
    pair = await connectedPair();
    const owner = new Inbox();
    const server = new Inbox();
    const acceptor = new FunctionProcess((m) => {
      if (Array.isArray(m) && m[1] === 'new_conn') {
        (m[2] as QuicConn).setOwner(server);
        quicer.asyncHandshake(m[2] as QuicConn);
      }
    });
    quicer.asyncAccept(pair.listener, acceptor);
    // A second connection: the stream starts right after the connect began, before any answer.
    const early = await quicer.asyncConnect('127.0.0.1', pair.listener.address().port, { alpn: ['stream-test'], verify: 'none' }, { owner });
    const conn = early[1] as QuicConn;
    const r = quicer.startStream(conn, { quic_event_mask: 1 }, owner);
    expect(r[0]).toBe('ok');
    const st = r[1] as QuicStrm;
    expect((await event(owner, 'start_completed', st))[3]).toEqual({ status: 'success', stream_id: 0, is_peer_accepted: false });
    quicer.asyncSend(st, bytes('early'), FIN);
    await event(owner, 'connected', conn);
    expect(quicer.getopt(st, 'stream_id')).toEqual(['ok', 0]);
    const [, , s] = await event(server, 'new_stream');
    expect(text(((await quicer.recv(s as QuicStrm, 5)) as [string, Uint8Array])[1])).toBe('early');
    await quicer.shutdownConnection(conn);
  });

  it('FAIL_BLOCKED beyond the peer limit: stm_start_error stream_limit_reached', async () => {
    pair = await connectedPair({ server: { peer_bidi_stream_count: 1 } });
    await openPair(pair);
    expect(quicer.startStream(pair.client, { start_flag: quicer.StreamStartFlag.FAIL_BLOCKED })).toEqual(['error', 'stm_start_error', 'stream_limit_reached']);
  });

  it('IMMEDIATE: the peer learns of the stream before any data; without it, only with the first data', async () => {
    pair = await connectedPair();
    const quiet = quicer.startStream(pair.client, {}, pair.clientOwner)[1] as QuicStrm;
    await sleep(80);
    expect(pair.serverOwner.pending.filter((m) => Array.isArray(m) && m[1] === 'new_stream')).toEqual([]);
    const loud = quicer.startStream(pair.client, { start_flag: quicer.StreamStartFlag.IMMEDIATE }, pair.clientOwner)[1] as QuicStrm;
    expect(quicer.getopt(loud, 'stream_id')).toEqual(['ok', 4]);
    // Stream 4 announced opens 0 and 4 at the server, no data on either.
    const [, , s0] = await event(pair.serverOwner, 'new_stream');
    const [, , s4] = await event(pair.serverOwner, 'new_stream');
    expect([quicer.getopt(s0 as QuicStrm, 'stream_id')[1], quicer.getopt(s4 as QuicStrm, 'stream_id')[1]]).toEqual([0, 4]);
    expect((s4 as QuicStrm).conn.ec!.conn.streamReadable(4)).toBe(0);
    void quiet;
  });

  it('the send buffer owes one empty frame at offset 0 for an announcement, again if it was lost, never after data', () => {
    const b = new StreamSendBuffer();
    b.announce();
    expect(b.peek(100)).toBe(0);
    expect(b.take(0, 1000, 100)).toBe(0);
    expect([b.takenAnnounce, b.takenFin]).toEqual([true, false]);
    expect(b.peek(100)).toBe(-1);
    b.onLost(0, 0, false);
    expect(b.peek(100)).toBe(0);
    b.take(0, 1000, 100);
    b.write(bytes('x'));
    expect(b.take(b.peek(100), 1000, 100)).toBe(1);
    expect(b.takenAnnounce).toBe(false);
    b.onLost(0, 0, false); // the old announcement: the data says it all now
    b.onAcked(0, 1, false);
    expect(b.peek(100)).toBe(-1);
    b.announce();
    expect(b.peek(100)).toBe(-1);
  });
});
