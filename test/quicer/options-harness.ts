/**
 * Test support for the options tests: a test PKI written to PEM files, a quicer server that
 * continues every handshake and echoes streams, clients owned by inboxes, and two UDP
 * observers — a relay that forwards and records every datagram (direction, time, size), and a
 * black hole that records what reaches it and answers nothing.
 */
import { afterAll, afterEach } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificate, createTestPki, type IssuedCertificate, type TestPki } from '../../src/tls/certificate-authority.js';
import * as quicer from '../../src/quicer/quicer.js';
import { FunctionProcess, Inbox, type Process } from '../../src/quicer/process.js';
import type { QuicListener } from '../../src/quicer/listener.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import type { QuicStrm } from '../../src/quicer/stream-handle.js';

/** PEM files of a root → intermediate → leaf PKI, a client certificate, and an unrelated CA. */
export interface PkiFiles {
  dir: string;
  pki: TestPki;
  /** Leaf + intermediate (server chain). */
  certfile: string;
  keyfile: string;
  /** The root. */
  cacertfile: string;
  /** A client certificate issued by the same intermediate, its key, and that key encrypted with `password`. */
  clientCertfile: string;
  clientKeyfile: string;
  clientEncryptedKeyfile: string;
  password: string;
  client: IssuedCertificate;
  /** A root that issued nothing here (for "untrusted"). */
  otherCacertfile: string;
}

let pkiFiles: Promise<PkiFiles> | undefined;

/** The test PKI (made once per test file). */
export function testPki(): Promise<PkiFiles> {
  pkiFiles ??= (async () => {
    const now = Date.now();
    const pki = await createTestPki({ now, hosts: ['localhost', '127.0.0.1'] });
    const client = await createCertificate({ now, commonName: 'quicer test client', issuer: pki.intermediate, extendedKeyUsage: ['clientAuth'] });
    const other = await createCertificate({ now, commonName: 'unrelated root', isCA: true });
    const dir = mkdtempSync(join(tmpdir(), 'purequic-options-'));
    const password = 'correct horse';
    const files = {
      certfile: join(dir, 'server-chain.pem'),
      keyfile: join(dir, 'server-key.pem'),
      cacertfile: join(dir, 'ca.pem'),
      clientCertfile: join(dir, 'client-chain.pem'),
      clientKeyfile: join(dir, 'client-key.pem'),
      clientEncryptedKeyfile: join(dir, 'client-key-encrypted.pem'),
      otherCacertfile: join(dir, 'other-ca.pem'),
    };
    writeFileSync(files.certfile, pki.leaf.certificatePem + pki.intermediate.certificatePem);
    writeFileSync(files.keyfile, pki.leaf.privateKeyPem);
    writeFileSync(files.cacertfile, pki.root.certificatePem);
    writeFileSync(files.clientCertfile, client.certificatePem + pki.intermediate.certificatePem);
    writeFileSync(files.clientKeyfile, client.privateKeyPem);
    const encrypted = createPrivateKey(client.privateKeyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password });
    writeFileSync(files.clientEncryptedKeyfile, encrypted);
    writeFileSync(files.otherCacertfile, other.certificatePem);
    return { dir, pki, client, password, ...files };
  })();
  return pkiFiles;
}

/** Removes the PKI files. */
export async function removePki(): Promise<void> {
  if (pkiFiles === undefined) return;
  const p = await pkiFiles;
  pkiFiles = undefined;
  rmSync(p.dir, { recursive: true, force: true });
}

/** A quicer server for tests: every connection is handshaken; streams are echoed (active). With `acceptor: false` it has no acceptor of its own. */
export interface TestServer {
  listener: QuicListener;
  port: number;
  /** Every message the server side received (new_conn, connected, stream data, …), in order. */
  events: Inbox;
  /** Server connections, in arrival order. */
  conns: QuicConn[];
  close(): Promise<void>;
}

