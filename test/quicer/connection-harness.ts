/**
 * Shared pieces of the quicer connection tests: a certificate, a recording callback module
 * (every callback reports `[name, ...args]` to an inbox and keeps going), listener servers
 * with acceptor pools, client connection processes, and a UDP relay that can count, drop
 * or re-map datagrams. Everything runs over real UDP on loopback.
 */
import { createSocket, type Socket } from 'node:dgram';
import { selfSignedCertificate, type IssuedCertificate } from '../../src/tls/certificate-authority.js';
import { QuicConnection, type ConnectionCallbacks, type ConnectionProcess } from '../../src/quicer/connection.js';
import { QuicListenerServer } from '../../src/quicer/listener-server.js';
import { Inbox, type Process } from '../../src/quicer/process.js';
import { asyncHandshake } from '../../src/quicer/quicer-connections.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let id: Promise<IssuedCertificate> | undefined;
/** A self-signed certificate for localhost / 127.0.0.1 (one per test file). */
export function identity(): Promise<IssuedCertificate> {
  id ??= selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
  return id;
}

/** State of the recording callback module. */
export interface RecState {
  inbox: Inbox;
  [k: string]: unknown;
}

/** A recorded callback: its name and arguments (the state left out). */
export type Rec = [string, ...unknown[]];

const CALLBACKS = [
  'newConn',
  'connected',
  'transportShutdown',
  'shutdown',
  'closed',
  'localAddressChanged',
  'peerAddressChanged',
  'newStream',
  'streamsAvailable',
  'peerNeedsStreams',
  'resumed',
  'nstReceived',
  'peerCertReceived',
  'dgramStateChanged',
] as const;

/**
 * A callback module that sends `[callbackName, ...args]` to the inbox given as the `inbox`
 * conn_opts key and returns `['ok', S]`; `newConn` continues the handshake. `overrides`
 * replace single callbacks (they still get recorded first).
 */
export function recorder(overrides: Partial<ConnectionCallbacks<RecState>> = {}): ConnectionCallbacks<RecState> {
  const cbs: Record<string, unknown> = {
    init: (opts: Record<string, unknown>) => {
      const inbox = opts.inbox as Inbox;
      inbox.send(['init', opts]);
      return overrides.init ? overrides.init(opts) : ['ok', { inbox }];
    },
  };
  for (const name of CALLBACKS) {
    const over = (overrides as Record<string, ((...a: unknown[]) => unknown) | undefined>)[name];
    cbs[name] = (a: unknown, b: unknown, s: RecState) => {
      s.inbox.send([name, a, b]);
      if (over) return over(a, b, s);
      if (name === 'newConn') asyncHandshake(a as never);
      return ['ok', s];
    };
  }
  cbs.dgramRecv = (conn: unknown, data: unknown, flags: unknown, s: RecState) => {
    s.inbox.send(['dgramRecv', conn, data, flags]);
    return overrides.dgramRecv ? overrides.dgramRecv(conn as never, data as never, flags as never, s) : ['ok', s];
  };
  for (const name of ['handleCall', 'handleCast', 'handleInfo', 'handleContinue', 'terminate'] as const) {
    if (overrides[name]) cbs[name] = overrides[name];
  }
  if (!overrides.handleInfo) {
    cbs.handleInfo = (info: unknown, s: RecState) => {
      s.inbox.send(['handleInfo', info]);
      return ['ok', s];
    };
  }
  return cbs as unknown as ConnectionCallbacks<RecState>;
}

/** The next recorded callback called `name` (and matching `pred`). */
export function next(inbox: Inbox, name: string, pred: (r: Rec) => boolean = () => true, timeoutMs = 4000): Promise<Rec> {
  return inbox.receive<Rec>((m) => Array.isArray(m) && m[0] === name && pred(m as Rec), timeoutMs);
}

/** The names of the recorded callbacks not yet taken, in order. */
export function names(inbox: Inbox): string[] {
  return inbox.pending.filter((m): m is Rec => Array.isArray(m) && typeof m[0] === 'string').map((m) => m[0]);
}

/** Things to undo after each test, last first. */
export const cleanups: Array<() => unknown> = [];
export async function cleanup(): Promise<void> {
  for (const f of cleanups.splice(0).reverse()) {
    try {
      await f();
    } catch {
      // best effort
    }
  }
}

let listenerNo = 0;

