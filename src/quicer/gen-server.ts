/**
 * The gen_server-like core shared by quicer's behaviours: calls, casts and other messages
 * dispatched to callbacks one at a time, and the callback return values of quicer's
 * `cb_ret()` applied as quicer_lib:default_cb_ret/2 does — plus the forms quicer lists but
 * crashes on, which purequic supports (QUICER.md §4).
 */
import { Process, describeReason, type ExitReason } from './process.js';

/** What a `handleCall` may do after replying (gen_server's reply action). */
export type ReplyAction = 'hibernate' | number | readonly ['continue', unknown];

/**
 * quicer's `cb_ret()` as tagged tuples:
 * - `['ok', S]` keep going with state S
 * - `['hibernate', S]` same (there is nothing to hibernate in JavaScript)
 * - `[timeoutMs, S]` `handleInfo('timeout', S)` if no message arrives within timeoutMs
 * - `[['continue', C], S]` call `handleContinue(C, S)` before the next message
 * - `['stop', reason, S]` end the process with `reason`
 * - `['reply', R, S]` / `['reply', R, S, action]` answer a call (from `handleCall` only)
 * - `['error', reason, S]` report the error (see `onCallbackError`) and keep the state
 * - `['stop', reason, reply, S]` answer the pending call, then stop
 */
export type CbRet<S> =
  | readonly ['ok', S]
  | readonly ['hibernate', S]
  | readonly [number, S]
  | readonly [readonly ['continue', unknown], S]
  | readonly ['stop', ExitReason, S]
  | readonly ['reply', unknown, S]
  | readonly ['reply', unknown, S, ReplyAction]
  | readonly ['error', unknown, S]
  | readonly ['stop', ExitReason, unknown, S];

/** A `cb_ret()` or a promise of one (async callbacks are awaited; the process stays serial). */
export type MaybeAsync<T> = T | Promise<T>;

/** Who made a call (the `from` of `handleCall`): answer later with `reply(from, value)`. */
export interface CallFrom {
  /** The calling process. */
  readonly process: Process;
  /** The call's reference (what `Process.reply` answers). */
  readonly ref: number;
}

/** Answers a call received in `handleCall` after the callback returned (gen_server:reply/2). */
export function reply(from: CallFrom, value: unknown): void {
  from.process.reply(from.ref, value);
}

/** What `init` may return: `['ok', S]` (optionally with a timeout/continue like gen_server), `['stop', reason]` or `'ignore'`. */
export type InitRet<S> =
  | readonly ['ok', S]
  | readonly ['ok', S, 'hibernate' | number | readonly ['continue', unknown]]
  | readonly ['stop', ExitReason]
  | 'ignore';

/** The gen_server callbacks every quicer behaviour has (each optional). */
export interface GenServerCallbacks<S> {
  /** quicer `handle_call/3`: a call other than the built-ins; reply with `['reply', R, S]` or later with `reply(from, R)`. */
  handleCall?(request: unknown, from: CallFrom, state: S): MaybeAsync<CbRet<S>>;
  /** gen_server `handle_cast/2`. */
  handleCast?(request: unknown, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `handle_info/2`: any other message (`EXIT`s of linked processes, `'timeout'`, messages of handles the process does not own). */
  handleInfo?(info: unknown, state: S): MaybeAsync<CbRet<S>>;
  /** quicer `handle_continue/2`: after a callback returned `[['continue', C], S]` (or `init` a continue). */
  handleContinue?(cont: unknown, state: S): MaybeAsync<CbRet<S>>;
  /**
   * gen_server `terminate/2`: the process is ending with `reason`; what it owns goes with it (a
   * connection is shut down, a stream aborted both ways, with application error 0).
   */
  terminate?(reason: ExitReason, state: S): void;
}

/** The message that runs `handleContinue` for `init`'s `['ok', S, ['continue', C]]` before anything else. */
const INIT_CONTINUE = Symbol('init_continue');

/** Thrown inside a process when a callback returns something that is not a `cb_ret()`. */
export class BadReturnError extends Error {
  override readonly name = 'BadReturnError';
  constructor(
    readonly callback: string,
    readonly value: unknown,
  ) {
    super(`${callback} returned ${describeReason(value)}, which is not a cb_ret()`);
  }
}

const TIMEOUT_MESSAGE = 'timeout';

/** Where `['error', reason, S]` returns are logged (after being kept in `reportedErrors`). */
export type CallbackErrorLogger = (process: Process, reason: unknown) => void;

let errorLogger: CallbackErrorLogger | undefined = (p, reason) => {
  console.error(`purequic: process ${p.pid}: a callback returned an error: ${describeReason(reason)}`);
};

/**
 * Replaces the logger of errors that callbacks report with `['error', reason, S]` (default:
 * one line on stderr); `undefined` silences it. Returns the previous logger.
 */
export function setCallbackErrorLogger(logger: CallbackErrorLogger | undefined): CallbackErrorLogger | undefined {
  const prev = errorLogger;
  errorLogger = logger;
  return prev;
}

/**
 * A process whose messages go to callbacks and whose callbacks return `cb_ret()` values.
 * Calls, casts, continues and `terminate` go to the gen_server callbacks; subclasses route
 * their own messages in `dispatch` (giving the rest to `dispatchInfo`) and may answer
 * built-in calls in `dispatchCall` before `handleCall`.
 */
export abstract class CallbackProcess<S> extends Process {
  /** The callback state: what the last `cb_ret()` carried (`get_cb_state` returns it). */
  state: S;
  private idleTimer: NodeJS.Timeout | undefined;
  /** The call being handled, so `['stop', R, Reply, S]` and `['reply', …]` can answer it. */
  private currentCall: number | undefined;
  /** Errors reported through `['error', reason, S]` returns (most recent last). */
  readonly reportedErrors: unknown[] = [];

