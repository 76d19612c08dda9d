/**
 * The `quicer_connection` behaviour: a process that owns one QUIC connection and hands its
 * events to a callback module, one at a time. Clients start with `QuicConnection.startLink`;
 * servers run a pool of acceptors (`QuicConnection.startAcceptor`, usually through a
 * listener). Callback names are quicer's in camelCase; props keep quicer's keys
 * (QUICER.md §2a); every callback returns a `cb_ret()` (QUICER.md §2b, ./gen-server.ts).
 */
import type { QuicConn } from './conn-handle.js';
import { CallbackProcess, type CbRet, type GenServerCallbacks, type InitRet, type MaybeAsync } from './gen-server.js';
import type { TransportShutdownProps } from './status.js';
import type { QuicStrm } from './stream-handle.js';
import { Process, runAs, self } from './process.js';
import { asyncConnect, type ConnectOptions } from './quicer.js';
import type { QuicListener } from './listener.js';
import type { Registration } from './registration.js';
import { checkStreamSendArgs, streamSendCall, type StreamCallbacks, type StreamSendResult } from './stream.js';

export { reply, type CallFrom, type InitRet } from './gen-server.js';

/** `new_conn` props (QUICER.md §2a): what the server knows of a client once its ClientHello was accepted. */
export interface NewConnProps {
  /** QUIC version (1 for QUIC v1). */
  version: number;
  /** The listener's address, "IP:Port". */
  local_addr: string;
  /** The client's address, "IP:Port". */
  remote_addr: string;
  /** The SNI the client sent (none for a client that connected to an IP literal). */
  server_name: string | undefined;
  /** The negotiated application protocol. */
  alpns: string | undefined;
  /** Every protocol the client offered, in its order. */
  client_alpns: readonly string[];
  /** The ClientHello message as received. */
  crypto_buffer: Uint8Array;
}

/** `connected` props: whether the session was resumed, and the negotiated protocol. */
export interface ConnectedProps {
  /** The session was resumed with a ticket (`nst`). */
  is_resumed: boolean;
  /** The negotiated application protocol (a string; quicer gives a binary). */
  alpns: string | undefined;
}

/** `closed` props (MsQuic's SHUTDOWN_COMPLETE). */
export interface ClosedProps {
  /** The handshake had completed before the connection closed. */
  is_handshake_completed: boolean;
  /** The peer acknowledged our CONNECTION_CLOSE (it answered with its own). */
  is_peer_acked: boolean;
  /** Our application closed it (purequic delivers `closed` in that case too, QUICER.md §4). */
  is_app_closing: boolean;
}

/** `new_stream` props. */
export interface NewStreamProps {
  /** Bit 1: unidirectional; bit 2: 0-RTT. */
  flags: number;
  /** No stream acceptor was queued: the connection owner got it, passive. */
  is_orphan: boolean;
}

/** The `streams_available` message's map (the `streamsAvailable` callback receives `[bidi, unidi]`). */
export interface StreamsAvailableProps {
  /** Bidirectional streams this side may still open (at most 65535). */
  bidi_streams: number;
  /** Unidirectional streams this side may still open (at most 65535). */
  unidi_streams: number;
}

/** `dgram_state_changed` props: whether datagrams may be sent, and the largest that fits now. */
export interface DgramStateProps {
  /** The peer accepts DATAGRAM frames (it sent `max_datagram_frame_size`). */
  dgram_send_enabled: boolean;
  /** The largest datagram payload that fits in a packet now (0 when not enabled). */
  dgram_max_len: number;
}

/**
 * A `quicer_connection` callback module. Only `init` is required; a callback left out keeps
 * the state as it is (quicer would crash on some of them; purequic does not). Every callback
 * runs in the connection process, one at a time (an async callback is awaited before the
 * next message), and returns a `cb_ret()` (see `CbRet`).
 */
