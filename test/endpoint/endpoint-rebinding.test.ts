/**
 * A NAT rebinding over real UDP (RFC 9000 §9.3): the client reaches the server through a small
 * UDP relay standing in for a NAT; halfway through an echo the relay starts forwarding from a
 * new socket (a new source port) and closes the old one, as a NAT that lost its mapping would.
 * The server must validate the new address, report it, send there, and finish the transfer.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { QuicEndpoint } from '../../src/endpoint/index.js';
import type { EndpointConnection } from '../../src/endpoint/index.js';
import type { PathAddress } from '../../src/transport/events.js';
import { selfSignedCertificate } from '../../src/tls/certificate-authority.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  s.on('error', () => {});
  return s;
}

/** Forwards client datagrams to the server from an "outside" socket that `rebind` replaces. */
class UdpNat {
  private client: { address: string; port: number } | undefined;
  private constructor(
    private readonly inside: Socket,
    private outside: Socket,
    private readonly serverPort: number,
  ) {
    inside.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.outside.send(msg, this.serverPort, '127.0.0.1');
    });
    this.listen(outside);
  }

  static async create(serverPort: number): Promise<UdpNat> {
    return new UdpNat(await bound(), await bound(), serverPort);
  }

  /** Where the client sends. */
  get port(): number {
    return this.inside.address().port;
  }

  /** The source port the server sees. */
  get outsidePort(): number {
    return this.outside.address().port;
  }

  /** A new mapping: later datagrams leave from a new port; the old one is gone. */
  async rebind(): Promise<void> {
    const old = this.outside;
    this.outside = await bound();
    this.listen(this.outside);
    old.close();
  }

  private listen(s: Socket): void {
    s.on('message', (msg) => {
      if (s === this.outside && this.client !== undefined) this.inside.send(msg, this.client.port, this.client.address);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.inside.close(() => r()));
    await new Promise<void>((r) => this.outside.close(() => r()));
  }
}

describe('NAT rebinding over UDP loopback', () => {
  it('the server follows the client to its new port mid-transfer and the echo completes', async () => {
    const id = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
    const server = await QuicEndpoint.bind({
      host: '127.0.0.1',
      server: { tls: { alpn: ['perf'], credentials: { certificateChain: [id.certificate], privateKey: id.privateKey } } },
    });
    cleanup.push(() => server.close());
    const nat = await UdpNat.create(server.address().port);
    cleanup.push(() => nat.close());
    const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    cleanup.push(() => client.close());

    const size = 4 << 20;
    const changes: PathAddress[] = [];
    let rebinding: Promise<void> | undefined;
    let serverConn: EndpointConnection | undefined;
    server.onConnection = (c: EndpointConnection) => {
      serverConn = c;
      let echoed = 0;
      c.setEventHandler((e) => {
        if (e.type === 'peerAddressChanged') changes.push(e.address);
        if (e.type !== 'streamReadable') return;
        for (;;) {
          const r = c.read(e.streamId);
          if (!r || (r.data.length === 0 && !r.fin)) break;
          c.write(e.streamId, r.data, r.fin);
          echoed += r.data.length;
          if (echoed >= size / 2 && rebinding === undefined) rebinding = nat.rebind();
          if (r.fin) break;
        }
      });
    };

    const c = client.connect('127.0.0.1', nat.port, { tls: { alpn: ['perf'], serverName: 'localhost', verify: 'none' } });
    await c.handshake();
    const oldPort = nat.outsidePort;
    const data = new Uint8Array(size).map((_, i) => (i * 13) & 0xff);
    const sid = c.openStream(true)!;
    const parts: Uint8Array[] = [];
    const done = new Promise<void>((resolve, reject) => {
      c.setEventHandler((e) => {
        if (e.type === 'streamReadable' && e.streamId === sid) {
          for (;;) {
            const r = c.read(sid);
            if (!r) return;
            if (r.data.length) parts.push(r.data);
            if (r.fin) return resolve();
            if (r.data.length === 0) return;
          }
        }
        if (e.type === 'closed') reject(new Error(e.info.reason));
      });
    });
    c.write(sid, data, true);
    await done;
    await rebinding;

    const back = Buffer.concat(parts);
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(nat.outsidePort).not.toBe(oldPort);
    expect(changes).toEqual([{ address: '127.0.0.1', port: nat.outsidePort, family: 'IPv4' }]);
    expect(serverConn!.remoteAddress.port).toBe(nat.outsidePort);
  }, 20_000);
});
