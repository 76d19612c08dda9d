/**
 * Two sans-IO QUIC connections (purequic client and server) joined by the simulated network,
 * with a server node that accepts the client's first Initial the way the UDP endpoint does.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Connection } from '../../src/transport/connection.js';
import type { ClientConnectionConfig, ServerAcceptInfo, ServerConnectionConfig, TransportSettings } from '../../src/transport/connection-config.js';
import type { ConnectionIdSource } from '../../src/transport/connection-id.js';
import type { ConnectionEvent, PathAddress } from '../../src/transport/events.js';
import { HeaderStatus, PacketHeader, PacketType, parsePacketHeader } from '../../src/transport/packet.js';
import { selfSignedCertificate, type IssuedCertificate } from '../../src/tls/certificate-authority.js';
import { createTicketSealer } from '../../src/tls/session.js';
import { defaultCrypto } from '../../src/crypto/index.js';
import { SimNetwork, type LinkOptions, type SimAddress, type SimNode } from './sim-network.js';

export const NOW0 = 1_760_000_000_000;

/** Random 8-byte connection IDs with HMAC-derived stateless reset tokens. */
export class TestCidSource implements ConnectionIdSource {
  readonly length = 8;
  private readonly key = randomBytes(32);
  generate(): Uint8Array {
    return new Uint8Array(randomBytes(8));
  }
  resetToken(cid: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac('sha256', this.key).update(cid).digest().subarray(0, 16));
  }
}

let identity: Promise<IssuedCertificate> | undefined;
/** A self-signed ECDSA certificate for localhost, made once per test file. */
export function testIdentity(): Promise<IssuedCertificate> {
  identity ??= selfSignedCertificate({ hosts: ['localhost', '127.0.0.1', '::1'], now: NOW0 - 1000 });
  return identity;
}

export interface PairOptions {
  transport?: Partial<TransportSettings>;
  clientTransport?: Partial<TransportSettings>;
  serverTransport?: Partial<TransportSettings>;
  client?: Partial<Omit<ClientConnectionConfig, 'tls'>> & { tls?: Partial<ClientConnectionConfig['tls']> };
  server?: Partial<Omit<ServerConnectionConfig, 'tls'>> & { tls?: Partial<ServerConnectionConfig['tls']> };
  link?: LinkOptions;
  links?: [LinkOptions, LinkOptions];
  seed?: number;
  alpn?: string[];
  /** Simulated start time (default NOW0), e.g. later than a first pair whose session is resumed. */
  start?: number;
  /** Extra fields of the server's accept info (e.g. holdHandshake). */
  serverAccept?: Partial<ServerAcceptInfo>;
}

/** Accepts the first Initial like an endpoint, then forwards datagrams to the connection. */
export class ServerNode implements SimNode {
  conn: Connection | undefined;
  private readonly header = new PacketHeader();
  constructor(
    private readonly config: ServerConnectionConfig,
    private readonly cids: ConnectionIdSource,
    private readonly acceptExtra: Partial<ServerAcceptInfo> = {},
  ) {}
  receive(datagram: Uint8Array, from: SimAddress, now: number): void {
    if (this.conn === undefined) {
      const st = parsePacketHeader(datagram, 0, this.cids.length, this.header);
      if (st !== HeaderStatus.Ok || this.header.type !== PacketType.Initial || datagram.length < 1200) return;
      const dcid = this.header.dcid.slice();
      this.conn = Connection.accept(
        this.config,
        { originalDcid: dcid, initialDcid: dcid, addressValidated: false, localCid: this.cids.generate(), version: this.header.version, ...this.acceptExtra },
        from as PathAddress,
        now,
      );
    }
    this.conn.receive(datagram, from as PathAddress, now);
  }
  pollTransmit(now: number) {
    return this.conn?.pollTransmit(now);
  }
  nextDeadline(): number | undefined {
    return this.conn?.nextDeadline();
  }
  handleTimeout(now: number): void {
    this.conn?.handleTimeout(now);
  }
}

export interface QuicPair {
  client: Connection;
  server: ServerNode;
  net: SimNetwork;
  /** Events seen so far, per side. */
  clientEvents: ConnectionEvent[];
  serverEvents: ConnectionEvent[];
  /** Collects new events from both sides (call in `net.afterStep`). */
  collect(): void;
}

