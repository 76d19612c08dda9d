/**
 * The process runtime and the gen_server core under quicer's behaviours: one message at a
 * time (also with async handlers), exits and their propagation (links, trapExit, monitors,
 * parents), calls, casts, ordered stops, and every cb_ret() form of QUICER.md §2b / §4.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { CallError, FunctionProcess, Inbox, Process, self, type ExitReason } from '../../src/quicer/process.js';
import { BadReturnError, setCallbackErrorLogger } from '../../src/quicer/gen-server.js';
import { ConnectionProcess, QuicConnection, reply, type CallFrom, type ConnectionCallbacks } from '../../src/quicer/connection.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ['error', R, S] returns are logged; keep the test output clean but remember them.
const logged: unknown[] = [];
const previousLogger = setCallbackErrorLogger((_p, reason) => logged.push(reason));
afterAll(() => {
  setCallbackErrorLogger(previousLogger);
});

/** A process that dies with `reason` when told to. */
function dier(): FunctionProcess {
  return new FunctionProcess((m) => {
    if (Array.isArray(m) && m[0] === 'die') throw m[1];
  });
}

/** The exit reason of `p` once it ended. */
function exitOf(p: Process): Promise<ExitReason> {
  return new Promise((resolve) => p.onExitHook(resolve));
}

/** A started behaviour process (no connection) with `callbacks`. */
async function started<S>(callbacks: ConnectionCallbacks<S>, opts: Record<string, unknown> = {}): Promise<ConnectionProcess<S>> {
  const p = new ConnectionProcess<S>(callbacks);
  const r = await p.runInit(opts);
  expect(r).toEqual(['ok']);
  return p;
}

describe('mailbox', () => {
  it('handles one message at a time, also when the handler is async: no interleaving, no re-entry', async () => {
    const trace: string[] = [];
    const done = new Inbox();
    const p = new FunctionProcess(async (m, me) => {
      trace.push(`enter ${String(m)}`);
      if (m === 1) me.send(99); // sent from inside the handler: handled after this one returns
      await sleep(5);
      trace.push(`leave ${String(m)}`);
      if (m === 99) done.send('done');
    });
    p.send(1);
    p.send(2);
    p.send(3);
    await done.receive((m) => m === 'done');
    expect(trace).toEqual(['enter 1', 'leave 1', 'enter 2', 'leave 2', 'enter 3', 'leave 3', 'enter 99', 'leave 99']);
  });

  it('self() is the running process inside its handler, also after an await', async () => {
    const seen: Array<Process | undefined> = [];
    const out = new Inbox();
    const p = new FunctionProcess(async () => {
      seen.push(self());
      await sleep(1);
      seen.push(self());
      out.send('ok');
    });
    p.send('go');
    await out.receive();
    expect(seen).toEqual([p, p]);
    expect(self()).toBeUndefined();
  });

  it('a held mailbox queues messages until released', async () => {
    const got: unknown[] = [];
    const p = new FunctionProcess((m) => void got.push(m));
    p.hold();
    p.send('a');
    p.send('b');
    await sleep(5);
    expect(got).toEqual([]);
    p.release();
    await sleep(1);
    expect(got).toEqual(['a', 'b']);
  });

  it('yields to the event loop after messagesPerTurn messages', async () => {
    const got: number[] = [];
    let timerRanAt = -1;
    const p = new FunctionProcess((m) => void got.push(m as number));
    p.messagesPerTurn = 4;
    setImmediate(() => (timerRanAt = got.length));
    for (let i = 0; i < 10; i++) p.send(i);
    await sleep(10);
    expect(got).toHaveLength(10);
    expect(timerRanAt).toBeGreaterThanOrEqual(4);
    expect(timerRanAt).toBeLessThan(10);
  });
});