export interface ConnectionCallbacks<S = unknown> extends GenServerCallbacks<S> {
  /**
   * quicer `init/1`. Client: runs after the connect started, before any event, with
   * `connOpts` plus `stream_opts` and `conn`. Server acceptor: runs when the first connection
   * arrives, with the listener's c_opts plus `stream_opts` (its s_opts) as they are then.
   */
  init(opts: Record<string, unknown>): MaybeAsync<InitRet<S>>;
  /** quicer `new_conn/3` (server): a client's ClientHello was accepted; call `asyncHandshake(conn)` to continue. `['error', R, S]` rejects the connection. */
  newConn?(conn: QuicConn, props: NewConnProps, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `connected/3`: the handshake completed. */
  connected?(conn: QuicConn, props: ConnectedProps, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `transport_shutdown/3`: the connection is ending for a transport reason (`{status, error}`, QUICER.md §0.4). */
  transportShutdown?(conn: QuicConn, props: TransportShutdownProps, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `shutdown/3`: the peer closed with this application error code. */
  shutdown?(conn: QuicConn, errorCode: bigint, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `closed/3`: the connection is gone; fires exactly once. The process is not stopped (return `['stop', 'normal', S]` to end it). */
  closed?(conn: QuicConn, props: ClosedProps, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `local_address_changed/3`: this client moved to a new local address ("IP:Port"), e.g. `setopt(conn, 'local_address', …)`. */
  localAddressChanged?(conn: QuicConn, address: string, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `peer_address_changed/3`: the peer's address changed (migration or NAT rebinding) and was validated ("IP:Port"). */
  peerAddressChanged?(conn: QuicConn, address: string, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `new_stream/3`: a peer stream for which no stream acceptor was queued, owned by this process and passive. */
  newStream?(stream: QuicStrm, props: NewStreamProps, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `streams_available/3`: how many more streams this side may open now, as `[bidi, unidi]` (capped at 65535). */
  streamsAvailable?(conn: QuicConn, available: readonly [bidi: number, unidi: number], state: S): MaybeAsync<CbRet<S>>;
  /** quicer `peer_needs_streams/3`: the peer is blocked by the stream limit we gave it (it sent STREAMS_BLOCKED). */
  peerNeedsStreams?(conn: QuicConn, direction: 'bidi_streams' | 'unidi_streams', state: S): MaybeAsync<CbRet<S>>;
  /** quicer `resumed/3` (server): the client resumed a session; `data` is what the ticket carried, or false. */
  resumed?(conn: QuicConn, data: Uint8Array | false, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `nst_received/3` (client, with `quic_event_mask` bit 1): a resumption ticket to pass as `nst` later. */
  nstReceived?(conn: QuicConn, ticket: Uint8Array, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `peer_cert_received/3` (with `custom_verify`): `[leaf, chain]`; answer with `completeCertValidation`. */
  peerCertReceived?(conn: QuicConn, certs: readonly [Uint8Array, readonly Uint8Array[]], state: S): MaybeAsync<CbRet<S>>;
  /** quicer `dgram_recv/4`: a datagram arrived (`flags` 1 when it came in 0-RTT). */
  dgramRecv?(conn: QuicConn, data: Uint8Array, flags: number, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `dgram_state_changed/3`: after the handshake, and whenever the largest datagram that fits changes. */
  dgramStateChanged?(conn: QuicConn, props: DgramStateProps, state: S): MaybeAsync<CbRet<S>>;
}

/** Events quicer dispatches even when their handle is not (yet) the state's `conn`. */
const ANY_HANDLE_EVENTS = new Set(['new_conn', 'connection_resumed', 'nst_received', 'dgram_state_changed']);

/** The connection behaviour process (gen_server-like). */
export class ConnectionProcess<S = unknown> extends CallbackProcess<S | undefined> {
  /** The connection this process owns (undefined for an acceptor still waiting). */
  conn: QuicConn | undefined;
  /** Set once `init` ran (server acceptors initialise lazily on `new_conn`). */
  initialized = false;
  /** For an acceptor: what to do on new_conn (deferred init), set by the acceptor machinery. */
  onNewConn: ((conn: QuicConn, props: NewConnProps) => MaybeAsync<void>) | undefined;

  declare readonly callbacks: ConnectionCallbacks<S>;

  constructor(callbacks: ConnectionCallbacks<S>) {
    super(undefined, callbacks as GenServerCallbacks<S | undefined>);
    this.trapExit = true; // as quicer_connection does
  }

  /**
   * Runs `init` as this process (no message is handled until it returned) and takes its
   * result as the state; returns an error term when init declined or failed (the process
   * has then ended with that reason).
   */
  async runInit(opts: Record<string, unknown>): Promise<readonly ['ok'] | readonly ['error', unknown]> {
    this.hold();
    try {
      return await this.applyInit(opts);
    } finally {
      this.release();
    }
  }

  private async applyInit(opts: Record<string, unknown>): Promise<readonly ['ok'] | readonly ['error', unknown]> {
    let r: InitRet<S>;
    try {
      r = await runAs(this, () => this.callbacks.init(opts));
    } catch (e) {
      this.exit(e);
      return ['error', e];
    }
    this.initialized = true;
    const taken = this.takeInitResult(r as InitRet<S | undefined>);
    if (taken[0] === 'error') this.exit(taken[1] === 'ignore' ? 'normal' : taken[1]);
    return taken;
  }

  protected override dispatchCall(request: unknown, ref: number): MaybeAsync<CbRet<S | undefined>> {
    const s = this.state;
    if (request === 'get_cb_state') return ['reply', s, s];
    if (request === 'get_handle') return ['reply', this.conn, s];
    if (Array.isArray(request) && request[0] === 'merge_cb_state' && request.length === 2) {
      const m = request[1];
      if (m === null || typeof m !== 'object' || s === null || typeof s !== 'object' || Array.isArray(m)) return ['reply', ['error', 'unsupported_type'], s];
      const merged = { ...(s as object), ...(m as object) } as S;
      return ['reply', merged, merged];
    }
    if (Array.isArray(request) && request[0] === 'stream_send' && request.length === 5) {
      const [, cbs, data, flags, opts] = request as [string, StreamCallbacks<unknown>, Uint8Array, number, Record<string, unknown>];
      return streamSendCall(this, this.conn, cbs, data, flags, opts).then((r) => ['reply', r, this.state] as const);
    }
    return super.dispatchCall(request, ref);
  }

  protected dispatch(msg: unknown): MaybeAsync<CbRet<S | undefined> | undefined> {
    const cbs = this.callbacks;
    const s = this.state as S;
    if (Array.isArray(msg)) {
      if (msg[0] === 'quic' && msg.length === 4) {
        const [, ev, h, props] = msg as [string, unknown, unknown, unknown];
        if (typeof ev === 'string') {
          if (ev === 'new_conn') return this.newConn(h as QuicConn, props as NewConnProps);
          const isStream = (h as { kind?: string } | undefined)?.kind === 'stream';
          const matches = isStream ? this.conn !== undefined : h === this.conn;
          if (matches || ANY_HANDLE_EVENTS.has(ev)) {
            const r = this.connectionEvent(ev, h, props, s);
            if (r !== null) return r;
          }
        } else if (ev instanceof Uint8Array && h === this.conn && cbs.dgramRecv) {
          return cbs.dgramRecv.call(cbs, h as QuicConn, ev, props as number, s) as CbRet<S | undefined>;
        }
      }
    }
    return this.dispatchInfo(msg);
  }

  /** A connection event for its callback; null when there is no callback for it (then handleInfo). */
  private connectionEvent(ev: string, h: unknown, props: unknown, s: S): MaybeAsync<CbRet<S | undefined> | undefined> | null {
    const cbs = this.callbacks as unknown as Record<string, ((...a: unknown[]) => MaybeAsync<CbRet<S | undefined>>) | undefined>;
    const name = CALLBACK_OF_EVENT[ev];
    if (name === undefined) return null;
    const cb = cbs[name];
    if (cb === undefined) return undefined;
    if (ev === 'streams_available') {
      // quicer_connection hands the callback a {Bidi, Unidi} tuple, not the event's map.
      const p = props as StreamsAvailableProps;
      return cb.call(this.callbacks, h, [p.bidi_streams, p.unidi_streams] as const, s);
    }
    return cb.call(this.callbacks, h, props, s);
  }

  private async newConn(conn: QuicConn, props: NewConnProps): Promise<CbRet<S | undefined> | undefined> {
    if (this.onNewConn !== undefined) {
      const hook = this.onNewConn;
      this.onNewConn = undefined;
      await hook(conn, props);
      if (!this.alive) return undefined;
    }
    this.conn = conn;
    const cb = this.callbacks.newConn;
    if (cb === undefined) return undefined;
    const r = await cb.call(this.callbacks, conn, props, this.state as S);
    // purequic: `['error', reason, S]` from new_conn rejects the connection (QUICER.md §4).
    if (Array.isArray(r) && r[0] === 'error' && r.length === 3) {
      conn.shutdown(0, 0);
      this.state = r[2] as S;
      this.onCallbackError(r[1]);
      return undefined;
    }
    return r as CbRet<S | undefined>;
  }

}

/** quicer event name → callback name. */
const CALLBACK_OF_EVENT: Record<string, string> = {
  connected: 'connected',
  transport_shutdown: 'transportShutdown',
  shutdown: 'shutdown',
  closed: 'closed',
  local_address_changed: 'localAddressChanged',
  peer_address_changed: 'peerAddressChanged',
  new_stream: 'newStream',
  streams_available: 'streamsAvailable',
  peer_needs_streams: 'peerNeedsStreams',
  connection_resumed: 'resumed',
  nst_received: 'nstReceived',
  peer_cert_received: 'peerCertReceived',
  dgram_state_changed: 'dgramStateChanged',
};

// ---------------------------------------------------------------------------------------------
// Starting connection processes


/** purequic's extra arguments of `startLink` / `startAcceptor`. */
export interface StartOptions {
  /** Link the new process to this one (Erlang start_link: the caller). */
  link?: Process;
  /** The registration whose sockets a client connection uses (default: the global one). */
  registration?: Registration;
}

/**
 * A table of listener configuration shared by a listener's acceptors (quicer's ets conf table):
 * `l_opts`, `c_opts` (with `conn_callback`), `s_opts`. A reload replaces the entries; acceptors
 * read them when a connection arrives, so only later connections see new options.
 */
export interface ConfTable {
  /** The listener options (with `conn_acceptors`). */
  l_opts: Record<string, unknown>;
  /** What the acceptors' `init` gets, with `conn_callback`, the callback module. */
  c_opts: Record<string, unknown>;
  /** Stream options, handed to `init` as `stream_opts`. */
  s_opts: Record<string, unknown>;
}

/** Something that can start one more acceptor (the acceptor supervisor). */
export interface AcceptorSupervisor {
  /** Starts one more acceptor on the listener. */
  startChild(): void;
}

/**
 * `quicer_connection`'s functions: `startLink` (client), `startAcceptor` (server), `getHandle`,
 * `streamSend`, and the built-in calls `get_cb_state` / `merge_cb_state`.
 */
export const QuicConnection = {
  /**
   * quicer_connection:start_link/3 (client): starts a connection process that owns a new connection
   * to `[host, port]` (`asyncConnect` with `connOpts`), then runs `init(connOpts + {stream_opts,
   * conn})` in it before any event is handled. Resolves `['ok', process]` once `init` returned (the
   * handshake completes later: `connected`); `['error', reason]` when no socket could be bound or
   * `init` declined (`['stop', R]`: R; `'ignore'`). The process is linked to `o.link` or the
   * caller; stopping it closes the connection with application error 0. Bad options throw a
   * TypeError / RangeError before anything is sent.
   */
  async startLink<S>(
    callbacks: ConnectionCallbacks<S>,
    [host, port]: readonly [string, number],
    [connOpts, streamOpts]: readonly [Record<string, unknown>, Record<string, unknown>?],
    o: StartOptions = {},
  ): Promise<readonly ['ok', ConnectionProcess<S>] | readonly ['error', unknown]> {
    if (callbacks === null || typeof callbacks !== 'object' || typeof callbacks.init !== 'function') {
      throw new TypeError(`startLink: the callback module must be an object with an init function, got ${typeof callbacks}`);
    }
    const proc = new ConnectionProcess<S>(callbacks);
    // Events wait in the mailbox until init returned (gen_server handles no message before).
    proc.hold();
    const co: ConnectOptions = { owner: proc, ...(o.registration ? { registration: o.registration } : {}) };
    let r: Awaited<ReturnType<typeof asyncConnect>>;
    try {
      r = await asyncConnect(host, port, connOpts, co);
    } catch (e) {
      proc.exit('normal');
      throw e;
    }
    if (r[0] === 'error') {
      proc.exit('normal');
      return r;
    }
    proc.conn = r[1];
    const init = await proc.runInit({ ...connOpts, stream_opts: streamOpts ?? {}, conn: r[1] });
    if (init[0] === 'error') return init;
    const parent = o.link ?? self();
    if (parent !== undefined) proc.setParent(parent);
    proc.release();
    return ['ok', proc];
  },

  /**
   * quicer_connection:start_acceptor/3 (server): a connection process queued on `listener` as an
   * acceptor, with no callback state yet. When a connection reaches it, it asks `sup` for a
   * replacement acceptor, runs `init` with the conf table's `c_opts` plus `stream_opts` (its
   * `s_opts`) as they are then, and calls `newConn`. `['ok', process]`, or `['error',
   * 'missing_conn_callback']` when `c_opts` has no `conn_callback`. `QuicListenerServer` does this
   * for its pool.
   */
  startAcceptor<S>(listener: QuicListener, conf: ConfTable, sup: AcceptorSupervisor, o: StartOptions = {}): readonly ['ok', ConnectionProcess<S>] | readonly ['error', 'missing_conn_callback'] {
    const cb = conf.c_opts.conn_callback as ConnectionCallbacks<S> | undefined;
    if (cb === undefined || cb === null || typeof cb.init !== 'function') return ['error', 'missing_conn_callback'];
    const proc = new ConnectionProcess<S>(cb);
    if (o.link) proc.setParent(o.link);
    proc.onNewConn = async (conn) => {
      proc.conn = conn;
      sup.startChild();
      await proc.runInit({ ...conf.c_opts, stream_opts: conf.s_opts });
    };
    listener.addAcceptor(proc);
    return ['ok', proc];
  },

  /**
   * quicer_connection:get_handle/1: the connection this process owns, or undefined for an acceptor
   * that has no connection yet (a call into the process).
   */
  async getHandle(proc: ConnectionProcess<unknown>, timeoutMs = Infinity): Promise<QuicConn | undefined> {
    return (await proc.call('get_handle', timeoutMs)) as QuicConn | undefined;
  },

  /** quicer_connection:get_cb_state/1: the process's callback state (a call into the process). */
  getCbState(proc: ConnectionProcess<unknown>, timeoutMs = 5000): Promise<unknown> {
    return proc.call('get_cb_state', timeoutMs);
  },

  /**
   * quicer_connection:merge_cb_state/2: merges `map` into the callback state (which must be a map)
   * and answers the merged state; `['error', 'unsupported_type']` when either is not a map.
   */
  mergeCbState(proc: ConnectionProcess<unknown>, map: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
    return proc.call(['merge_cb_state', map], timeoutMs);
  },

  /**
   * quicer_connection:stream_send/6: a call into the connection process, which starts a stream
   * process (`streamCallbacks`, see ./stream.ts) linked to it; that process opens a local
   * stream it owns (always, QUICER.md §4) and sends `data` with `sendFlags`. Answers
   * `['ok', bytesQueued]`, `['error', ['start_stream', reason]]`, `['error', ['stream_down',
   * exitReason]]`, or the send's error term. With SendFlag.SYNC the stream process later gets
   * `sendComplete`; `startCompleted` only with stream event mask bit 0x1. Bad arguments throw
   * here; a timeout rejects with CallError `'timeout'`.
   */
  async streamSend<T>(
    proc: ConnectionProcess<unknown>,
    streamCallbacks: StreamCallbacks<T>,
    data: Uint8Array,
    sendFlags: number,
    streamOpts: Record<string, unknown> = {},
    timeoutMs = 5000,
  ): Promise<StreamSendResult> {
    checkStreamSendArgs(streamCallbacks, data, sendFlags, streamOpts);
    return (await proc.call(['stream_send', streamCallbacks, data, sendFlags, streamOpts], timeoutMs)) as StreamSendResult;
  },
};