/** Starts a listener on 127.0.0.1 with the PKI's server certificate and `lopts` over it. */
export async function startServer(
  lopts: Record<string, unknown> = {},
  o: { echo?: boolean; onNewConn?: (conn: QuicConn) => void; acceptor?: boolean } = {},
): Promise<TestServer> {
  const files = await testPki();
  const r = await quicer.listen('127.0.0.1:0', { alpn: ['opt-test'], certfile: files.certfile, keyfile: files.keyfile, peer_bidi_stream_count: 10, ...lopts });
  if (r[0] !== 'ok') throw new Error(`listen failed: ${String(r[1])}`);
  const listener = r[1] as QuicListener;
  const events = new Inbox();
  const conns: QuicConn[] = [];
  const echo = o.echo ?? true;
  const acceptor: Process = new FunctionProcess((msg) => {
    events.send(msg);
    if (!Array.isArray(msg) || msg[0] !== 'quic') return;
    if (msg[1] === 'new_conn') {
      const conn = msg[2] as QuicConn;
      conns.push(conn);
      listener.addAcceptor(acceptor);
      if (o.onNewConn) o.onNewConn(conn);
      else quicer.asyncHandshake(conn);
    } else if (msg[1] === 'new_stream' && echo) {
      quicer.setopt(msg[2] as QuicStrm, 'active', true);
    } else if (msg[1] instanceof Uint8Array && echo) {
      const props = msg[3] as { flags: number };
      quicer.asyncSend(msg[2] as QuicStrm, msg[1], props.flags & 2 ? 4 : 0);
    }
  });
  if (o.acceptor ?? true) listener.addAcceptor(acceptor);
  return {
    listener,
    port: listener.address().port,
    events,
    conns,
    async close() {
      acceptor.exit('normal');
      await listener.shutdown();
      events.exit('normal');
    },
  };
}

/** Waits for `['quic', event, …]` in an inbox. */
export function quicEvent(inbox: Inbox, event: string, timeoutMs = 5000): Promise<unknown[]> {
  return inbox.receive<unknown[]>((m) => Array.isArray(m) && m[0] === 'quic' && m[1] === event, timeoutMs);
}

/** A client connected to 127.0.0.1:`port` with `opts` (verify none and the test ALPN unless given), owned by an inbox. */
export async function connectClient(port: number, opts: Record<string, unknown> = {}, timeoutMs = 5000): Promise<{ conn: QuicConn; events: Inbox }> {
  const events = new Inbox();
  const r = await quicer.connect('127.0.0.1', port, { alpn: ['opt-test'], verify: 'none', ...opts }, timeoutMs, { owner: events });
  if (r[0] !== 'ok') throw new Error(`connect failed: ${JSON.stringify(r.slice(1))}`);
  return { conn: r[1] as QuicConn, events };
}

/** Closes a client connection (without waiting out its closing period) and its inbox. */
export async function closeClient(c: { conn: QuicConn; events: Inbox }): Promise<void> {
  quicer.asyncShutdownConnection(c.conn, 0, 0);
  c.events.exit('normal');
}

/** A recorded datagram. */
export interface RelayedDatagram {
  /** c2s: client to server; s2c: server to client. */
  dir: 'c2s' | 's2c';
  /** ms since the relay started. */
  t: number;
  size: number;
  /** First byte (long header bit 0x80; packet type in bits 4–5 for QUIC v1). */
  first: number;
}

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  s.on('error', () => {});
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  try {
    // Room for a window of 64 KB loopback datagrams, as the endpoints have.
    s.setRecvBufferSize(4 << 20);
    s.setSendBufferSize(4 << 20);
  } catch {
    // The OS may cap it.
  }
  return s;
}

/**
 * A UDP relay between one client and a server on 127.0.0.1: the client sends to `port`; the
 * relay forwards both ways and records every datagram. `drop` (optional) discards datagrams
 * it returns true for (still recorded, with `dropped`).
 */