describe('exits', () => {
  it('a handler that throws ends its process with the thrown value; messages after it are dropped', async () => {
    const boom = new Error('boom');
    const handled: unknown[] = [];
    const p = new FunctionProcess((m) => {
      handled.push(m);
      if (m === 'crash') throw boom;
    });
    p.send('crash');
    p.send('after');
    expect(await exitOf(p)).toBe(boom);
    expect(p.alive).toBe(false);
    expect(handled).toEqual(['crash']);
    p.send('late');
    await sleep(1);
    expect(handled).toEqual(['crash']);
  });

  it('an async handler that rejects ends the process with the rejection', async () => {
    const p = new FunctionProcess(async () => {
      await sleep(1);
      throw 'rejected';
    });
    p.send('x');
    expect(await exitOf(p)).toBe('rejected');
  });

  it('links: an abnormal exit takes a linked process down; a normal one does not; a trapping process gets EXIT', async () => {
    const a = dier();
    const b = dier();
    a.link(b);
    a.send(['die', 'crashed']);
    expect(await exitOf(b)).toBe('crashed');

    const c = dier();
    const d = dier();
    c.link(d);
    c.exit('normal');
    await sleep(1);
    expect(d.alive).toBe(true);

    const e = dier();
    const trapper = new Inbox();
    trapper.trapExit = true;
    e.link(trapper);
    e.send(['die', 'bad']);
    const msg = await trapper.receive<unknown[]>((m) => Array.isArray(m) && m[0] === 'EXIT');
    expect(msg).toEqual(['EXIT', e, 'bad']);
    expect(trapper.alive).toBe(true);
  });

  it("'kill' sent directly cannot be trapped (the process ends 'killed'); through a link it is an ordinary reason", async () => {
    const trapper = new Inbox();
    trapper.trapExit = true;
    trapper.exitSignal(dier(), 'kill');
    expect(trapper.exitReason).toBe('killed');

    const victim = dier();
    const linkedTrapper = new Inbox();
    linkedTrapper.trapExit = true;
    victim.link(linkedTrapper);
    victim.exit('kill');
    expect(await linkedTrapper.receive()).toEqual(['EXIT', victim, 'kill']);
    expect(linkedTrapper.alive).toBe(true);
  });

  it('monitors get DOWN with the reason; monitoring a dead process gives noproc', async () => {
    const w = new Inbox();
    const p = dier();
    const ref = w.monitor(p);
    p.send(['die', 'why']);
    expect(await w.receive()).toEqual(['DOWN', ref, p, 'why']);
    const ref2 = w.monitor(p);
    expect(await w.receive()).toEqual(['DOWN', ref2, p, 'noproc']);
  });

  it('a callback process ends with its parent even while trapping exits', async () => {
    const parent = dier();
    const child = await started({ init: () => ['ok', 0] });
    child.setParent(parent);
    expect(child.trapExit).toBe(true);
    parent.exit('shutdown');
    expect(await exitOf(child)).toBe('shutdown');
  });
});

describe('calls, casts and stop', () => {
  it('call → handleCall; the reply arrives; get_cb_state and merge_cb_state are built in', async () => {
    const p = await started<{ n: number }>({
      init: () => ['ok', { n: 1 }],
      handleCall: (req, _from, s) => ['reply', ['got', req, s.n], { n: s.n + 1 }],
    });
    expect(await p.call('hello')).toEqual(['got', 'hello', 1]);
    expect(await QuicConnection.getCbState(p)).toEqual({ n: 2 });
    expect(await QuicConnection.mergeCbState(p, { extra: true })).toEqual({ n: 2, extra: true });
    expect(await QuicConnection.getCbState(p)).toEqual({ n: 2, extra: true });
    expect(await p.call(['merge_cb_state', 'not a map'])).toEqual(['error', 'unsupported_type']);
    expect(await QuicConnection.getHandle(p)).toBeUndefined();
  });

  it('a handleCall that does not reply leaves the caller waiting for reply(from, value) or the timeout', async () => {
    let saved: CallFrom | undefined;
    const p = await started<null>({
      init: () => ['ok', null],
      handleCall: (req, from, s) => {
        if (req === 'later') saved = from;
        return ['ok', s];
      },
    });
    const pending = p.call('later');
    await sleep(5);
    reply(saved!, 'answered');
    expect(await pending).toBe('answered');
    const err = await p.call('never', 30).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallError);
    expect((err as CallError).reason).toBe('timeout');
    expect(p.alive).toBe(true);
  });

  it('a call to a dead process fails with noproc; a call pending when the process ends fails with its exit', async () => {
    const p = await started<null>({
      init: () => ['ok', null],
      handleCall: async (_r, _f, s) => {
        await sleep(5);
        throw new Error('handler crashed');
      },
    });
    const err = (await p.call('x').catch((e: unknown) => e)) as CallError;
    expect(err.reason[0]).toBe('exit');
    expect((err.reason as readonly ['exit', Error])[1].message).toBe('handler crashed');
    const err2 = (await p.call('y').catch((e: unknown) => e)) as CallError;
    expect(err2.reason).toBe('noproc');
  });

  it('cast → handleCast, in order with other messages', async () => {
    const out = new Inbox();
    const p = await started<string[]>({
      init: () => ['ok', []],
      handleCast: (req, s) => ['ok', [...s, `cast ${String(req)}`]],
      handleInfo: (info, s) => ['ok', [...s, `info ${String(info)}`]],
      handleCall: (_r, _f, s) => ['reply', s, s],
    });
    p.cast(1);
    p.send(2);
    p.cast(3);
    expect(await p.call('state')).toEqual(['cast 1', 'info 2', 'cast 3']);
    out.exit();
  });

  it('stop handles what is queued, then ends with the reason and runs terminate once', async () => {
    const seen: unknown[] = [];
    const terminated: Array<[ExitReason, unknown]> = [];
    const p = await started<number>({
      init: () => ['ok', 0],
      handleInfo: async (info, s) => {
        await sleep(2);
        seen.push(info);
        return ['ok', s + 1];
      },
      terminate: (reason, s) => void terminated.push([reason, s]),
    });
    p.send('a');
    p.send('b');
    await p.stop('bye');
    expect(seen).toEqual(['a', 'b']);
    expect(terminated).toEqual([['bye', 2]]);
    expect(p.exitReason).toBe('bye');
    await expect(p.stop()).rejects.toBeInstanceOf(CallError);
  });
});

