/**
 * quicer's `quicer_listener`: a process that owns a listener, its configuration table
 * (`l_opts`, `c_opts`, `s_opts`) and a pool of `conn_acceptors` connection acceptors kept at
 * that size by a supervisor (QUICER.md §3b). Each acceptor is a `quicer_connection` process
 * (`QuicConnection.startAcceptor`) that runs the `conn_callback` module's `init` only when its
 * first connection arrives, reading `c_opts`/`s_opts` as they are then, and asks the pool for
 * its replacement. With no acceptor queued a client is refused (`connection_refused`).
 * `lock`/`unlock` stop and restart accepting; `reload` brings new certificates and options
 * for new connections without touching established ones or the listener handle.
 */
import { QuicConnection, type AcceptorSupervisor, type ConfTable, type ConnectionProcess } from './connection.js';
import { QuicListener, type ListenOn } from './listener.js';
import { optionError, validateConnOpts } from './options.js';
import { CallError, Process, isNormalExit, self, type ExitReason } from './process.js';

/**
 * quicer_listener's `{ListenOpts, ConnOpts, StreamOpts}`: `[l_opts, c_opts, s_opts]`. `l_opts`: the
 * listener options plus `conn_acceptors`; `c_opts`: what the acceptors' `init` gets, with
 * `conn_callback` (the callback module); `s_opts`: the stream options handed to `init` as
 * `stream_opts`.
 */
export type ListenerConf = readonly [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];

/** How often idle acceptors that died may be replaced: `RESTART_INTENSITY` per `RESTART_PERIOD_MS`. */
const RESTART_PERIOD_MS = 5000;

/**
 * The acceptor supervisor (quicer_conn_acceptor_sup): starts acceptors on the listener and
 * keeps the pool at its size. An acceptor that took a connection has already asked for its
 * replacement; one that died while still waiting is replaced here (quicer's temporary
 * children are not, which shrinks its pool), at most `size + 1` times per 5 s.
 */
export class AcceptorPool extends Process implements AcceptorSupervisor {
  /** Live acceptor and connection processes started by this pool. */
  readonly children = new Set<ConnectionProcess<unknown>>();
  /** The listener server this pool belongs to: the pool ends when it does. */
  parentProcess: Process | undefined;
  private restarts: number[] = [];

  constructor(
    readonly listener: QuicListener,
    readonly conf: ConfTable,
    readonly size: number,
  ) {
    super();
    this.trapExit = true;
  }

  /**
   * Starts one more acceptor (also called by an acceptor that just took its connection).
   * Children are linked to the pool: when it ends they end with it, and their connections
   * are shut down with application error 0 by the owner monitor.
   */
  startChild(): void {
    if (!this.alive || this.listener.closed) return;
    const r = QuicConnection.startAcceptor(this.listener, this.conf, this, { link: this });
    if (r[0] === 'ok') this.children.add(r[1] as ConnectionProcess<unknown>);
  }

  protected handleMessage(msg: unknown): void {
    if (!Array.isArray(msg) || msg[0] !== 'EXIT' || msg.length !== 3) return;
    const from = msg[1] as Process;
    const reason = msg[2] as ExitReason;
    const child = from as ConnectionProcess<unknown>;
    if (this.children.delete(child)) {
      // An acceptor that never got a connection leaves a hole in the pool: fill it.
      if (child.conn === undefined && !this.listener.closed && this.mayRestart()) this.startChild();
      return;
    }
    // Anything else linked to the pool (its parent) going down takes the pool down.
    if (!isNormalExit(reason) || from === this.parentProcess) this.exit(reason);
  }

  private mayRestart(): boolean {
    const now = performance.now();
    this.restarts = this.restarts.filter((t) => now - t < RESTART_PERIOD_MS);
    if (this.restarts.length > this.size) return false;
    this.restarts.push(now);
    return true;
  }
}

/** Listener servers by name (quicer registers them locally). */
const registry = new Map<string, QuicListenerServer>();

/** A request to the listener server (its `call` protocol). */
type ListenerRequest =
  | 'get_handle'
  | 'lock'
  | 'unlock'
  | 'count_conns'
  | 'get_conf'
  | readonly ['reload', Record<string, unknown> | ListenerConf]
  | readonly ['reload', ListenOn, Record<string, unknown> | ListenerConf];

/** The number of acceptors in `l_opts`: a required non-negative integer. */
function acceptorCount(lOpts: Record<string, unknown>): number {
  const n = lOpts.conn_acceptors;
  const allowed = 'an integer in 0..65535 (the number of connection acceptors)';
  if (n === undefined) throw new TypeError(`listen_opts.conn_acceptors: missing; expected ${allowed}`);
  if (typeof n !== 'number' || !Number.isInteger(n)) throw optionError('listen_opts', 'conn_acceptors', n, allowed);
  if (n < 0 || n > 65535) throw optionError('listen_opts', 'conn_acceptors', n, allowed, true);
  return n;
}

function asOptsMap(where: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${where}: expected an options map (a plain object), got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  return { ...(v as Record<string, unknown>) };
}

function isConfTriple(c: unknown): c is ListenerConf {
  return Array.isArray(c) && c.length === 3;
}

