/**
 * A small process runtime in the spirit of Erlang/OTP, enough for quicer's behaviours:
 * every process has a mailbox and handles one message at a time (a handler that returns a
 * promise is awaited before the next message, so callbacks never run re-entrantly), processes
 * can be linked (an abnormal exit propagates, or arrives as an `EXIT` message when trapping
 * exits) and monitored (a `DOWN` message on exit), and a handler that throws ends its process
 * with the thrown value as the exit reason.
 */

/** Why a process ended. `'normal'` and `'shutdown'` are orderly; anything else is a crash. */
export type ExitReason = unknown;

/** `['EXIT', from, reason]`: delivered to a process that traps exits when a linked process ends. */
export type ExitMessage = readonly ['EXIT', Process, ExitReason];
/** `['DOWN', ref, process, reason]`: delivered to a monitoring process. */
export type DownMessage = readonly ['DOWN', number, Process, ExitReason];

/** The error a `call` rejects with. */
export class CallError extends Error {
  override readonly name = 'CallError';
  constructor(
    /** `'timeout'`, `'noproc'` (not alive), or `['exit', reason]` (it ended while the call was pending). */
    readonly reason: 'timeout' | 'noproc' | readonly ['exit', ExitReason],
    message: string,
  ) {
    super(message);
  }
}

/** True for the exit reasons that do not take linked processes down. */
export function isNormalExit(reason: ExitReason): boolean {
  return reason === 'normal' || reason === 'shutdown' || (Array.isArray(reason) && reason[0] === 'shutdown');
}

import { AsyncLocalStorage } from 'node:async_hooks';

/** The process whose handler is running (kept across `await`s inside the handler). */
const currentProcess = new AsyncLocalStorage<Process>();

/** The calling process (Erlang's `self()`), or undefined outside any process. */
export function self(): Process | undefined {
  return currentProcess.getStore();
}

let nextPid = 1;
let nextRef = 1;

/** A unique reference (monitors, calls, timers). */
export function makeRef(): number {
  return nextRef++;
}

/** Messages a process handles before yielding to the event loop (I/O must not starve), unless set per process. */
export const DEFAULT_MESSAGES_PER_TURN = 64;

/** A request to stop, queued behind the messages already in the mailbox (gen_server:stop). */
class StopRequest {
  constructor(readonly reason: ExitReason) {}
}

/**
 * Runs `fn` as process `p`: `self()` returns `p` inside it and across its awaits. For code
 * that belongs to a process but does not run from its mailbox (an `init` callback).
 */
export function runAs<T>(p: Process, fn: () => T): T {
  return currentProcess.run(p, fn);
}

interface PendingCall {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A process (Erlang's pid, for quicer's owners and behaviours): a mailbox handled one message
 * at a time (a handler that returns a promise is awaited before the next message, so handlers
 * never run re-entrantly), links, monitors and calls. A handler that throws ends the process
 * with the thrown value as its exit reason. Subclasses implement `handleMessage`; scripts use
 * `Inbox`, simple owners `FunctionProcess`, behaviours `ConnectionProcess` / `StreamProcess`.
 */
export abstract class Process {
  /** A number unique to this process (for messages and logs). */
  readonly pid = nextPid++;
  /** Set once the process ended. */
  exitReason: ExitReason = undefined;
  /** False once the process ended (its messages are then dropped). */
  alive = true;
  /** Receive linked exits as `['EXIT', from, reason]` messages instead of dying with them. */
  trapExit = false;
  /**
   * Messages handled in one go before the process yields to the event loop (timers and
   * sockets run in between). A fairness knob: lower favours latency of other work.
   */
  messagesPerTurn = DEFAULT_MESSAGES_PER_TURN;
  /** While above 0 the mailbox fills but is not handled (see `hold`). */
  private holds = 0;
  private readonly mailbox: unknown[] = [];
  private head = 0;
  private running = false;
  private scheduled = false;
  private readonly links = new Set<Process>();
  /** Monitors watching this process: ref → watcher. */
  private readonly watchers = new Map<number, Process>();
  private readonly pendingCalls = new Map<number, PendingCall>();
  /** Runtime-level watchers (quicer's NIF monitors): run once when the process ends. */
  private readonly exitHooks = new Set<(reason: ExitReason) => void>();