describe("cb_ret() forms (QUICER.md §2b, §4)", () => {
  it("['ok', S] and ['hibernate', S] store the state", async () => {
    const p = await started<number>({
      init: () => ['ok', 0],
      handleCast: (req, s) => (req === 'h' ? ['hibernate', s + 10] : ['ok', s + 1]),
      handleCall: (_r, _f, s) => ['reply', s, s],
    });
    p.cast('o');
    p.cast('h');
    expect(await p.call('get')).toBe(11);
  });

  it('[timeoutMs, S] delivers handleInfo(\'timeout\') when idle that long, and any message cancels it', async () => {
    const infos: Array<[unknown, number]> = [];
    const p = await started<number>({
      init: () => ['ok', 0],
      handleCast: (req, s) => (req === 'arm' ? [20, s + 1] : ['ok', s]),
      handleInfo: (info, s) => {
        infos.push([info, s]);
        return ['ok', s];
      },
    });
    const t0 = performance.now();
    p.cast('arm');
    while (infos.length === 0) await sleep(2);
    expect(infos).toEqual([['timeout', 1]]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(18);
    p.cast('arm');
    await sleep(5);
    p.cast('other'); // cancels the armed timeout
    await sleep(40);
    expect(infos).toHaveLength(1);
  });

  it("[['continue', C], S] runs handleContinue(C, S) before the next message", async () => {
    const trace: string[] = [];
    const p = await started<string>({
      init: () => ['ok', 's0'],
      handleCast: async (req, s) => {
        trace.push(`cast ${String(req)} ${s}`);
        await sleep(2);
        return req === 'c' ? [['continue', 'more'], 's1'] : ['ok', s];
      },
      handleContinue: (c, s) => {
        trace.push(`continue ${String(c)} ${s}`);
        return ['ok', 's2'];
      },
      handleCall: (_r, _f, s) => ['reply', s, s],
    });
    p.cast('c');
    p.cast('next');
    expect(await p.call('get')).toBe('s2');
    expect(trace).toEqual(['cast c s0', 'continue more s1', 'cast next s2']);
  });

  it("['stop', R, S] ends the process with R (terminate sees S)", async () => {
    let last: unknown;
    const p = await started<string>({
      init: () => ['ok', 'a'],
      handleCast: () => ['stop', 'done', 'final'],
      terminate: (_r, s) => void (last = s),
    });
    p.cast('x');
    expect(await exitOf(p)).toBe('done');
    expect(last).toBe('final');
  });

  it("['reply', R, S, action]: the reply goes out, then the action (continue, timeout) applies", async () => {
    const infos: unknown[] = [];
    const p = await started<number>({
      init: () => ['ok', 0],
      handleCall: (req, _f, s) => (req === 'cont' ? ['reply', 'r1', s, ['continue', 'k']] : ['reply', 'r2', s, 15]),
      handleContinue: (c, s) => {
        infos.push(['continue', c]);
        return ['ok', s];
      },
      handleInfo: (i, s) => {
        infos.push(i);
        return ['ok', s];
      },
    });
    expect(await p.call('cont')).toBe('r1');
    expect(await p.call('timer')).toBe('r2');
    await sleep(40);
    expect(infos).toEqual([['continue', 'k'], 'timeout']);
  });

  it("['error', R, S] keeps S, reports R, and answers a call with ['error', R]; the process goes on", async () => {
    logged.length = 0;
    const p = await started<number>({
      init: () => ['ok', 0],
      handleCast: (_r, s) => ['error', 'cast failed', s + 1],
      handleCall: (req, _f, s) => (req === 'fail' ? ['error', 'call failed', s + 1] : ['reply', s, s]),
    });
    p.cast('x');
    expect(await p.call('fail')).toEqual(['error', 'call failed']);
    expect(await p.call('get')).toBe(2);
    expect(p.alive).toBe(true);
    expect(p.reportedErrors).toEqual(['cast failed', 'call failed']);
    expect(logged).toEqual(['cast failed', 'call failed']);
  });

  it("['stop', R, Reply, S] answers the caller, then stops", async () => {
    const p = await started<number>({
      init: () => ['ok', 0],
      handleCall: () => ['stop', 'finished', 'last words', 7],
    });
    const ended = exitOf(p);
    expect(await p.call('bye')).toBe('last words');
    expect(await ended).toBe('finished');
  });

  it('a return that is not a cb_ret() ends the process with a BadReturnError naming it', async () => {
    const p = await started<number>({
      init: () => ['ok', 0],
      handleCast: () => 'nonsense' as never,
    });
    p.cast('x');
    const reason = await exitOf(p);
    expect(reason).toBeInstanceOf(BadReturnError);
    expect((reason as Error).message).toContain('nonsense');
  });
});

describe('init', () => {
  it("['ok', S, timeout] arms the timeout; ['ok', S, ['continue', C]] continues before any message", async () => {
    const got: unknown[] = [];
    const p = new ConnectionProcess<number>({
      init: () => ['ok', 1, ['continue', 'boot']],
      handleContinue: (c, s) => {
        got.push(['continue', c, s]);
        return ['ok', s + 1];
      },
      handleInfo: (i, s) => {
        got.push(['info', i, s]);
        return ['ok', s];
      },
    });
    p.send('early'); // queued before init returned
    await p.runInit({});
    await sleep(5);
    expect(got).toEqual([
      ['continue', 'boot', 1],
      ['info', 'early', 2],
    ]);

    const infos: unknown[] = [];
    const q = new ConnectionProcess<number>({
      init: () => ['ok', 0, 10],
      handleInfo: (i, s) => {
        infos.push(i);
        return ['ok', s];
      },
    });
    await q.runInit({});
    await sleep(30);
    expect(infos).toEqual(['timeout']);
  });

  it("'ignore', ['stop', R] and a throwing init end the process and report why; init runs as the process", async () => {
    const a = new ConnectionProcess({ init: () => 'ignore' });
    expect(await a.runInit({})).toEqual(['error', 'ignore']);
    expect(a.alive).toBe(false);
    const b = new ConnectionProcess({ init: () => ['stop', 'no thanks'] });
    expect(await b.runInit({})).toEqual(['error', 'no thanks']);
    expect(b.exitReason).toBe('no thanks');
    const err = new Error('init failed');
    const c = new ConnectionProcess({
      init: () => {
        throw err;
      },
    });
    expect(await c.runInit({})).toEqual(['error', err]);
    expect(c.exitReason).toBe(err);
    let inside: Process | undefined;
    const d = new ConnectionProcess({
      init: async () => {
        await sleep(1);
        inside = self();
        return ['ok', null];
      },
    });
    await d.runInit({});
    expect(inside).toBe(d);
  });
});