export class UdpRelay {
  readonly log: Array<RelayedDatagram & { dropped: boolean }> = [];
  drop: ((d: RelayedDatagram) => boolean) | undefined;
  /** Forwarding delay (ms) per direction: a longer path. */
  delay: { c2s: number; s2c: number } = { c2s: 0, s2c: 0 };
  private client: { address: string; port: number } | undefined;
  private readonly start = performance.now();

  private constructor(
    private readonly inside: Socket,
    private readonly outside: Socket,
    private readonly serverPort: number,
  ) {
    inside.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      if (this.record('c2s', msg)) this.later(this.delay.c2s, () => this.outside.send(msg, this.serverPort, '127.0.0.1'));
    });
    outside.on('message', (msg) => {
      const to = this.client;
      if (to !== undefined && this.record('s2c', msg)) this.later(this.delay.s2c, () => this.inside.send(msg, to.port, to.address));
    });
  }

  static async create(serverPort: number): Promise<UdpRelay> {
    return new UdpRelay(await bound(), await bound(), serverPort);
  }

  /** Where the client sends. */
  get port(): number {
    return this.inside.address().port;
  }

  private closed = false;
  private later(ms: number, f: () => void): void {
    const run = (): void => {
      if (!this.closed) f();
    };
    if (ms > 0) setTimeout(run, ms);
    else run();
  }

  /** ms since the relay started. */
  now(): number {
    return performance.now() - this.start;
  }

  private record(dir: 'c2s' | 's2c', msg: Buffer): boolean {
    const d: RelayedDatagram = { dir, t: this.now(), size: msg.length, first: msg[0] ?? 0 };
    const dropped = this.drop?.(d) ?? false;
    this.log.push({ ...d, dropped });
    return !dropped;
  }

  /** Datagrams of one direction recorded in [from, to) ms. */
  count(dir: 'c2s' | 's2c', from = 0, to = Infinity): number {
    return this.log.filter((d) => d.dir === dir && d.t >= from && d.t < to).length;
  }

  /** Datagrams of one direction recorded in [from, to) ms, with their sizes summed. */
  bytes(dir: 'c2s' | 's2c', from = 0, to = Infinity): number {
    return this.log.filter((d) => d.dir === dir && d.t >= from && d.t < to).reduce((n, d) => n + d.size, 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    await new Promise<void>((r) => this.inside.close(() => r()));
    await new Promise<void>((r) => this.outside.close(() => r()));
  }
}

/** A UDP socket that records the arrival time (ms since it opened) and size of every datagram and answers nothing. */
export class BlackHole {
  readonly arrivals: Array<{ t: number; size: number }> = [];
  private readonly start = performance.now();
  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg) => this.arrivals.push({ t: performance.now() - this.start, size: msg.length }));
  }

  static async create(): Promise<BlackHole> {
    return new BlackHole(await bound());
  }

  get port(): number {
    return this.socket.address().port;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.socket.close(() => r()));
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Servers, clients and relays for the tests of one file, each closed after the test that
 * started it (and the PKI files after the file). Call once at the top of a test file.
 */
export function perTest(): {
  cleanup: Array<() => Promise<void>>;
  server: (lopts?: Record<string, unknown>, o?: Parameters<typeof startServer>[1]) => Promise<TestServer>;
  client: (port: number, opts?: Record<string, unknown>) => Promise<{ conn: QuicConn; events: Inbox }>;
  relayTo: (port: number) => Promise<UdpRelay>;
} {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  afterAll(removePki);
  const later = <T>(v: T, close: (v: T) => Promise<void>): T => {
    cleanup.push(() => close(v));
    return v;
  };
  return {
    cleanup,
    server: async (lopts = {}, o = {}) => later(await startServer(lopts, o), (s) => s.close()),
    client: async (port, opts = {}) => later(await connectClient(port, opts), closeClient),
    relayTo: async (port) => later(await UdpRelay.create(port), (r) => r.close()),
  };
}