  constructor(
    initial: S,
    /** The callback module. */
    readonly callbacks: GenServerCallbacks<S>,
  ) {
    super();
    this.state = initial;
  }

  /** Routes a message other than a call or cast to a callback; returns its `cb_ret()`. */
  protected abstract dispatch(msg: unknown): MaybeAsync<CbRet<S> | undefined>;

  /** `handleCall(request, from, state)`; without one the caller gets `['error', 'not_implemented']`. */
  protected dispatchCall(request: unknown, ref: number): MaybeAsync<CbRet<S>> {
    const cb = this.callbacks.handleCall;
    if (cb === undefined) return ['reply', ['error', 'not_implemented'], this.state];
    return cb.call(this.callbacks, request, { process: this, ref }, this.state);
  }

  /** `handleCast(request, state)`; ignored without one. */
  protected dispatchCast(request: unknown): MaybeAsync<CbRet<S> | undefined> {
    const cb = this.callbacks.handleCast;
    return cb === undefined ? undefined : cb.call(this.callbacks, request, this.state);
  }

  /** `handleContinue(continue, state)`; the state is kept without one. */
  protected dispatchContinue(cont: unknown): MaybeAsync<CbRet<S>> {
    const cb = this.callbacks.handleContinue;
    return cb === undefined ? ['ok', this.state] : cb.call(this.callbacks, cont, this.state);
  }

  /** `handleInfo(msg, state)`; ignored without one. */
  protected dispatchInfo(msg: unknown): MaybeAsync<CbRet<S> | undefined> {
    const cb = this.callbacks.handleInfo;
    return cb === undefined ? undefined : cb.call(this.callbacks, msg, this.state);
  }

  /**
   * Takes `init`'s result: its state, and a timeout or continue as gen_server's init does
   * (the continue runs before any queued message); an error term when init declined
   * (`['stop', R]` → R, `'ignore'`) or returned something else (a TypeError).
   */
  protected takeInitResult(r: InitRet<S>): readonly ['ok'] | readonly ['error', unknown] {
    if (r === 'ignore') return ['error', 'ignore'];
    if (Array.isArray(r) && r[0] === 'ok') {
      this.state = r[1] as S;
      if (r.length === 3) {
        const extra = r[2];
        if (typeof extra === 'number') this.armIdleTimeout(extra);
        else if (Array.isArray(extra) && extra[0] === 'continue') this.sendFirst([INIT_CONTINUE, extra[1]]);
      }
      return ['ok'];
    }
    if (Array.isArray(r) && r[0] === 'stop') return ['error', r[1]];
    return ['error', new TypeError(`init returned ${String(r)}, expected ['ok', State], ['stop', Reason] or 'ignore'`)];
  }

  /** Called for `['error', reason, S]` returns: the error is kept in `reportedErrors` and logged (see `setCallbackErrorLogger`). */
  protected onCallbackError(reason: unknown): void {
    this.reportedErrors.push(reason);
    errorLogger?.(this, reason);
  }

  /** gen_server:cast: queues `request` for `handleCast`; never fails, even when the process is gone. */
  cast(request: unknown): void {
    this.send(['$cast', request]);
  }

