/**
 * The quicer_stream behaviour over UDP loopback: QuicConnection.streamSend (a stream process
 * linked to the connection process, owning a local stream; its reply terms, SYNC and the
 * event mask), stream acceptor processes (init, newStream, data, closing connection),
 * reassembly per disable_fpbuffer, startLinkHandoff with postHandoff, and the generic
 * callbacks (handleCall, handleCast, handleInfo, handleContinue, terminate).
 */
import { describe, it, expect, afterEach } from 'vitest';
import * as quicer from '../../src/quicer/quicer.js';
import { QuicConnection, type ConnectionCallbacks, type ConnectionProcess } from '../../src/quicer/connection.js';
import { FunctionProcess, Inbox, self, type Process } from '../../src/quicer/process.js';
import { QuicStream, type StreamCallbacks, type StreamProcess } from '../../src/quicer/stream.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import type { QuicListener } from '../../src/quicer/listener.js';
import type { QuicStrm, RecvDataProps } from '../../src/quicer/stream-handle.js';
import { selfSignedCertificate } from '../../src/tls/certificate-authority.js';
import { bytes, connectedPair, event, rec, sleep, streamRecorder, text, type Pair, type StreamRec } from './stream-harness.js';

const { FIN, SYNC } = quicer.SendFlag;
const ALPN = ['behaviour'];
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let cert: ReturnType<typeof selfSignedCertificate> | undefined;

/** A server whose one connection echoes every stream back (FIN for FIN), owned by a plain process. */
async function echoServer(lopts: Record<string, unknown> = {}): Promise<{ port: number; server: Promise<QuicConn> }> {
  cert ??= selfSignedCertificate({ hosts: ['127.0.0.1'], now: Date.now() });
  const me = await cert;
  const r = await quicer.listen('127.0.0.1:0', { alpn: ALPN, cert: me.certificatePem, key: me.privateKeyPem, peer_bidi_stream_count: 10, peer_unidi_stream_count: 10, ...lopts });
  const l = r[1] as QuicListener;
  cleanups.push(() => l.shutdown());
  const echo = new FunctionProcess((m) => {
    if (!Array.isArray(m) || m[0] !== 'quic') return;
    if (m[1] === 'new_stream') quicer.setopt(m[2] as QuicStrm, 'active', true);
    else if (m[1] instanceof Uint8Array) {
      const s = m[2] as QuicStrm;
      const fin = ((m[3] as RecvDataProps).flags & 2) !== 0;
      if (s.bidi) quicer.asyncSend(s, m[1], fin ? FIN : 0);
      else echo.send(['uni', text(m[1])]);
    }
  });
  const server = quicer.accept(l, 5000, echo).then(async (a) => {
    const conn = a[1] as QuicConn;
    await quicer.handshake(conn);
    return conn;
  });
  return { port: l.address().port, server };
}

/** A client connection process (QuicConnection.startLink) that reports connected and infos to `inbox`. */
async function client(port: number, inbox: Inbox, copts: Record<string, unknown> = {}): Promise<ConnectionProcess<unknown>> {
  const cb: ConnectionCallbacks<Record<string, never>> = {
    init: () => ['ok', {}],
    connected: (conn, _props, s) => {
      inbox.send(['connected', conn]);
      return ['ok', s];
    },
    handleInfo: (info, s) => {
      inbox.send(['connInfo', info]);
      return ['ok', s];
    },
  };
  const r = await QuicConnection.startLink(cb, ['127.0.0.1', port], [{ alpn: ALPN, verify: 'none', ...copts }, {}], { link: new Inbox() });
  if (r[0] !== 'ok') throw new Error(`startLink: ${String(r[1])}`);
  const proc = r[1] as ConnectionProcess<unknown>;
  cleanups.push(async () => {
    const conn = proc.conn;
    if (conn) await quicer.shutdownConnection(conn, 0, 0, 2000);
    proc.exit('shutdown');
  });
  await inbox.receive((m) => Array.isArray(m) && m[0] === 'connected');
  return proc;
}