/** Checks a reload configuration before anything changes (throws TypeError/RangeError naming the key). */
function checkReloadConf(conf: unknown): { l: Record<string, unknown>; c: Record<string, unknown> | undefined; s: Record<string, unknown> | undefined } {
  const triple = isConfTriple(conf);
  const l = asOptsMap('listen_opts', triple ? conf[0] : conf);
  const { conn_acceptors: _n, ...rest } = l;
  void _n;
  validateConnOpts(rest, { side: 'server', where: 'listen_opts', requireCertificate: true });
  if (!triple) return { l, c: undefined, s: undefined };
  const c = asOptsMap('conn_opts', conf[1]);
  // Acceptors started from now on need a callback module: a table without one would empty the pool.
  if (c.conn_callback === undefined) throw new TypeError('conn_opts.conn_callback: missing; expected a callback module (an object with an init function)');
  checkConnCallback(c);
  return { l, c, s: asOptsMap('stream_opts', conf[2]) };
}

function checkConnCallback(c: Record<string, unknown>): void {
  const cb = c.conn_callback as { init?: unknown } | undefined;
  if (cb !== undefined && (cb === null || typeof cb !== 'object' || typeof cb.init !== 'function')) {
    throw optionError('conn_opts', 'conn_callback', cb, 'a callback module (an object with an init function)');
  }
}

/** The `quicer_listener` process: a listener with its conf table and acceptor pool. */
export class QuicListenerServer extends Process {
  /** The acceptor supervisor that keeps `conn_acceptors` acceptors queued on the listener. */
  readonly pool: AcceptorPool;
  private parent: Process | undefined;

  private constructor(
    readonly name: string,
    readonly listener: QuicListener,
    readonly conf: ConfTable,
    readonly acceptors: number,
  ) {
    super();
    this.trapExit = true;
    this.pool = new AcceptorPool(listener, conf, acceptors);
    this.pool.parentProcess = this;
    this.pool.link(this);
  }