export interface ServerSetup {
  /** The callback module of the acceptors (default: a recorder). */
  cb?: ConnectionCallbacks<RecState>;
  lOpts?: Record<string, unknown>;
  cOpts?: Record<string, unknown>;
  sOpts?: Record<string, unknown>;
  acceptors?: number;
}

/** A listener server on 127.0.0.1 with an acceptor pool; its acceptors record into `inbox`. */
export async function startServer(setup: ServerSetup = {}): Promise<{ server: QuicListenerServer; port: number; inbox: Inbox }> {
  const me = await identity();
  const inbox = new Inbox();
  const lOpts = { alpn: ['quicer-test'], cert: me.certificatePem, key: me.privateKeyPem, conn_acceptors: setup.acceptors ?? 2, peer_bidi_stream_count: 8, ...setup.lOpts };
  const cOpts = { conn_callback: setup.cb ?? recorder(), inbox, ...setup.cOpts };
  const r = await QuicListenerServer.startLink(`test-listener-${++listenerNo}`, '127.0.0.1:0', [lOpts, cOpts, setup.sOpts ?? {}]);
  if (r[0] !== 'ok') throw new Error(`listener did not start: ${String(r[1])}`);
  const server = r[1];
  cleanups.push(async () => {
    await QuicListenerServer.stop(server);
    await server.listener.shutdown();
  });
  return { server, port: server.listener.address().port, inbox };
}

/** A client connection process (a recorder unless `cb` is given) to 127.0.0.1:port. */
export async function startClient(
  port: number,
  connOpts: Record<string, unknown> = {},
  cb: ConnectionCallbacks<RecState> = recorder(),
  streamOpts: Record<string, unknown> = {},
  link?: Process,
): Promise<{ proc: ConnectionProcess<RecState>; inbox: Inbox }> {
  const inbox = (connOpts.inbox as Inbox | undefined) ?? new Inbox();
  const r = await QuicConnection.startLink(cb, ['127.0.0.1', port], [{ alpn: ['quicer-test'], verify: 'none', inbox, ...connOpts }, streamOpts], link ? { link } : {});
  if (r[0] !== 'ok') throw new Error(`client did not start: ${String(r[1])}`);
  const proc = r[1];
  cleanups.push(() => proc.exit('shutdown'));
  return { proc, inbox };
}

async function boundSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  s.on('error', () => {});
  return s;
}

/**
 * A UDP relay between one client and a server: the client sends to `port`; datagrams reach
 * the server from an "outside" socket that `rebind` replaces (a NAT losing its mapping).
 * Counts datagrams each way; `dropToServer` blackholes the client's.
 */
export class UdpRelay {
  toServer = 0;
  toClient = 0;
  dropToServer = false;
  /** performance.now() of the last datagram relayed either way. */
  private lastActivity = performance.now();
  private client: { address: string; port: number } | undefined;
  private constructor(
    private readonly inside: Socket,
    private outside: Socket,
    private readonly serverPort: number,
  ) {
    inside.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      if (this.dropToServer) return;
      this.toServer++;
      this.lastActivity = performance.now();
      this.outside.send(msg, this.serverPort, '127.0.0.1');
    });
    this.listen(outside);
  }

  static async create(serverPort: number): Promise<UdpRelay> {
    const r = new UdpRelay(await boundSocket(), await boundSocket(), serverPort);
    cleanups.push(() => r.close());
    return r;
  }

  /** Where the client sends. */
  get port(): number {
    return this.inside.address().port;
  }

  /** The client's address as the server sees it. */
  get outsidePort(): number {
    return this.outside.address().port;
  }

  /** Later datagrams reach the server from a new port; the old mapping is gone. */
  async rebind(): Promise<void> {
    const old = this.outside;
    this.outside = await boundSocket();
    this.listen(this.outside);
    old.close();
  }

  private listen(s: Socket): void {
    s.on('message', (msg) => {
      if (s !== this.outside || this.client === undefined) return;
      this.toClient++;
      this.lastActivity = performance.now();
      this.inside.send(msg, this.client.port, this.client.address);
    });
  }

  /**
   * Resolves once no datagram crossed for `quietMs` (acknowledgments, path MTU probes and
   * their answers have settled), or after `maxMs` at the latest.
   */
  async quiet(quietMs = 50, maxMs = 3000): Promise<void> {
    const end = performance.now() + maxMs;
    while (performance.now() < end && performance.now() - this.lastActivity < quietMs) await sleep(10);
  }

  async close(): Promise<void> {
    for (const s of [this.inside, this.outside]) await new Promise<void>((r) => s.close(() => r())).catch(() => undefined);
  }
}
