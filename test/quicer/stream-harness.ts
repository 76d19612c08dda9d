/**
 * Shared pieces of the quicer stream tests: a connected client/server pair over UDP loopback
 * (each connection owned by an Inbox that collects its messages), message matchers, and a
 * recording stream callback module.
 */
import { selfSignedCertificate, type IssuedCertificate } from '../../src/tls/certificate-authority.js';
import * as quicer from '../../src/quicer/quicer.js';
import { Inbox } from '../../src/quicer/process.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import type { QuicListener } from '../../src/quicer/listener.js';
import type { QuicStrm, RecvDataProps } from '../../src/quicer/stream-handle.js';
import type { StreamCallbacks } from '../../src/quicer/stream.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

let id: Promise<IssuedCertificate> | undefined;
function identity(): Promise<IssuedCertificate> {
  id ??= selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
  return id;
}

/** A connected pair: both handles, the inboxes that own them, and a cleanup. */
export interface Pair {
  listener: QuicListener;
  client: QuicConn;
  server: QuicConn;
  clientOwner: Inbox;
  serverOwner: Inbox;
  close(): Promise<void>;
}

const ALPN = ['stream-test'];

/**
 * Listens on an ephemeral loopback port, connects, and completes the handshake. The server
 * lets the client open 10 streams of each kind unless `server` says otherwise.
 */
export async function connectedPair(o: { server?: Record<string, unknown>; client?: Record<string, unknown> } = {}): Promise<Pair> {
  const me = await identity();
  const r = await quicer.listen('127.0.0.1:0', {
    alpn: ALPN,
    cert: me.certificatePem,
    key: me.privateKeyPem,
    peer_bidi_stream_count: 10,
    peer_unidi_stream_count: 10,
    ...o.server,
  });
  if (r[0] !== 'ok') throw new Error(`listen failed: ${String(r[1])}`);
  const listener = r[1];
  const serverOwner = new Inbox();
  const clientOwner = new Inbox();
  const accepted = quicer.accept(listener, 5000, serverOwner);
  const connecting = quicer.connect('127.0.0.1', listener.address().port, { alpn: ALPN, verify: 'none', ...o.client }, 5000, { owner: clientOwner });
  const a = await accepted;
  if (a[0] !== 'ok') throw new Error('accept failed');
  const h = await quicer.handshake(a[1]);
  if (h[0] !== 'ok') throw new Error('handshake failed');
  const c = await connecting;
  if (c[0] !== 'ok') throw new Error(`connect failed: ${String(c[1])}`);
  const client = c[1] as QuicConn;
  return {
    listener,
    client,
    server: a[1],
    clientOwner,
    serverOwner,
    async close() {
      await quicer.shutdownConnection(client, 0, 0, 2000);
      await listener.shutdown();
    },
  };
}

type QuicMsg = [string, unknown, unknown, unknown];

/** The next `['quic', event, handle, props]` message (of `handle` when given). */
export function event(inbox: Inbox, ev: string, handle?: unknown, timeoutMs = 3000): Promise<QuicMsg> {
  return inbox.receive<QuicMsg>((m) => Array.isArray(m) && m[0] === 'quic' && m[1] === ev && (handle === undefined || m[2] === handle), timeoutMs);
}

/** The next data message `['quic', Bin, S, Props]` of `stream`. */
export async function data(inbox: Inbox, stream: QuicStrm, timeoutMs = 3000): Promise<[Uint8Array, RecvDataProps]> {
  const m = await inbox.receive<QuicMsg>((x) => Array.isArray(x) && x[0] === 'quic' && x[1] instanceof Uint8Array && x[2] === stream, timeoutMs);
  return [m[1] as Uint8Array, m[3] as RecvDataProps];
}

/** Data messages of `stream` until one carries the FIN; the bytes joined. */
export async function dataUntilFin(inbox: Inbox, stream: QuicStrm, timeoutMs = 3000): Promise<{ all: string; chunks: Array<[Uint8Array, RecvDataProps]> }> {
  const chunks: Array<[Uint8Array, RecvDataProps]> = [];
  for (;;) {
    const c = await data(inbox, stream, timeoutMs);
    chunks.push(c);
    if (c[1].flags & 2) break;
  }
  return { all: chunks.map((c) => text(c[0])).join(''), chunks };
}

/** Messages of `inbox` about `handle` that have arrived and not been taken (their event names, data as 'data'). */
export function pendingEvents(inbox: Inbox, handle: unknown): string[] {
  return inbox.pending
    .filter((m): m is QuicMsg => Array.isArray(m) && m[0] === 'quic' && m[2] === handle)
    .map((m) => (m[1] instanceof Uint8Array ? 'data' : String(m[1])));
}

/** A record of a stream callback: its name and arguments, state left out. */
export type StreamRec = [string, ...unknown[]];

/**
 * A stream callback module that reports `[name, ...args]` for every callback to `inbox` and
 * keeps going; `overrides` replace single callbacks (after the report). States are passed
 * through; `newStream` starts the state as `{}`.
 */
export function streamRecorder<S = unknown>(inbox: Inbox, overrides: Partial<StreamCallbacks<S>> = {}): StreamCallbacks<S> {
  const names = [
    'postHandoff',
    'startCompleted',
    'sendComplete',
    'peerSendShutdown',
    'peerSendAborted',
    'peerReceiveAborted',
    'sendShutdownComplete',
    'streamClosed',
    'peerAccepted',
    'passive',
    'handleStreamData',
  ] as const;
  const cbs: Record<string, unknown> = {};
  for (const name of names) {
    const over = (overrides as Record<string, ((...a: unknown[]) => unknown) | undefined>)[name];
    cbs[name] = (...args: unknown[]) => {
      const state = args[args.length - 1];
      inbox.send([name, ...args.slice(0, -1), state]);
      if (over) return over(...args);
      return ['ok', state];
    };
  }
  cbs.newStream = (stream: unknown, props: unknown, conn: unknown) => {
    inbox.send(['newStream', stream, props, conn]);
    return overrides.newStream ? overrides.newStream(stream as never, props as never, conn as never) : ['ok', {}];
  };
  for (const name of ['init', 'initHandoff', 'handleCall', 'handleCast', 'handleInfo', 'handleContinue', 'terminate'] as const) {
    if (overrides[name]) cbs[name] = overrides[name];
  }
  if (!overrides.handleInfo) {
    cbs.handleInfo = (info: unknown, s: unknown) => {
      inbox.send(['handleInfo', info]);
      return ['ok', s];
    };
  }
  return cbs as StreamCallbacks<S>;
}

/** The next record `[name, ...]` from a streamRecorder. */
export function rec(inbox: Inbox, name: string, timeoutMs = 3000, pred: (r: StreamRec) => boolean = () => true): Promise<StreamRec> {
  return inbox.receive<StreamRec>((m) => Array.isArray(m) && m[0] === name && pred(m as StreamRec), timeoutMs);
}