describe('QuicConnection.streamSend', () => {
  it('starts a stream process that owns a new local stream and sends: [ok, n]; SYNC gives sendComplete, mask bit 1 startCompleted; the state is quicer\'s preset', async () => {
    const { port } = await echoServer();
    const inbox = new Inbox();
    const proc = await client(port, inbox);
    const events = new Inbox();
    const cbs = streamRecorder(events, {
      startCompleted: (_stream, _props, s) => {
        events.send(['self', self()]);
        return ['ok', s];
      },
    });
    const r = await QuicConnection.streamSend(proc, cbs, bytes('ping'), SYNC | FIN, { quic_event_mask: 1 }, 3000);
    expect(r).toEqual(['ok', 4]);
    const [, stream, props, state] = await rec(events, 'startCompleted');
    expect(props).toEqual({ status: 'success', stream_id: 0, is_peer_accepted: true });
    expect(state).toEqual({ conn: proc.conn, is_owner: true, is_local: true, is_unidir: false, stream_opts: { quic_event_mask: 1, is_local: true } });
    const [, sproc] = (await events.receive((m) => Array.isArray(m) && m[0] === 'self')) as [string, StreamProcess];
    expect((stream as QuicStrm).owner).toBe(sproc);
    expect((await rec(events, 'sendComplete'))[2]).toBe(false);
    const [, , echoed, dprops] = await rec(events, 'handleStreamData');
    expect(text(echoed as Uint8Array)).toBe('ping');
    expect(dprops).toEqual({ absolute_offset: 0, len: 4, flags: 2 });
    await rec(events, 'peerSendShutdown');
    expect((await rec(events, 'sendShutdownComplete'))[2]).toBe(true);
    await rec(events, 'streamClosed');
    // Linked to the connection process: its end takes the stream process down.
    expect(sproc.alive).toBe(true);
    const watcher = new Inbox();
    watcher.monitor(sproc);
    proc.exit('shutdown');
    expect(((await watcher.receive()) as unknown[])[3]).toBe('shutdown');
  });

  it('without SYNC no sendComplete, without the mask no startCompleted; a module without streamClosed stops normally and the connection process gets its EXIT', async () => {
    const { port } = await echoServer();
    const inbox = new Inbox();
    const proc = await client(port, inbox);
    const events = new Inbox();
    const cbs: StreamCallbacks<unknown> = {
      handleStreamData: (stream, d, p, s) => {
        events.send(['data', text(d), p.flags, self(), stream]);
        return ['ok', s];
      },
    };
    expect(await QuicConnection.streamSend(proc, cbs, bytes('abc'), FIN, {}, 3000)).toEqual(['ok', 3]);
    const [, got, flags, sproc] = (await events.receive()) as [string, string, number, Process];
    expect([got, flags]).toEqual(['abc', 2]);
    const [, exit] = (await inbox.receive((m) => Array.isArray(m) && m[0] === 'connInfo' && Array.isArray(m[1]) && m[1][0] === 'EXIT')) as [string, unknown[]];
    expect(exit).toEqual(['EXIT', sproc, 'normal']);
    expect(events.pending).toEqual([]);
  });

  it('a unidirectional stream (open_flag 1): is_unidir in the preset state, the peer gets the bytes', async () => {
    const { port } = await echoServer();
    const inbox = new Inbox();
    const proc = await client(port, inbox);
    const events = new Inbox();
    const cbs = streamRecorder(events);
    expect(await QuicConnection.streamSend(proc, cbs, bytes('one-way'), SYNC | FIN, { open_flag: 1 }, 3000)).toEqual(['ok', 7]);
    const [, stream, , state] = await rec(events, 'sendComplete');
    expect(quicer.getopt(stream as QuicStrm, 'stream_id')).toEqual(['ok', 2]);
    expect(state).toMatchObject({ is_unidir: true, is_local: true });
  });

  it("error terms: ['start_stream', ['stm_start_error', 'stream_limit_reached']] with FAIL_BLOCKED at the limit; ['start_stream', 'closed'] on a closed connection", async () => {
    const { port } = await echoServer({ peer_bidi_stream_count: 0 });
    const inbox = new Inbox();
    const proc = await client(port, inbox);
    const cbs = streamRecorder(new Inbox());
    expect(await QuicConnection.streamSend(proc, cbs, bytes('x'), 0, { start_flag: quicer.StreamStartFlag.FAIL_BLOCKED }, 3000)).toEqual(['error', ['start_stream', ['stm_start_error', 'stream_limit_reached']]]);
    await quicer.shutdownConnection(proc.conn!);
    expect(await QuicConnection.streamSend(proc, cbs, bytes('x'), 0, {}, 3000)).toEqual(['error', ['start_stream', 'closed']]);
  });

  it("['stream_down', reason] when the stream process ends before the send", async () => {
    const { port } = await echoServer();
    const inbox = new Inbox();
    const proc = await client(port, inbox);
    const boom = new Error('start_completed failed');
    const cbs: StreamCallbacks<unknown> = {
      startCompleted: () => {
        throw boom;
      },
    };
    expect(await QuicConnection.streamSend(proc, cbs, bytes('x'), 0, { quic_event_mask: 1 }, 3000)).toEqual(['error', ['stream_down', boom]]);
    // The connection process traps the exit: it goes on.
    expect(proc.alive).toBe(true);
  });

  it('bad arguments throw in the caller, naming the value', async () => {
    const { port } = await echoServer();
    const proc = await client(port, new Inbox());
    const cbs = streamRecorder(new Inbox());
    await expect(QuicConnection.streamSend(proc, cbs, 'x' as unknown as Uint8Array, 0)).rejects.toThrow(/data must be a Uint8Array, got string/);
    await expect(QuicConnection.streamSend(proc, cbs, bytes('x'), -1)).rejects.toThrow(/sendFlags -1 is not allowed/);
    await expect(QuicConnection.streamSend(proc, cbs, bytes('x'), 0, { active: 'sometimes' })).rejects.toThrow(/stream_opts.active/);
    await expect(QuicConnection.streamSend(proc, null as unknown as StreamCallbacks, bytes('x'), 0)).rejects.toThrow(TypeError);
    expect(proc.alive).toBe(true);
  });
});