  /** Handles one message. May return a promise: the next message waits for it. */
  protected abstract handleMessage(msg: unknown): void | Promise<void>;

  /** Called once when the process ends (after the mailbox stopped), with the reason. */
  protected onExit(_reason: ExitReason): void {}

  /** Puts a message in the mailbox (dropped if the process is not alive). */
  send(msg: unknown): void {
    if (!this.alive) return;
    this.mailbox.push(msg);
    this.schedule();
  }

  /** Puts a message at the front of the mailbox: it is handled before everything queued. */
  protected sendFirst(msg: unknown): void {
    if (!this.alive) return;
    if (this.head > 0) this.mailbox[--this.head] = msg;
    else this.mailbox.unshift(msg);
    this.schedule();
  }

  /** Removes and returns the queued messages `pred` accepts (for handoffs that keep order). */
  extractMessages(pred: (m: unknown) => boolean): unknown[] {
    const out: unknown[] = [];
    const kept: unknown[] = [];
    for (let i = this.head; i < this.mailbox.length; i++) {
      const m = this.mailbox[i];
      if (pred(m)) out.push(m);
      else kept.push(m);
    }
    this.mailbox.length = 0;
    this.head = 0;
    for (const m of kept) this.mailbox.push(m);
    return out;
  }

  /**
   * Removes and returns the messages at the front of the mailbox for as long as `pred`
   * accepts them (the first refused one stays, and so does everything after it). Costs only
   * what it takes, unlike `extractMessages`.
   */
  protected takeLeading(pred: (m: unknown) => boolean): unknown[] {
    const out: unknown[] = [];
    while (this.head < this.mailbox.length && pred(this.mailbox[this.head])) {
      out.push(this.mailbox[this.head]);
      this.mailbox[this.head++] = undefined;
    }
    return out;
  }

  /** Messages waiting in the mailbox. */
  get queueLength(): number {
    return this.mailbox.length - this.head;
  }

  /**
   * Holds the mailbox: messages queue up and wait until `release`. Used while a process is
   * still initialising outside its mailbox (gen_server's init runs before any message).
   */
  hold(): void {
    this.holds++;
  }

  /** Ends one `hold`; queued messages are handled once no hold is left. */
  release(): void {
    if (this.holds === 0) return;
    this.holds--;
    if (this.holds === 0 && this.head < this.mailbox.length) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.holds > 0) return;
    this.scheduled = true;
    queueMicrotask(this.drainCallback);
  }