  /**
   * quicer_listener:start_link/3: listens on `listenOn` with `lOpts` (which must hold
   * `conn_acceptors` and `alpn`; the rest are quicer's listener options) and starts
   * `conn_acceptors` acceptors running `cOpts.conn_callback`. Bad options throw
   * TypeError/RangeError before anything is bound. Resolves `['ok', server]`,
   * `['error', ['already_started', server]]` when `name` is taken, `['error',
   * 'missing_conn_callback']` without a `conn_callback`, or the listen error
   * (`['error', 'address_in_use']`, …). The server is linked to `link` (default: the calling
   * process, if any): when that process ends, the listener stops and its connections close.
   */
  static async startLink(
    name: string,
    listenOn: ListenOn,
    [lOpts, cOpts, sOpts]: ListenerConf,
    o: { link?: Process } = {},
  ): Promise<readonly ['ok', QuicListenerServer] | readonly ['error', unknown]> {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(`quicer_listener name: expected a non-empty string, got ${typeof name}`);
    const l = asOptsMap('listen_opts', lOpts);
    const c = asOptsMap('conn_opts', cOpts);
    const s = asOptsMap('stream_opts', sOpts);
    const n = acceptorCount(l);
    checkConnCallback(c);
    const existing = registry.get(name);
    if (existing !== undefined && existing.alive) return ['error', ['already_started', existing]];
    if (c.conn_callback === undefined) return ['error', 'missing_conn_callback'];
    const { conn_acceptors: _n, ...listenOpts } = l;
    void _n;
    let listener: QuicListener;
    try {
      listener = await QuicListener.open(listenOn, listenOpts);
    } catch (e) {
      if (e instanceof TypeError || e instanceof RangeError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      return ['error', code === 'EADDRINUSE' ? 'address_in_use' : (e as Error).message];
    }
    if (registry.get(name)?.alive) {
      await listener.shutdown();
      return ['error', ['already_started', registry.get(name)]];
    }
    const server = new QuicListenerServer(name, listener, { l_opts: l, c_opts: c, s_opts: s }, n);
    registry.set(name, server);
    for (let i = 0; i < n; i++) server.pool.startChild();
    const parent = o.link ?? self();
    if (parent !== undefined) {
      server.parent = parent;
      server.link(parent);
    }
    return ['ok', server];
  }

  /** The listener server registered under `name`, if it is running. */
  static whereis(name: string): QuicListenerServer | undefined {
    const s = registry.get(name);
    return s?.alive ? s : undefined;
  }

  /** quicer_listener:get_handle/2: `['ok', listener]`. */
  static async getHandle(server: QuicListenerServer, timeoutMs = 5000): Promise<readonly ['ok', QuicListener]> {
    return (await server.call('get_handle', timeoutMs)) as readonly ['ok', QuicListener];
  }

  /** quicer_listener:lock/2: stop accepting (new clients time out); established connections go on. */
  static async lock(server: QuicListenerServer, timeoutMs = 5000): Promise<readonly ['ok'] | readonly ['error', unknown]> {
    return (await server.call('lock', timeoutMs)) as readonly ['ok'] | readonly ['error', unknown];
  }

  /** quicer_listener:unlock/2: accept again, with the stored listener options. */
  static async unlock(server: QuicListenerServer, timeoutMs = 5000): Promise<readonly ['ok'] | readonly ['error', unknown]> {
    return (await server.call('unlock', timeoutMs)) as readonly ['ok'] | readonly ['error', unknown];
  }

  /**
   * quicer_listener:reload/2,3: new listener options (a map), or new `[l_opts, c_opts,
   * s_opts]`, optionally on a new address. Checked first (TypeError/RangeError, nothing
   * changed); then new connections get the new certificates and settings, and acceptors
   * initialised from then on see the new c_opts/s_opts. Established connections and the
   * listener handle are untouched. A locked listener stays locked (quicer's reload restarts
   * the listener, which unlocks it; purequic does not undo a `lock` behind the caller's back).
   */
  static async reload(server: QuicListenerServer, conf: Record<string, unknown> | ListenerConf): Promise<readonly ['ok'] | readonly ['error', unknown]>;
  /**
   * quicer_listener:reload/3: as `reload(server, conf)`, and new connections are accepted on
   * `listenOn` instead (the old socket stays until its connections end).
   */
  static async reload(server: QuicListenerServer, listenOn: ListenOn, conf: Record<string, unknown> | ListenerConf): Promise<readonly ['ok'] | readonly ['error', unknown]>;
  static async reload(server: QuicListenerServer, a: unknown, b?: unknown): Promise<readonly ['ok'] | readonly ['error', unknown]> {
    const onNew = b !== undefined;
    const conf = onNew ? b : a;
    checkReloadConf(conf);
    const req = onNew ? (['reload', a as ListenOn, conf as Record<string, unknown>] as const) : (['reload', conf as Record<string, unknown>] as const);
    return (await server.call(req, Infinity)) as readonly ['ok'] | readonly ['error', unknown];
  }

  /** quicer_listener:get_conf/2: `[l_opts, c_opts, s_opts]` as stored now. */
  static async getConf(server: QuicListenerServer, timeoutMs = 5000): Promise<ListenerConf> {
    return (await server.call('get_conf', timeoutMs)) as ListenerConf;
  }

  /** quicer_listener:count_conns/1: connections accepted and still owned by a live process (pool size minus the acceptors). */
  static async countConns(server: QuicListenerServer, timeoutMs = Infinity): Promise<number> {
    return (await server.call('count_conns', timeoutMs)) as number;
  }

  /** quicer_listener:stop_listener: stops the server; its acceptors and connection processes end with it. */
  static stop(server: QuicListenerServer, reason: ExitReason = 'normal'): Promise<void> {
    return server.stop(reason).catch((e: unknown) => {
      if (!(e instanceof CallError && e.reason === 'noproc')) throw e;
    });
  }

  protected async handleMessage(msg: unknown): Promise<void> {
    if (!Array.isArray(msg)) return;
    if (msg[0] === '$call' && msg.length === 3) {
      this.reply(msg[1] as number, await this.handleCall(msg[2] as ListenerRequest));
      return;
    }
    if (msg[0] === 'EXIT' && msg.length === 3) {
      const [, from, reason] = msg as [string, Process, ExitReason];
      if (from === this.parent || from === this.pool) this.exit(reason);
      return;
    }
    if (msg[0] === 'quic' && msg[1] === 'listener_stopped' && msg[2] === this.listener) this.exit('normal');
  }

  private async handleCall(req: ListenerRequest): Promise<unknown> {
    const l = this.listener;
    switch (req) {
      case 'get_handle':
        return ['ok', l];
      case 'lock':
        l.lock();
        return ['ok'];
      case 'unlock':
        l.unlock();
        return ['ok'];
      case 'count_conns':
        return Math.max(0, this.pool.children.size - this.acceptors);
      case 'get_conf':
        return [this.conf.l_opts, this.conf.c_opts, this.conf.s_opts];
    }
    if (Array.isArray(req) && req[0] === 'reload') {
      const onNew = req.length === 3;
      const conf = onNew ? req[2] : req[1];
      try {
        const checked = checkReloadConf(conf);
        const { conn_acceptors: _n, ...listenOpts } = checked.l;
        void _n;
        await l.reload(listenOpts, onNew ? (req[1] as ListenOn) : undefined);
        // Rewrite the table in place: acceptors read it when their connection arrives.
        this.conf.l_opts = checked.l;
        if (checked.c !== undefined) this.conf.c_opts = checked.c;
        if (checked.s !== undefined) this.conf.s_opts = checked.s;
        return ['ok'];
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return ['error', code === 'EADDRINUSE' ? 'address_in_use' : e instanceof Error ? e.message : String(e)];
      }
    }
    return ['error', ['unimpl', req]];
  }

  protected override onExit(reason: ExitReason): void {
    if (registry.get(this.name) === this) registry.delete(this.name);
    // The pool ends with its parent (its acceptors and connection processes with it), then
    // the listener stops taking connections; its socket closes when the last one is gone.
    this.pool.exit(isNormalExit(reason) ? 'shutdown' : reason);
    void this.listener.close();
  }
}