describe('stream acceptor processes', () => {
  let pair: Pair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  it('init (stream opts + conn), then newStream with the opts and {flags, is_orphan}, then data and events', async () => {
    pair = await connectedPair();
    const events = new Inbox();
    const cbs = streamRecorder<{ n: number }>(events, {
      init: (opts) => {
        events.send(['init', opts]);
        return ['ok', { n: 0 }];
      },
      newStream: () => ['ok', { n: 1 }],
    });
    const r = await QuicStream.startLink(cbs, pair.server, { active: true, app_key: 'v' });
    expect(r[0]).toBe('ok');
    const [, initOpts] = (await events.receive((m) => Array.isArray(m) && m[0] === 'init')) as [string, Record<string, unknown>];
    expect(initOpts).toEqual({ active: true, app_key: 'v', conn: pair.server });
    const c = quicer.startStream(pair.client, {}, pair.clientOwner)[1] as QuicStrm;
    quicer.asyncSend(c, bytes('to the acceptor'), FIN);
    const [, stream, props, conn] = await rec(events, 'newStream');
    expect(props).toEqual({ active: true, app_key: 'v', flags: 0, is_orphan: false });
    expect(conn).toBe(pair.server);
    const [, s2, d, , state] = await rec(events, 'handleStreamData');
    expect(s2).toBe(stream);
    expect(text(d as Uint8Array)).toBe('to the acceptor');
    expect(state).toEqual({ n: 1 });
    await rec(events, 'peerSendShutdown');
  });

  it('an acceptor stops normally when the connection closes first; QuicStream.send before a stream is badarg', async () => {
    pair = await connectedPair();
    const r = await QuicStream.startLink(streamRecorder(new Inbox()), pair.server, {});
    const proc = r[1] as StreamProcess;
    expect(await QuicStream.send(proc, bytes('x'))).toEqual(['error', 'badarg']);
    const down = new Inbox();
    down.monitor(proc);
    await quicer.shutdownConnection(pair.client);
    const [, , , reason] = (await down.receive()) as unknown[];
    expect(reason).toBe('normal');
  });

  it('reassembly: by default data already queued behind a chunk is merged into one handleStreamData (len summed, flags OR-ed); disable_fpbuffer delivers each chunk', async () => {
    pair = await connectedPair();
    const p = pair;
    async function run(streamOpts: Record<string, unknown>): Promise<Array<[string, RecvDataProps]>> {
      const calls: Array<[string, RecvDataProps]> = [];
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const done = new Inbox();
      const cbs: StreamCallbacks<unknown> = {
        newStream: () => ['ok', {}],
        handleStreamData: async (_s, d, props, st) => {
          calls.push([text(d), props]);
          if (calls.length === 1) await gate; // the process is busy: later chunks queue up
          if (props.flags & 2) done.send('fin');
          return ['ok', st];
        },
      };
      await QuicStream.startLink(cbs, p.server, streamOpts);
      const c = quicer.startStream(p.client, {}, p.clientOwner)[1] as QuicStrm;
      for (const piece of ['a', 'bb', 'ccc', 'dddd']) {
        quicer.asyncSend(c, bytes(piece), piece === 'dddd' ? FIN : 0);
        await sleep(25);
      }
      await sleep(40);
      open();
      await done.receive((m) => m === 'fin');
      return calls;
    }
    const merged = await run({});
    expect(merged.map((c) => c[0])).toEqual(['a', 'bbcccdddd']);
    expect(merged[1]![1]).toEqual({ absolute_offset: 1, len: 9, flags: 2 });
    const raw = await run({ disable_fpbuffer: true });
    expect(raw.map((c) => c[0])).toEqual(['a', 'bb', 'ccc', 'dddd']);
    expect(raw.map((c) => c[1].absolute_offset)).toEqual([0, 1, 3, 6]);
  });
});