  private readonly drainCallback = (): void => {
    this.scheduled = false;
    void this.drain();
  };

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let handled = 0;
    try {
      while (this.alive && this.holds === 0 && this.head < this.mailbox.length) {
        if (handled++ >= this.messagesPerTurn) {
          // Let timers and sockets run; continue on the next turn.
          setImmediate(() => {
            this.running = false;
            this.schedule();
          });
          return;
        }
        const msg = this.mailbox[this.head];
        this.mailbox[this.head++] = undefined;
        if (this.head > 1024 && this.head * 2 > this.mailbox.length) {
          this.mailbox.splice(0, this.head);
          this.head = 0;
        }
        if (msg instanceof StopRequest) {
          this.exit(msg.reason);
          break;
        }
        try {
          const r = currentProcess.run(this, () => this.handleMessage(msg));
          if (r !== undefined && typeof (r as Promise<void>).then === 'function') await r;
        } catch (e) {
          this.exit(e);
          return;
        }
      }
      this.running = false;
    } catch (e) {
      this.running = false;
      this.exit(e);
    }
  }

  /** Links two processes: when one ends abnormally the other does too (or gets an EXIT message). */
  link(other: Process): void {
    if (other === this) return;
    if (!other.alive) {
      this.exitSignal(other, 'noproc', true);
      return;
    }
    this.links.add(other);
    other.links.add(this);
  }

  /** Removes the link with `other` (both ways); neither learns of the other's exit any more. */
  unlink(other: Process): void {
    this.links.delete(other);
    other.links.delete(this);
  }

  /** Watches `other`: a `['DOWN', ref, other, reason]` message arrives when it ends. Returns the ref. */
  monitor(other: Process): number {
    const ref = makeRef();
    if (!other.alive) this.send(['DOWN', ref, other, 'noproc'] as DownMessage);
    else other.watchers.set(ref, this);
    return ref;
  }

  /** Stops the monitor `ref` on `other`: no `DOWN` message will come for it. */
  demonitor(other: Process, ref: number): void {
    other.watchers.delete(ref);
  }

  /**
   * Runs `hook(reason)` when this process ends (at once if it already has), outside the
   * process's mailbox: what quicer's NIF does when it monitors an owner. Returns a function
   * that removes the hook.
   */
  onExitHook(hook: (reason: ExitReason) => void): () => void {
    if (!this.alive) {
      queueMicrotask(() => hook(this.exitReason));
      return () => {};
    }
    this.exitHooks.add(hook);
    return () => this.exitHooks.delete(hook);
  }

  /** Ends this process with `reason`: links and monitors are told, pending calls fail. */
  exit(reason: ExitReason = 'normal'): void {
    if (!this.alive) return;
    this.alive = false;
    this.exitReason = reason;
    this.mailbox.length = 0;
    this.head = 0;
    try {
      this.onExit(reason);
    } catch {
      // A failing terminate does not change the exit reason (as in OTP).
    }
    for (const [, p] of this.pendingCalls) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new CallError(['exit', reason], `process ${this.pid} exited: ${describeReason(reason)}`));
    }
    this.pendingCalls.clear();
    const links = [...this.links];
    this.links.clear();
    for (const l of links) {
      l.links.delete(this);
      l.exitSignal(this, reason, true);
    }
    for (const [ref, w] of this.watchers) w.send(['DOWN', ref, this, reason] as DownMessage);
    this.watchers.clear();
    const hooks = [...this.exitHooks];
    this.exitHooks.clear();
    for (const h of hooks) {
      try {
        h(reason);
      } catch {
        // A failing hook must not stop the others.
      }
    }
  }

  /**
   * An exit signal from `from` (Erlang's exit/2, and what a linked process sends when it
   * ends): a trapping process gets `['EXIT', from, reason]`, any other one ends unless the
   * reason is normal. `'kill'` sent directly (`linked` false) cannot be trapped and ends the
   * process with `'killed'`; coming through a link it is an ordinary reason, as in Erlang.
   */
  exitSignal(from: Process, reason: ExitReason, linked = false): void {
    if (!this.alive) return;
    if (reason === 'kill' && !linked) {
      this.exit('killed');
      return;
    }
    if (this.trapExit) this.send(['EXIT', from, reason] as ExitMessage);
    else if (!isNormalExit(reason)) this.exit(reason);
  }

  /**
   * Stops the process in order (gen_server:stop): the messages already queued are handled
   * first, then it ends with `reason` (its `onExit`/terminate runs). Resolves once it ended;
   * rejects with CallError `'noproc'` if it was not alive, `'timeout'` after `timeoutMs`.
   */
  stop(reason: ExitReason = 'normal', timeoutMs = Infinity): Promise<void> {
    if (!this.alive) return Promise.reject(new CallError('noproc', `process ${this.pid} is not alive`));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const remove = this.onExitHook(() => {
        if (timer) clearTimeout(timer);
        resolve();
      });
      if (timeoutMs !== Infinity) {
        timer = setTimeout(() => {
          remove();
          reject(new CallError('timeout', `stop of process ${this.pid} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.mailbox.push(new StopRequest(reason));
      this.schedule();
    });
  }

  /** @internal Registers a pending call; the message carries `ref`. */
  protected registerCall(ref: number, pending: PendingCall): void {
    this.pendingCalls.set(ref, pending);
  }

  /** @internal Answers the call `ref` (no effect if it already timed out). */
  reply(ref: number, value: unknown): void {
    const p = this.pendingCalls.get(ref);
    if (p === undefined) return;
    this.pendingCalls.delete(ref);
    if (p.timer) clearTimeout(p.timer);
    p.resolve(value);
  }

  /** @internal */
  protected forgetCall(ref: number): void {
    this.pendingCalls.delete(ref);
  }

  /**
   * Sends `request` as a call and waits for the reply. Rejects with CallError `'timeout'`
   * after `timeoutMs` (Infinity: never), `'noproc'` if the process is not alive, or
   * `['exit', reason]` if it ends first.
   */
  call(request: unknown, timeoutMs = 5000): Promise<unknown> {
    if (!this.alive) return Promise.reject(new CallError('noproc', `process ${this.pid} is not alive`));
    const ref = makeRef();
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === Infinity
          ? undefined
          : setTimeout(() => {
              this.forgetCall(ref);
              reject(new CallError('timeout', `call to process ${this.pid} timed out after ${timeoutMs} ms`));
            }, timeoutMs);
      this.registerCall(ref, { resolve, reject, timer });
      this.send(['$call', ref, request] as const);
    });
  }
}

/** A readable form of an exit reason for messages. */
export function describeReason(reason: ExitReason): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  if (typeof reason === 'string') return reason;
  try {
    return JSON.stringify(reason, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(reason);
  }
}

/** A process whose handler is a plain function: handy for owners in tests and simple apps. */
export class FunctionProcess extends Process {
  constructor(private readonly handler: (msg: unknown, self: FunctionProcess) => void | Promise<void>) {
    super();
  }
  protected handleMessage(msg: unknown): void | Promise<void> {
    return this.handler(msg, this);
  }
}

/**
 * A process that just collects its messages (a test or script's "self"): `receive(match)`
 * resolves with the first message (already queued or arriving later) that `match` accepts.
 */
export class Inbox extends Process {
  private readonly stash: unknown[] = [];
  private readonly waiting: Array<{ match: (m: unknown) => boolean; resolve: (m: unknown) => void; timer: NodeJS.Timeout | undefined }> = [];

  protected handleMessage(msg: unknown): void {
    const i = this.waiting.findIndex((w) => w.match(msg));
    if (i >= 0) {
      const w = this.waiting.splice(i, 1)[0]!;
      if (w.timer) clearTimeout(w.timer);
      w.resolve(msg);
    } else this.stash.push(msg);
  }

  /** The first message accepted by `match`; rejects with 'timeout' after `timeoutMs`. */
  receive<T = unknown>(match: (m: unknown) => boolean = () => true, timeoutMs = 5000): Promise<T> {
    const i = this.stash.findIndex(match);
    if (i >= 0) return Promise.resolve(this.stash.splice(i, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const entry = {
        match,
        resolve: resolve as (m: unknown) => void,
        timer:
          timeoutMs === Infinity
            ? undefined
            : setTimeout(() => {
                const k = this.waiting.indexOf(entry);
                if (k >= 0) this.waiting.splice(k, 1);
                reject(new CallError('timeout', `no matching message within ${timeoutMs} ms`));
              }, timeoutMs),
      };
      this.waiting.push(entry);
    });
  }

  /** Messages received and not yet taken by `receive`. */
  get pending(): readonly unknown[] {
    return this.stash;
  }

  /** Received messages not yet taken count as queued: a stream handoff takes them too, oldest first. */
  override extractMessages(pred: (m: unknown) => boolean): unknown[] {
    const out: unknown[] = [];
    for (let i = 0; i < this.stash.length; ) {
      if (pred(this.stash[i])) out.push(this.stash.splice(i, 1)[0]);
      else i++;
    }
    for (const m of super.extractMessages(pred)) out.push(m);
    return out;
  }
}

/**
 * The owner for a new handle: `owner` if given, else the calling process (`self()`), else a
 * fresh `Inbox` (outside any process).
 * @internal Not part of the quicer namespace.
 */
export function ownerOf(owner: Process | undefined): Process {
  return owner ?? self() ?? new Inbox();
}

/**
 * Resolves after `ms` (a timer that does not keep Node running).
 * @internal Not part of the quicer namespace.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}
