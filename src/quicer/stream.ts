/**
 * The `quicer_stream` behaviour: a process that owns one QUIC stream and hands its data and
 * events to a callback module, one at a time. A stream process either starts a local stream
 * (`is_local: true` in its stream options, as `QuicConnection.streamSend` does), waits for
 * the peer's next stream as a stream acceptor, or takes over a stream handed to it
 * (`QuicStream.startLinkHandoff`, quicer's `start_link/5`). Callback names are quicer's in
 * camelCase; every callback returns a `cb_ret()` (./gen-server.ts).
 *
 * Received data goes to `handleStreamData`. quicer_stream reassembles chunks by
 * `absolute_offset` unless `disable_fpbuffer` is set; purequic's transport already delivers
 * a stream's bytes in order, without gaps or duplicates, so what the option changes here is
 * batching: by default the data messages already queued behind one are merged into a single
 * call (`len` summed, flags OR-ed, so a FIN is never lost); with `disable_fpbuffer: true`
 * every data message is its own call, as it arrived.
 */
import type { QuicConn } from './conn-handle.js';
import type { NewStreamProps } from './connection.js';
import { CallbackProcess, type CbRet, type GenServerCallbacks, type InitRet, type MaybeAsync } from './gen-server.js';
import { validateStreamOpts } from './options.js';
import { CallError, runAs, self, type Process } from './process.js';
import { asyncAcceptStream, asyncSend, startStream, type AsyncSendResult } from './quicer-streams.js';
import { SendFlag, StreamOpenFlag, type QuicStrm, type RecvDataProps, type StartCompletedProps, type StreamClosedProps } from './stream-handle.js';

/** The callback state a local stream process starts with (quicer's preset; `init` is not called). */
export interface LocalStreamState {
  /** The connection the stream belongs to. */
  conn: QuicConn;
  /** The process owns the stream. */
  is_owner: true;
  /** The stream was opened by this side. */
  is_local: true;
  /** The stream is unidirectional (`open_flag` 1). */
  is_unidir: boolean;
  /** The stream options it was started with (application keys included). */
  stream_opts: Record<string, unknown>;
}

/** What `newStream` may return: a `cb_ret()`, or `['error', reason]` to stop the process with that reason. */
export type NewStreamRet<S> = CbRet<S> | readonly ['error', unknown];

/**
 * A `quicer_stream` callback module. Every callback is optional; one left out keeps the state
 * as it is, except `streamClosed`, whose absence stops the process normally once the stream
 * is closed (quicer's examples return `['stop', 'normal', S]` there).
 */