describe('local stream processes (QuicStream.startLink with is_local)', () => {
  let pair: Pair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  it('passive after a counted active mode, peerSendAborted and peerReceiveAborted with the peer\'s codes', async () => {
    pair = await connectedPair();
    const events = new Inbox();
    const r = await QuicStream.startLink(streamRecorder(events), pair.client, { is_local: true, active: 1 });
    const proc = r[1] as StreamProcess;
    expect(await QuicStream.send(proc, bytes('hello'), 0)).toEqual(['ok', 5]);
    const [, , s] = await event(pair.serverOwner, 'new_stream');
    const serverSide = s as QuicStrm;
    quicer.asyncSend(serverSide, bytes('one'));
    expect(text((await rec(events, 'handleStreamData'))[2] as Uint8Array)).toBe('one');
    await rec(events, 'passive');
    quicer.asyncShutdownStream(serverSide, quicer.StreamShutdownFlag.ABORT, 21);
    expect((await rec(events, 'peerSendAborted'))[2]).toBe(21n);
    expect((await rec(events, 'peerReceiveAborted'))[2]).toBe(21n);
    expect((await rec(events, 'sendShutdownComplete'))[2]).toBe(false);
  });

  it('peerAccepted(conn, stream, S) for a stream that waited for the peer\'s stream credit (INDICATE_PEER_ACCEPT)', async () => {
    pair = await connectedPair({ server: { peer_bidi_stream_count: 1 } });
    const first = quicer.startStream(pair.client, {}, pair.clientOwner)[1] as QuicStrm;
    quicer.asyncSend(first, bytes('1'), FIN);
    const events = new Inbox();
    const r = await QuicStream.startLink(streamRecorder(events), pair.client, { is_local: true, start_flag: quicer.StreamStartFlag.INDICATE_PEER_ACCEPT });
    expect(r[0]).toBe('ok');
    expect(await QuicStream.send(r[1] as StreamProcess, bytes('2'), FIN)).toEqual(['ok', 1]);
    const [, , s] = await event(pair.serverOwner, 'new_stream');
    await sleep(30);
    expect(events.pending).toEqual([]);
    // The server finishes the first stream: it is gone on both sides and MAX_STREAMS follows.
    await quicer.recv(s as QuicStrm, 0);
    quicer.asyncSend(s as QuicStrm, new Uint8Array(0), FIN);
    const [, conn, stream] = await rec(events, 'peerAccepted');
    expect(conn).toBe(pair.client);
    expect(quicer.getopt(stream as QuicStrm, 'stream_id')).toEqual(['ok', 4]);
  });

  it("an acceptor's init may ask for a continue (before anything else) or a timeout, as gen_server's init", async () => {
    pair = await connectedPair();
    const events = new Inbox();
    const cbs: StreamCallbacks<string> = {
      init: () => ['ok', 'initial', ['continue', 'warm-up']],
      handleContinue: (c, s) => {
        events.send(['continue', c, s]);
        return ['ok', 'continued'];
      },
      handleInfo: (info, s) => {
        events.send(['info', info, s]);
        return ['ok', s];
      },
    };
    const r = await QuicStream.startLink(cbs, pair.server, {});
    (r[1] as StreamProcess).send('queued before');
    expect(await events.receive()).toEqual(['continue', 'warm-up', 'initial']);
    expect(await events.receive()).toEqual(['info', 'queued before', 'continued']);
    const t = await QuicStream.startLink({ init: () => ['ok', 'idle', 30], handleInfo: cbs.handleInfo }, pair.server, {});
    expect(t[0]).toBe('ok');
    expect(await events.receive()).toEqual(['info', 'timeout', 'idle']);
    const declined = await QuicStream.startLink({ init: () => ['stop', 'no thanks'] }, pair.server, {});
    expect(declined).toEqual(['error', 'no thanks']);
  });
});

