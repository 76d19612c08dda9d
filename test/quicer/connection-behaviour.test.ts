/**
 * The quicer_connection process around a live connection (QUICER.md §2b, §3a, §0.5, §4):
 * startLink, the built-in calls, handleCall / handleCast / handleInfo / handleContinue /
 * terminate, every cb_ret() form returned from connection callbacks, and the owner monitor
 * (a connection process that stops or crashes shuts its connection down with application
 * error 0, which the peer sees as shutdown 0). Over UDP on loopback.
 */
import { describe, it, expect, afterEach, afterAll } from 'vitest';
import { QuicConnection, type ConnectionProcess } from '../../src/quicer/connection.js';
import { QuicConn } from '../../src/quicer/conn-handle.js';
import { setCallbackErrorLogger } from '../../src/quicer/gen-server.js';
import { FunctionProcess, Inbox, self, type Process } from '../../src/quicer/process.js';
import * as quicer from '../../src/quicer/quicer.js';
import { cleanup, cleanups, names, next, recorder, sleep, startClient, startServer, type RecState } from './connection-harness.js';

afterEach(cleanup);
const logged: unknown[] = [];
const previousLogger = setCallbackErrorLogger((_p, r) => logged.push(r));
afterAll(() => {
  setCallbackErrorLogger(previousLogger);
});

function exitOf(p: Process): Promise<unknown> {
  return new Promise((resolve) => p.onExitHook(resolve));
}

describe('startLink', () => {
  it('bad options throw before any datagram leaves; a bad callback module is a TypeError', async () => {
    const { server, port } = await startServer();
    await expect(QuicConnection.startLink(recorder(), ['127.0.0.1', port], [{ alpn: ['quicer-test'], idle_timeout_ms: -1, inbox: new Inbox() }])).rejects.toThrow(/idle_timeout_ms/);
    await expect(QuicConnection.startLink({} as never, ['127.0.0.1', port], [{ alpn: ['quicer-test'] }])).rejects.toThrow(TypeError);
    await sleep(20);
    expect(server.listener.endpoint.stats.datagramsReceived).toBe(0);
  });

  it('an async init runs as the connection process and before any event: connected waits for it', async () => {
    const { port } = await startServer();
    const order: string[] = [];
    let inside: Process | undefined;
    const cb = recorder({
      init: async (opts) => {
        inside = self();
        await sleep(150); // the handshake completes meanwhile
        order.push('init done');
        return ['ok', { inbox: opts.inbox as Inbox }];
      },
      connected: (_c, _p, s) => {
        order.push('connected');
        return ['ok', s];
      },
    });
    const { proc, inbox } = await startClient(port, {}, cb);
    await next(inbox, 'connected');
    expect(order).toEqual(['init done', 'connected']);
    expect(inside).toBe(proc);
  });

  it("init returning ['stop', R]: startLink answers ['error', R], the process is gone and the connection is closed", async () => {
    const { port, inbox: sin } = await startServer();
    const cb = recorder({ init: () => ['stop', 'not today'] });
    const r = await QuicConnection.startLink(cb, ['127.0.0.1', port], [{ alpn: ['quicer-test'], verify: 'none', inbox: new Inbox() }]);
    expect(r).toEqual(['error', 'not today']);
    await sleep(100);
    expect(names(sin)).not.toContain('connected');
  });

  it('links to the calling process: a crash of the connection process reaches it as EXIT when it traps exits', async () => {
    const { port } = await startServer();
    const boom = new Error('callback crashed');
    const cb = recorder({
      handleCast: () => {
        throw boom;
      },
    });
    const parentInbox = new Inbox();
    let child: ConnectionProcess<RecState> | undefined;
    const parent = new FunctionProcess(async (m) => {
      if (m === 'start') {
        const r = await QuicConnection.startLink(cb, ['127.0.0.1', port], [{ alpn: ['quicer-test'], verify: 'none', inbox: new Inbox() }]);
        child = r[1] as ConnectionProcess<RecState>;
        parentInbox.send('started');
      } else parentInbox.send(m);
    });
    parent.trapExit = true;
    parent.send('start');
    await parentInbox.receive((m) => m === 'started');
    cleanups.push(() => child!.exit('shutdown'));
    child!.cast('crash');
    expect(await parentInbox.receive()).toEqual(['EXIT', child, boom]);
    parent.exit();
  });
});

describe('calls, casts and infos on a live connection process', () => {
  it('get_handle, get_cb_state, merge_cb_state; handleCall, handleCast, handleInfo see the state; terminate gets the stop reason', async () => {
    const { port } = await startServer();
    const terminated: unknown[] = [];
    const cb = recorder({
      handleCall: (req, _from, s) => ['reply', ['called', req, s.count ?? 0], { ...s, count: ((s.count as number) ?? 0) + 1 }],
      handleCast: (req, s) => ['ok', { ...s, lastCast: req }],
      handleInfo: (info, s) => {
        s.inbox.send(['handleInfo', info]);
        return ['ok', { ...s, lastInfo: info }];
      },
      terminate: (reason, s) => void terminated.push([reason, s.count]),
    });
    const { proc, inbox } = await startClient(port, {}, cb);
    const [, conn] = await next(inbox, 'connected');
    expect(await QuicConnection.getHandle(proc)).toBe(conn);
    expect(await proc.call('hello')).toEqual(['called', 'hello', 0]);
    proc.cast('a cast');
    proc.send('an info');
    expect(await next(inbox, 'handleInfo')).toEqual(['handleInfo', 'an info']);
    const state = (await QuicConnection.getCbState(proc)) as RecState;
    expect(state).toMatchObject({ count: 1, lastCast: 'a cast', lastInfo: 'an info' });
    expect(await QuicConnection.mergeCbState(proc, { added: 1 })).toMatchObject({ count: 1, added: 1 });
    await proc.stop('finished');
    expect(terminated).toEqual([['finished', 1]]);
  });
});