  /**
   * The process that started this one linked (gen_server's parent: a `startLink` caller or a
   * supervisor). Its exit ends this process with the same reason even when trapping exits.
   */
  parent: Process | undefined;

  /** Links to `p` and makes it the parent. */
  setParent(p: Process): void {
    this.parent = p;
    this.link(p);
  }

  protected handleMessage(msg: unknown): void | Promise<void> {
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (this.parent !== undefined && Array.isArray(msg) && msg[0] === 'EXIT' && msg[1] === this.parent && msg.length === 3) {
      this.exit(msg[2]);
      return;
    }
    if (Array.isArray(msg) && msg[0] === '$call' && msg.length === 3) {
      const ref = msg[1] as number;
      this.currentCall = ref;
      return this.settle(this.dispatchCall(msg[2], ref), 'handleCall', ref);
    }
    if (Array.isArray(msg) && msg[0] === '$cast' && msg.length === 2) return this.settle(this.dispatchCast(msg[1]), 'handleCast', undefined);
    if (Array.isArray(msg) && msg[0] === INIT_CONTINUE && msg.length === 2) return this.settle(this.dispatchContinue(msg[1]), 'handleContinue', undefined);
    return this.settle(this.dispatch(msg), 'callback', undefined);
  }

  /** Awaits a callback result if needed, then applies it. */
  protected settle(r: MaybeAsync<CbRet<S> | undefined>, name: string, callRef: number | undefined): void | Promise<void> {
    if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') {
      return (r as Promise<CbRet<S> | undefined>).then((v) => this.apply(v, name, callRef));
    }
    return this.apply(r as CbRet<S> | undefined, name, callRef);
  }

  /** Applies one `cb_ret()` (undefined: nothing to do, state unchanged). */
  protected apply(ret: CbRet<S> | undefined, name: string, callRef: number | undefined): void | Promise<void> {
    this.currentCall = undefined;
    if (ret === undefined) return;
    if (!Array.isArray(ret) || ret.length < 2) throw new BadReturnError(name, ret);
    const tag = ret[0];
    if (tag === 'ok' || tag === 'hibernate') {
      this.state = ret[1] as S;
      return;
    }
    if (typeof tag === 'number' && ret.length === 2) {
      this.state = ret[1] as S;
      this.armIdleTimeout(tag);
      return;
    }
    if (Array.isArray(tag) && tag[0] === 'continue' && ret.length === 2) {
      this.state = ret[1] as S;
      return this.settle(this.dispatchContinue(tag[1]), 'handleContinue', undefined);
    }
    if (tag === 'stop' && ret.length === 3) {
      this.state = ret[2] as S;
      this.exit(ret[1]);
      return;
    }
    if (tag === 'stop' && ret.length === 4) {
      this.state = ret[3] as S;
      if (callRef !== undefined) this.reply(callRef, ret[2]);
      this.exit(ret[1]);
      return;
    }
    if (tag === 'reply' && (ret.length === 3 || ret.length === 4)) {
      if (callRef === undefined) throw new BadReturnError(`${name} (a reply outside handleCall)`, ret);
      this.state = ret[2] as S;
      this.reply(callRef, ret[1]);
      if (ret.length === 4) {
        const action = ret[3] as ReplyAction;
        if (typeof action === 'number') this.armIdleTimeout(action);
        else if (Array.isArray(action) && action[0] === 'continue') {
          return this.settle(this.dispatchContinue(action[1]), 'handleContinue', undefined);
        }
      }
      return;
    }
    if (tag === 'error' && ret.length === 3) {
      this.state = ret[2] as S;
      // From handleCall the caller gets the error as the reply instead of waiting for a timeout.
      if (callRef !== undefined) this.reply(callRef, ['error', ret[1]]);
      this.onCallbackError(ret[1]);
      return;
    }
    throw new BadReturnError(name, ret);
  }

  /** gen_server's timeout: `'timeout'` is delivered after `ms` unless a message arrives first. */
  protected armIdleTimeout(ms: number): void {
    if (ms === Infinity || !(ms >= 0)) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      this.send(TIMEOUT_MESSAGE);
    }, ms);
  }

  protected override onExit(reason: ExitReason): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    try {
      this.callbacks.terminate?.(reason, this.state);
    } catch {
      // terminate's own failure does not change the exit reason.
    }
  }

  /** The call currently being handled (for callbacks that reply later through `reply`). */
  get pendingCallRef(): number | undefined {
    return this.currentCall;
  }
}