describe('startLinkHandoff', () => {
  let pair: Pair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  it('initHandoff prepares the state; postHandoff runs first with the handoff data, then the data queued at the old owner, in order', async () => {
    pair = await connectedPair();
    const c = quicer.startStream(pair.client, {}, pair.clientOwner)[1] as QuicStrm;
    quicer.asyncSend(c, bytes('early,'));
    const [, , s, props] = await event(pair.serverOwner, 'new_stream');
    const stream = s as QuicStrm;
    quicer.setopt(stream, 'active', true);
    await sleep(30);
    quicer.asyncSend(c, bytes('late'), FIN);
    await sleep(40);
    const events = new Inbox();
    const cbs = streamRecorder<{ from: string }>(events, {
      initHandoff: (st, opts, conn, pr) => {
        events.send(['initHandoff', st, opts, conn, pr]);
        return ['ok', { from: 'initHandoff' }];
      },
    });
    const r = await QuicStream.startLinkHandoff(cbs, stream, pair.server, { active: true }, props as Record<string, unknown>);
    expect(r[0]).toBe('ok');
    const [, st, opts, conn, pr] = (await events.receive()) as unknown[];
    expect([st, opts, conn, pr]).toEqual([stream, { active: true }, pair.server, { flags: 0, is_orphan: true }]);
    quicer.handoffStream(stream, r[1] as Process, 'post-info');
    const order: string[] = [];
    for (;;) {
      const m = (await events.receive()) as StreamRec;
      order.push(m[0] === 'handleStreamData' ? `data:${text(m[2] as Uint8Array)}` : m[0] === 'postHandoff' ? `post:${String(m[2])}:${(m[3] as { from: string }).from}` : m[0]);
      if (m[0] === 'peerSendShutdown') break;
    }
    expect(order).toEqual(['post:post-info:initHandoff', 'data:early,late', 'peerSendShutdown']);
  });

  it('the old owner dies before handing over: the process stops with owner_down', async () => {
    pair = await connectedPair();
    const c = quicer.startStream(pair.client, {}, pair.clientOwner)[1] as QuicStrm;
    quicer.asyncSend(c, bytes('x'));
    const [, , s] = await event(pair.serverOwner, 'new_stream');
    const stream = s as QuicStrm;
    const old = new Inbox();
    quicer.handoffStream(stream, old);
    const r = await QuicStream.startLinkHandoff(streamRecorder(new Inbox()), stream, pair.server, {}, {}, { link: new Inbox() });
    const proc = r[1] as StreamProcess;
    const watcher = new Inbox();
    watcher.monitor(proc);
    old.exit('crash');
    const [, , , reason] = (await watcher.receive()) as unknown[];
    expect(reason).toBe('owner_down');
  });
});

describe('generic callbacks', () => {
  it('handleCall, handleCast, handleInfo, handleContinue and terminate behave as in a gen_server', async () => {
    const pair = await connectedPair();
    try {
      const events = new Inbox();
      const cbs: StreamCallbacks<{ n: number }> = {
        init: () => ['ok', { n: 0 }],
        handleCall: (req, _from, s) => ['reply', ['got', req, s.n], { n: s.n + 1 }],
        handleCast: (req, s) => [['continue', req], s],
        handleContinue: (cont, s) => {
          events.send(['continue', cont, s.n]);
          return ['ok', { n: s.n + 10 }];
        },
        handleInfo: (info, s) => {
          events.send(['info', info, s.n]);
          return info === 'stop' ? ['stop', 'asked', s] : ['ok', s];
        },
        terminate: (reason, s) => events.send(['terminate', reason, s.n]),
      };
      const r = await QuicStream.startLink(cbs, pair.server, {}, { link: new Inbox() });
      const proc = r[1] as StreamProcess<{ n: number }>;
      expect(await proc.call('hello')).toEqual(['got', 'hello', 0]);
      proc.cast('c1');
      expect(await events.receive()).toEqual(['continue', 'c1', 1]);
      proc.send('note');
      expect(await events.receive()).toEqual(['info', 'note', 11]);
      proc.send('stop');
      await events.receive();
      expect(await events.receive()).toEqual(['terminate', 'asked', 11]);
      expect(proc.exitReason).toBe('asked');
    } finally {
      await pair.close();
    }
  });
});