describe('cb_ret() from connection callbacks', () => {
  it("[timeout, S] → handleInfo('timeout') after that long without messages; a message in between cancels it", async () => {
    const { port } = await startServer();
    // connected is followed at once by streamsAvailable, which cancels its timeout (as in
    // gen_server); the last event of the handshake arms one that fires.
    const cb = recorder({ connected: (_c, _p, s) => [30, s], dgramStateChanged: (_c, _p, s) => [40, s] });
    const { inbox } = await startClient(port, {}, cb);
    await next(inbox, 'dgramStateChanged');
    const t0 = performance.now();
    expect(await next(inbox, 'handleInfo', (r) => r[1] === 'timeout')).toEqual(['handleInfo', 'timeout']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
    await sleep(60);
    expect(names(inbox).filter((n) => n === 'handleInfo')).toEqual([]); // only the one
  });

  it("[['continue', C], S] from connected → handleContinue(C) before the next event is handled", async () => {
    const { port } = await startServer();
    const order: string[] = [];
    const cb = recorder({
      connected: (_c, _p, s) => {
        order.push('connected');
        return [['continue', 'after-connect'], { ...s, step: 1 }];
      },
      handleContinue: (c, s) => {
        order.push(`continue ${String(c)} step ${String(s.step)}`);
        return ['hibernate', { ...s, step: 2 }];
      },
      streamsAvailable: (_c, _a, s) => {
        order.push(`streamsAvailable step ${String(s.step)}`);
        return ['ok', s];
      },
    });
    const { inbox } = await startClient(port, {}, cb);
    await next(inbox, 'streamsAvailable');
    expect(order).toEqual(['connected', 'continue after-connect step 1', 'streamsAvailable step 2']);
  });

  it("['stop', R, S] from a callback ends the process; the peer sees shutdown with 0 (owner monitor, QUICER.md §0.5)", async () => {
    const { port, inbox: sin } = await startServer();
    const { proc, inbox } = await startClient(port, {}, recorder({ connected: (_c, _p, s) => ['stop', 'normal', s] }));
    await next(inbox, 'connected');
    expect(await exitOf(proc)).toBe('normal');
    expect((await next(sin, 'shutdown'))[2]).toBe(0n);
  });

  it('a callback that throws ends the process with that error; the peer sees shutdown with 0', async () => {
    const { port, inbox: sin } = await startServer();
    const boom = new Error('connected failed');
    const { proc } = await startClient(
      port,
      {},
      recorder({
        connected: () => {
          throw boom;
        },
      }),
    );
    expect(await exitOf(proc)).toBe(boom);
    expect((await next(sin, 'shutdown'))[2]).toBe(0n);
  });

  it("['stop', R, Reply, S] from handleCall answers the caller, then stops (and the connection goes down with 0)", async () => {
    const { port, inbox: sin } = await startServer();
    const { proc, inbox } = await startClient(port, {}, recorder({ handleCall: (_r, _f, s) => ['stop', 'asked to', 'goodbye', s] }));
    await next(inbox, 'connected');
    await next(sin, 'connected');
    expect(await proc.call('leave')).toBe('goodbye');
    expect(proc.exitReason).toBe('asked to');
    expect((await next(sin, 'shutdown'))[2]).toBe(0n);
  });

  it("['error', R, S] from a callback keeps the state and reports R; the connection goes on", async () => {
    const { port } = await startServer({ lOpts: { datagram_receive_enabled: 1 } });
    logged.length = 0;
    const { proc, inbox } = await startClient(port, { datagram_receive_enabled: 1 }, recorder({ connected: (_c, _p, s) => ['error', 'not happy', { ...s, marked: true }] }));
    const [, conn] = await next(inbox, 'connected');
    await next(inbox, 'dgramStateChanged');
    expect(proc.alive).toBe(true);
    expect(proc.reportedErrors).toEqual(['not happy']);
    expect(logged).toEqual(['not happy']);
    expect(await QuicConnection.getCbState(proc)).toMatchObject({ marked: true });
    expect(quicer.sendDgram(conn as QuicConn, new Uint8Array([1]))).toEqual(['ok', 1]);
  });

  it("['error', R, S] from newConn rejects the connection: the client never connects; the acceptor reports R", async () => {
    logged.length = 0;
    const { port, inbox: sin, server } = await startServer({ lOpts: { initial_rtt_ms: 10 }, cb: recorder({ newConn: (_c, _p, s) => ['error', 'rejected by app', s] }) });
    const { inbox: cin } = await startClient(port, { initial_rtt_ms: 10 });
    const [, , ts] = await next(cin, 'transportShutdown');
    // An application close during the handshake travels as APPLICATION_ERROR (RFC 9000 §10.2.3), which MsQuic reports as user_canceled.
    expect(ts).toEqual({ status: 'user_canceled', error: 0xc });
    expect(names(cin)).not.toContain('connected');
    await next(sin, 'closed');
    expect(names(sin)).not.toContain('connected');
    expect(logged).toEqual(['rejected by app']);
    const acceptor = [...server.pool.children].find((c) => c.reportedErrors.length > 0)!;
    expect(acceptor.reportedErrors).toEqual(['rejected by app']);
  });
});