export async function makePair(opts: PairOptions = {}): Promise<QuicPair> {
  const id = await testIdentity();
  const alpn = opts.alpn ?? ['perf'];
  const clientCids = new TestCidSource();
  const serverCids = new TestCidSource();
  const serverConfig: ServerConnectionConfig = {
    connectionIds: serverCids,
    transport: { ...opts.transport, ...opts.serverTransport },
    ...opts.server,
    tls: {
      alpn,
      credentials: { certificateChain: [id.certificate], privateKey: id.privateKey },
      ticketSealer: createTicketSealer(defaultCrypto, new Uint8Array(32).fill(1)),
      ...opts.server?.tls,
    },
  };
  const clientConfig: ClientConnectionConfig = {
    connectionIds: clientCids,
    transport: { ...opts.transport, ...opts.clientTransport },
    ...opts.client,
    tls: { alpn, serverName: 'localhost', verify: 'none', ...opts.client?.tls },
  };
  const server = new ServerNode(serverConfig, serverCids, opts.serverAccept);
  const serverAddr: PathAddress = { address: '10.0.0.2', port: 443, family: 'IPv4' };
  const start = opts.start ?? NOW0;
  const client = Connection.connect(clientConfig, serverAddr, start);
  const links = opts.links ?? [opts.link ?? { delay: 10 }, opts.link ?? { delay: 10 }];
  const net = new SimNetwork([client, server], links, opts.seed ?? 1);
  net.now = start;
  const pair: QuicPair = {
    client,
    server,
    net,
    clientEvents: [],
    serverEvents: [],
    collect() {
      for (let e = client.pollEvent(); e; e = client.pollEvent()) pair.clientEvents.push(e);
      const sc = server.conn;
      if (sc) for (let e = sc.pollEvent(); e; e = sc.pollEvent()) pair.serverEvents.push(e);
    },
  };
  return pair;
}

/** Runs until both sides completed the handshake. */
export function runHandshake(pair: QuicPair, maxTime = 60_000): boolean {
  pair.net.afterStep = () => pair.collect();
  return pair.net.run(() => pair.client.handshakeConfirmed && pair.server.conn?.handshakeComplete === true, maxTime);
}

/** Deterministic pseudo-random payload. */
export function payload(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export interface TransferResult {
  ok: boolean;
  received: Uint8Array;
  simulatedMs: number;
}

/**
 * The client opens a bidirectional stream, writes `data` and FIN; the server reads it all.
 * Returns what the server received once the FIN arrived (or when `maxTime` ran out).
 */
export function transfer(pair: QuicPair, data: Uint8Array, maxTime = 600_000, chunk = 64 * 1024): TransferResult {
  const c = pair.client;
  const start = pair.net.now;
  const chunks: Uint8Array[] = [];
  let got = 0;
  let fin = false;
  let streamId: number | undefined;
  let written = 0;
  pair.net.afterStep = () => {
    pair.collect();
    if (streamId === undefined && c.handshakeComplete) streamId = c.openStream(true);
    if (streamId !== undefined && written < data.length) {
      // Keep a bounded amount queued, like an application respecting send buffering.
      while (written < data.length && c.streamUnacked(streamId) < 4 * 1024 * 1024) {
        const n = Math.min(chunk, data.length - written);
        c.streamWrite(streamId, data.subarray(written, written + n), written + n === data.length);
        written += n;
      }
    } else if (streamId !== undefined && data.length === 0 && written === 0) {
      c.streamWrite(streamId, new Uint8Array(0), true);
      written = -1;
    }
    const s = pair.server.conn;
    if (s) {
      for (let e = s.pollEvent(); e; e = s.pollEvent()) pair.serverEvents.push(e);
      if (streamId !== undefined) {
        for (;;) {
          const r = s.streamRead(streamId, Infinity, pair.net.now);
          if (r === undefined) break;
          if (r.data.length > 0) {
            chunks.push(r.data);
            got += r.data.length;
          }
          if (r.fin) fin = true;
          if (r.data.length === 0) break;
        }
      }
    }
  };
  const ok = pair.net.run(() => fin, maxTime);
  const received = new Uint8Array(got);
  let o = 0;
  for (const ch of chunks) {
    received.set(ch, o);
    o += ch.length;
  }
  return { ok, received, simulatedMs: pair.net.now - start };
}