export interface StreamCallbacks<S = unknown> extends GenServerCallbacks<S> {
  /**
   * Stream acceptors only (no `is_local`): runs when the process starts, with the stream
   * options plus `conn`. Its state is the state until a stream arrives (`newStream` then
   * returns the next one); `['stop', R]` or `'ignore'` ends the start with an error.
   */
  init?(opts: Record<string, unknown>): MaybeAsync<InitRet<S>>;
  /** quicer `init_handoff/4` (`startLinkHandoff`): prepares the state before the stream is handed over. */
  initHandoff?(stream: QuicStrm, streamOpts: Record<string, unknown>, conn: QuicConn, props: Record<string, unknown>): MaybeAsync<readonly ['ok', S] | readonly ['error', unknown]>;
  /** quicer `new_stream/3`: a peer stream arrived for this acceptor; `props` are the stream options plus `{flags, is_orphan}`. */
  newStream?(stream: QuicStrm, props: Record<string, unknown> & NewStreamProps, conn: QuicConn): MaybeAsync<NewStreamRet<S>>;
  /** quicer `post_handoff/3`: the stream is now this process's, with the data the previous owner passed. */
  postHandoff?(stream: QuicStrm, postInfo: unknown, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `start_completed/3` (stream event mask bit 0x1). */
  startCompleted?(stream: QuicStrm, props: StartCompletedProps, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `send_complete/3`: a send with SendFlag.SYNC (4096) completed (`isCanceled` when aborted first). */
  sendComplete?(stream: QuicStrm, isCanceled: boolean, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `peer_send_shutdown/3`: the peer finished sending (its FIN was delivered). */
  peerSendShutdown?(stream: QuicStrm, props: undefined, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `peer_send_aborted/3`: the peer reset its sending part (RESET_STREAM) with `errorCode`. */
  peerSendAborted?(stream: QuicStrm, errorCode: bigint, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `peer_receive_aborted/3`: the peer asked us to stop sending (STOP_SENDING) with `errorCode`. */
  peerReceiveAborted?(stream: QuicStrm, errorCode: bigint, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `send_shutdown_complete/3`: our sending part is done, acknowledged (`true`) or aborted (`false`). */
  sendShutdownComplete?(stream: QuicStrm, isGraceful: boolean, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `stream_closed/3`: both directions are done. */
  streamClosed?(stream: QuicStrm, props: StreamClosedProps, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `peer_accepted/3`: a stream that waited for the peer's stream credit started (start_flag INDICATE_PEER_ACCEPT). */
  peerAccepted?(conn: QuicConn, stream: QuicStrm, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `passive/3`: a counted active mode ran down to 0; the stream is passive now. */
  passive?(stream: QuicStrm, props: undefined, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `handle_stream_data/4`: received bytes with `{absolute_offset, len, flags}` (flags bit 2: FIN). */
  handleStreamData?(stream: QuicStrm, data: Uint8Array, props: RecvDataProps, state: S): MaybeAsync<CbRet<S>>;
}

/** Stream event → callback taking `(stream, props, state)`. */
const CALLBACK_OF_EVENT: Record<string, keyof StreamCallbacks> = {
  start_completed: 'startCompleted',
  send_complete: 'sendComplete',
  peer_send_shutdown: 'peerSendShutdown',
  peer_send_aborted: 'peerSendAborted',
  peer_receive_aborted: 'peerReceiveAborted',
  send_shutdown_complete: 'sendShutdownComplete',
  stream_closed: 'streamClosed',
  passive: 'passive',
};

type AnyCallback = (...args: unknown[]) => MaybeAsync<CbRet<unknown> | undefined>;

function isDataFor(m: unknown, stream: QuicStrm): m is readonly ['quic', Uint8Array, QuicStrm, RecvDataProps] {
  return Array.isArray(m) && m.length === 4 && m[0] === 'quic' && m[1] instanceof Uint8Array && m[2] === stream;
}

/**
 * The stream behaviour process (gen_server-like, trapping exits as quicer_stream does). It
 * routes `['quic', …]` messages of its stream to the callbacks, answers the built-in call
 * `['send', data, flags]` (quicer_stream:send) itself, and gives everything else to
 * `handleCall` / `handleCast` / `handleInfo`. When it ends, the stream it owns is aborted
 * both ways with error 0 (QUICER.md §0.5), unless it was closed already.
 */
export class StreamProcess<S = unknown> extends CallbackProcess<S | undefined> {
  /** The stream this process owns (undefined for an acceptor still waiting). */
  stream: QuicStrm | undefined;
  /** The process is the stream's owner (a handoff target is not until the handoff arrives). */
  isOwner = false;
  /** Waiting for `['stream_owner_handoff', S, info]` from `prevOwner` (startLinkHandoff). */
  private handoffFrom: { owner: Process; ref: number } | undefined;
  /** Merge contiguous queued data into one `handleStreamData` (quicer's fpbuffer; off with `disable_fpbuffer`). */
  private readonly fpbuffer: boolean;

  declare readonly callbacks: StreamCallbacks<S>;

  constructor(
    callbacks: StreamCallbacks<S>,
    readonly conn: QuicConn,
    readonly streamOpts: Record<string, unknown>,
    readonly isLocal: boolean,
  ) {
    super(undefined, callbacks as GenServerCallbacks<S | undefined>);
    this.trapExit = true;
    this.fpbuffer = !validateStreamOpts(streamOpts).disableFpbuffer;
  }

  protected override dispatchCall(request: unknown, ref: number): MaybeAsync<CbRet<S | undefined>> {
    const s = this.state;
    if (Array.isArray(request) && request[0] === 'send' && request.length === 3) {
      // quicer_stream:send/3: async_send from the stream process, so send_complete comes here.
      const stream = this.stream;
      const r: AsyncSendResult | readonly ['error', 'badarg'] = stream === undefined ? ['error', 'badarg'] : asyncSend(stream, request[1] as Uint8Array, request[2] as number, this);
      return ['reply', r, s];
    }
    return super.dispatchCall(request, ref);
  }

  protected dispatch(msg: unknown): MaybeAsync<CbRet<S | undefined> | undefined> {
    if (Array.isArray(msg)) {
      if (msg[0] === 'stream_owner_handoff' && msg.length === 3 && this.handoffFrom !== undefined && msg[1] === this.stream) {
        return this.handoffArrived(msg[2]);
      }
      if (msg[0] === 'DOWN' && this.handoffFrom !== undefined && msg[1] === this.handoffFrom.ref) {
        // The previous owner died before handing the stream over (quicer: owner_down).
        return ['stop', 'owner_down', this.state];
      }
      if (msg[0] === 'quic' && msg.length === 4) {
        const r = this.streamMessage(msg as unknown as readonly ['quic', unknown, unknown, unknown]);
        if (r !== null) return r;
      }
    }
    return this.dispatchInfo(msg);
  }

  /** A `['quic', …]` message; null when it is not about this process's stream (then handleInfo). */
  private streamMessage(msg: readonly ['quic', unknown, unknown, unknown]): MaybeAsync<CbRet<S | undefined> | undefined> | null {
    const [, ev, h, props] = msg;
    const cbs = this.callbacks;
    if (this.stream === undefined && !this.isLocal) {
      // A stream acceptor: the connection closed, or a peer stream arrived.
      if (ev === 'closed' && h === undefined) return ['stop', 'normal', this.state];
      if (ev === 'new_stream') return this.newStream(h as QuicStrm, props as NewStreamProps);
      return null;
    }
    if (h !== this.stream || this.stream === undefined) return null;
    const stream = this.stream;
    if (ev instanceof Uint8Array) {
      if (cbs.handleStreamData === undefined) return undefined;
      let data = ev;
      let p = props as RecvDataProps;
      if (this.fpbuffer) [data, p] = this.mergeQueuedData(data, p);
      return cbs.handleStreamData.call(cbs, stream, data, p, this.state as S) as MaybeAsync<CbRet<S | undefined>>;
    }
    if (ev === 'peer_accepted') {
      return cbs.peerAccepted ? (cbs.peerAccepted.call(cbs, this.conn, stream, this.state as S) as MaybeAsync<CbRet<S | undefined>>) : undefined;
    }
    if (typeof ev !== 'string') return null;
    const name = CALLBACK_OF_EVENT[ev];
    if (name === undefined) return null;
    const cb = (cbs as Record<string, unknown>)[name] as AnyCallback | undefined;
    if (cb === undefined) return ev === 'stream_closed' ? ['stop', 'normal', this.state] : undefined;
    return cb.call(cbs, stream, props, this.state) as MaybeAsync<CbRet<S | undefined>>;
  }

  /**
   * quicer's fpbuffer: the data messages for this stream queued right behind this one (none
   * of another kind in between) are contiguous; they are taken now and delivered as one
   * chunk, `len` summed and flags OR-ed. purequic's handle always delivers in order without
   * gaps, so this only merges; with `disable_fpbuffer: true` every message is its own call.
   */
  private mergeQueuedData(data: Uint8Array, props: RecvDataProps): [Uint8Array, RecvDataProps] {
    const stream = this.stream!;
    let end = props.absolute_offset + props.len;
    const more = this.takeLeading((m) => {
      if (!isDataFor(m, stream) || m[3].absolute_offset !== end) return false;
      end += m[3].len;
      return true;
    }) as Array<readonly ['quic', Uint8Array, QuicStrm, RecvDataProps]>;
    if (more.length === 0) return [data, props];
    const out = new Uint8Array(end - props.absolute_offset);
    out.set(data, 0);
    let flags = props.flags;
    let o = data.length;
    for (const m of more) {
      out.set(m[1], o);
      o += m[1].length;
      flags |= m[3].flags;
    }
    return [out, { absolute_offset: props.absolute_offset, len: out.length, flags }];
  }

  private async newStream(stream: QuicStrm, props: NewStreamProps): Promise<CbRet<S | undefined> | undefined> {
    this.stream = stream;
    this.isOwner = true;
    const cb = this.callbacks.newStream;
    if (cb === undefined) return undefined;
    const r = await cb.call(this.callbacks, stream, { ...this.streamOpts, ...props }, this.conn);
    if (Array.isArray(r) && r[0] === 'error' && r.length === 2) return ['stop', r[1], this.state];
    return r as CbRet<S | undefined>;
  }

  private handoffArrived(postInfo: unknown): MaybeAsync<CbRet<S | undefined> | undefined> {
    const from = this.handoffFrom!;
    this.demonitor(from.owner, from.ref);
    this.handoffFrom = undefined;
    this.isOwner = true;
    const cb = this.callbacks.postHandoff;
    if (cb === undefined) return undefined;
    return cb.call(this.callbacks, this.stream!, postInfo, this.state as S) as MaybeAsync<CbRet<S | undefined>>;
  }

  /**
   * @internal Takes `init`'s result: the state, and a timeout or continue as gen_server's
   * init does; an error term when init declined.
   */
  applyInit(r: InitRet<S>): readonly ['ok'] | readonly ['error', unknown] {
    return this.takeInitResult(r as InitRet<S | undefined>);
  }

  /** @internal Waits for the stream from `owner` (startLinkHandoff). */
  expectHandoff(owner: Process): void {
    this.handoffFrom = { owner, ref: this.monitor(owner) };
  }

}

/** Options for starting a stream process. */
export interface StreamStartOptions {
  /** The parent to link to (default: the calling process, if any). Its exit ends the stream process. */
  link?: Process;
}

/** What `QuicStream.streamSend` (and quicer_connection's `stream_send`) answers (QUICER.md §3d). */
export type StreamSendResult =
  | readonly ['ok', number]
  | readonly ['error', readonly ['start_stream', unknown]]
  | readonly ['error', readonly ['stream_down', unknown]]
  | readonly ['error', 'badarg' | 'closed']
  | readonly ['error', 'stm_send_error', string];

function checkCallbacks(callbacks: unknown, where: string): void {
  if (callbacks === null || typeof callbacks !== 'object') {
    throw new TypeError(`${where}: the stream callback module must be an object of callbacks, got ${callbacks === null ? 'null' : typeof callbacks}`);
  }
}

function isLocalOpt(streamOpts: Record<string, unknown>): boolean {
  const v = streamOpts.is_local;
  if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`stream_opts.is_local: ${String(v)} is not allowed; expected true or false`);
  return v === true;
}


/** quicer_stream's API: start_link/3 (local stream or acceptor), start_link/5 (handoff), send/2,3. */
export const QuicStream = {
  /**
   * quicer_stream:start_link/3. With `is_local: true` in `streamOpts` the new process starts a
   * local stream on `conn` that it owns (`startStream`; `init` is not called; the state is
   * preset to `{conn, is_owner, is_local, is_unidir, stream_opts}`); without it the process
   * becomes a stream acceptor (`asyncAcceptStream`, after `init` if given) and `newStream`
   * runs when the peer's next stream arrives (a connection closing first stops it normally).
   * Resolves `['ok', process]`, or `['error', reason]` when the stream could not be started:
   * `'closed'`, `['stm_start_error', status]`, `['stm_open_error', status]`, or what `init`
   * declined with. Bad options throw a TypeError / RangeError naming the key.
   */
  async startLink<S>(
    callbacks: StreamCallbacks<S>,
    conn: QuicConn,
    streamOpts: Record<string, unknown> = {},
    o: StreamStartOptions = {},
  ): Promise<readonly ['ok', StreamProcess<S>] | readonly ['error', unknown]> {
    checkCallbacks(callbacks, 'QuicStream.startLink');
    const so = validateStreamOpts(streamOpts);
    const local = isLocalOpt(streamOpts);
    const proc = new StreamProcess<S>(callbacks, conn, streamOpts, local);
    // Nothing is handled before the start is complete (gen_server's init).
    proc.hold();
    if (local) {
      const r = runAs(proc, () => startStream(conn, streamOpts, proc));
      if (r[0] === 'error') {
        proc.exit('normal');
        return ['error', r.length === 3 ? ([r[1], r[2]] as const) : r[1]];
      }
      proc.stream = r[1];
      proc.isOwner = true;
      const preset: LocalStreamState = {
        conn,
        is_owner: true,
        is_local: true,
        is_unidir: (so.openFlag & StreamOpenFlag.UNIDIRECTIONAL) !== 0,
        stream_opts: streamOpts,
      };
      proc.state = preset as unknown as S;
    } else {
      if (callbacks.init !== undefined) {
        let ir: InitRet<S>;
        try {
          ir = await runAs(proc, () => callbacks.init!({ ...streamOpts, conn }));
        } catch (e) {
          proc.exit(e);
          return ['error', e];
        }
        const applied = proc.applyInit(ir);
        if (applied[0] === 'error') {
          proc.exit('normal');
          return applied;
        }
      }
      const r = asyncAcceptStream(conn, streamOpts, proc);
      if (r[0] === 'error') {
        proc.exit('normal');
        return r;
      }
    }
    const parent = o.link ?? self();
    if (parent !== undefined) proc.setParent(parent);
    proc.release();
    return ['ok', proc];
  },

  /**
   * quicer_stream:start_link/5: a process to take over `stream` from its current owner.
   * `initHandoff(stream, streamOpts, conn, props)` prepares the state; the current owner then
   * calls `handoffStream(stream, process, postInfo)`, and `postHandoff(stream, postInfo, S)`
   * runs before any of the stream's data or events. If the current owner dies before handing
   * over, the process stops with `'owner_down'`.
   */
  async startLinkHandoff<S>(
    callbacks: StreamCallbacks<S>,
    stream: QuicStrm,
    conn: QuicConn,
    streamOpts: Record<string, unknown> = {},
    props: Record<string, unknown> = {},
    o: StreamStartOptions = {},
  ): Promise<readonly ['ok', StreamProcess<S>] | readonly ['error', unknown]> {
    checkCallbacks(callbacks, 'QuicStream.startLinkHandoff');
    validateStreamOpts(streamOpts);
    const proc = new StreamProcess<S>(callbacks, conn, streamOpts, stream.local);
    proc.hold();
    if (callbacks.initHandoff !== undefined) {
      let r: readonly ['ok', S] | readonly ['error', unknown];
      try {
        r = await runAs(proc, () => callbacks.initHandoff!(stream, streamOpts, conn, props));
      } catch (e) {
        proc.exit(e);
        return ['error', e];
      }
      if (!Array.isArray(r) || r[0] !== 'ok') {
        proc.exit('normal');
        return ['error', Array.isArray(r) ? r[1] : r];
      }
      proc.state = r[1];
    }
    proc.stream = stream;
    proc.expectHandoff(stream.owner);
    const parent = o.link ?? self();
    if (parent !== undefined) proc.setParent(parent);
    proc.release();
    return ['ok', proc];
  },

  /**
   * quicer_stream:send/2,3: a call into the stream process, which queues `data` with
   * `asyncSend` (default flags: SYNC, so the process later gets `sendComplete`). Resolves
   * with asyncSend's terms, `['error', 'badarg']` for an acceptor without a stream yet;
   * rejects with a CallError if the process is gone or ends first (gen_server:call's exit).
   */
  async send(proc: StreamProcess<unknown>, data: Uint8Array, flags: number = SendFlag.SYNC, timeoutMs = Infinity): Promise<AsyncSendResult | readonly ['error', 'badarg']> {
    if (!(data instanceof Uint8Array)) throw new TypeError(`QuicStream.send: data must be a Uint8Array, got ${data === null ? 'null' : typeof data}`);
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff) throw new RangeError(`QuicStream.send: flags ${flags} is not allowed; expected an integer combination of QUIC_SEND_FLAG_* bits and SYNC 0x1000`);
    return (await proc.call(['send', data, flags], timeoutMs)) as AsyncSendResult | readonly ['error', 'badarg'];
  },
};

/**
 * The connection process's side of `stream_send` (QUICER.md §3d, with §4: the stream is
 * always local): starts a stream process linked to `connProc` that opens a local stream on
 * `conn` and owns it, then sends `data` through it.
 */
export async function streamSendCall(
  connProc: Process,
  conn: QuicConn | undefined,
  callbacks: StreamCallbacks<unknown>,
  data: Uint8Array,
  sendFlags: number,
  streamOpts: Record<string, unknown>,
): Promise<StreamSendResult> {
  if (conn === undefined) return ['error', ['start_stream', 'badarg']];
  let started: Awaited<ReturnType<typeof QuicStream.startLink<unknown>>>;
  try {
    started = await QuicStream.startLink(callbacks, conn, { ...streamOpts, is_local: true }, { link: connProc });
  } catch (e) {
    return ['error', ['start_stream', e]];
  }
  if (started[0] === 'error') return ['error', ['start_stream', started[1]]];
  const proc = started[1];
  try {
    return await QuicStream.send(proc, data, sendFlags);
  } catch (e) {
    // The stream process ended before answering: its exit reason says why.
    return ['error', ['stream_down', !proc.alive ? proc.exitReason : e instanceof CallError && Array.isArray(e.reason) ? e.reason[1] : e]];
  }
}

/** Validates `stream_send` arguments in the caller (bad ones throw there, not in the connection process). */
export function checkStreamSendArgs(callbacks: unknown, data: unknown, sendFlags: unknown, streamOpts: unknown): void {
  checkCallbacks(callbacks, 'streamSend');
  if (!(data instanceof Uint8Array)) throw new TypeError(`streamSend: data must be a Uint8Array, got ${data === null ? 'null' : typeof data}`);
  if (typeof sendFlags !== 'number' || !Number.isInteger(sendFlags) || sendFlags < 0 || sendFlags > 0xffff) {
    throw new RangeError(`streamSend: sendFlags ${String(sendFlags)} is not allowed; expected an integer combination of QUIC_SEND_FLAG_* bits and SYNC 0x1000`);
  }
  validateStreamOpts(streamOpts);
  isLocalOpt(streamOpts as Record<string, unknown>);
}
