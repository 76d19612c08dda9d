import { describe, it, expect, afterEach } from 'vitest';
import { createSocket } from 'node:dgram';
import { QuicEndpoint, type EndpointConnection } from '../../src/endpoint/index.js';
import { selfSignedCertificate } from '../../src/tls/certificate-authority.js';
import { HeaderStatus, PacketHeader, PacketType, parsePacketHeader } from '../../src/transport/packet.js';
import type { ConnectionEvent } from '../../src/transport/events.js';

const endpoints: QuicEndpoint[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.close();
});

async function serverEndpoint(opts: { retry?: boolean; accept?: () => boolean; ipv6?: boolean } = {}) {
  const id = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1', '::1'], now: Date.now() });
  const ep = await QuicEndpoint.bind({
    host: opts.ipv6 ? '::1' : '127.0.0.1',
    server: {
      tls: { alpn: ['perf'], credentials: { certificateChain: [id.certificate], privateKey: id.privateKey } },
      ...(opts.retry ? { retry: true } : {}),
      ...(opts.accept ? { accept: opts.accept } : {}),
    },
  });
  endpoints.push(ep);
  ep.onConnection = (c) => c.setEventHandler(() => {});
  return ep;
}

async function clientEndpoint(ipv6 = false) {
  const ep = await QuicEndpoint.bind({ host: ipv6 ? '::1' : '127.0.0.1' });
  endpoints.push(ep);
  return ep;
}

/** Sends raw bytes from a plain UDP socket and returns the first answer (or undefined after `ms`). */
async function rawExchange(port: number, data: Uint8Array, ms = 500): Promise<Uint8Array | undefined> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  try {
    const answer = new Promise<Uint8Array | undefined>((resolve) => {
      const t = setTimeout(() => resolve(undefined), ms);
      s.once('message', (m) => {
        clearTimeout(t);
        resolve(new Uint8Array(m));
      });
    });
    s.send(data, port, '127.0.0.1');
    return await answer;
  } finally {
    s.close();
  }
}

function collect(c: EndpointConnection): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  c.setEventHandler((e) => events.push(e));
  return events;
}

describe('endpoint stateless answers', () => {
  it('answers an Initial of an unknown version with Version Negotiation listing v1 and v2', async () => {
    const ep = await serverEndpoint();
    const pkt = new Uint8Array(1200);
    pkt.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9]);
    const answer = await rawExchange(ep.address().port, pkt);
    expect(answer).toBeDefined();
    const h = new PacketHeader();
    expect(parsePacketHeader(answer!, 0, 8, h)).toBe(HeaderStatus.Ok);
    expect(h.type).toBe(PacketType.VersionNegotiation);
    expect([...h.dcid]).toEqual([9, 9, 9, 9]); // the client's SCID echoed as DCID
    expect([...h.scid]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(h.supportedVersions).toContain(0x00000001);
    expect(h.supportedVersions).toContain(0x6b3343cf);
    expect(ep.connectionCount).toBe(0);
  });

  it('ignores a too-short datagram of an unknown version (no amplification)', async () => {
    const ep = await serverEndpoint();
    const pkt = new Uint8Array(100);
    pkt.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
    expect(await rawExchange(ep.address().port, pkt, 200)).toBeUndefined();
  });

  it('answers a short-header packet for an unknown connection with a stateless reset that the client recognises', async () => {
    const server = await serverEndpoint();
    const client = await clientEndpoint();
    const c = client.connect('127.0.0.1', server.address().port, { tls: { alpn: ['perf'], serverName: 'localhost', verify: 'none' } });
    const events = collect(c);
    await c.handshake();
    await new Promise((r) => setTimeout(r, 50));
    // The server forgets the connection without telling the client (as after a crash/restart).
    const sc = [...(server as unknown as { connections: Set<EndpointConnection> }).connections][0]!;
    sc.close(0, '', { silent: true });
    await new Promise((r) => setTimeout(r, 20));
    // Client traffic now hits an unknown CID: the server answers with a stateless reset.
    if (c.shutdownInfo === undefined) {
      const id = c.openStream(true)!;
      c.write(id, new Uint8Array(100), true);
    }
    const info = await c.shutdown();
    expect(info.source).toBe('stateless-reset');
    expect(server.stats.statelessResets).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'closed')).toBe(true);
  });

  it('refuses connections with CONNECTION_REFUSED while accept() says no', async () => {
    const server = await serverEndpoint({ accept: () => false });
    const client = await clientEndpoint();
    const c = client.connect('127.0.0.1', server.address().port, { tls: { alpn: ['perf'], serverName: 'localhost', verify: 'none' } });
    const info = await c.shutdown();
    expect(info.source).toBe('peer-transport');
    expect(info.code).toBe(2n);
    expect(server.connectionCount).toBe(0);
  });
});

describe('address validation', () => {
  it('a NEW_TOKEN from a first connection lets the next one skip the Retry', async () => {
    const server = await serverEndpoint({ retry: true });
    const client = await clientEndpoint();
    const tls = { alpn: ['perf'], serverName: 'localhost', verify: 'none' as const };
    const c1 = client.connect('127.0.0.1', server.address().port, { tls });
    const ev1 = collect(c1);
    await c1.handshake();
    for (let i = 0; i < 50 && !ev1.some((e) => e.type === 'newToken'); i++) await new Promise((r) => setTimeout(r, 10));
    const tokenEvent = ev1.find((e) => e.type === 'newToken') as Extract<ConnectionEvent, { type: 'newToken' }> | undefined;
    expect(tokenEvent).toBeDefined();
    expect(server.stats.retries).toBe(1);
    c1.close();
    const c2 = client.connect('127.0.0.1', server.address().port, { tls, token: tokenEvent!.token });
    await c2.handshake();
    expect(server.stats.retries).toBe(1); // no second Retry
  });

  it('serves many connections on one socket', async () => {
    const server = await serverEndpoint();
    const client = await clientEndpoint();
    const conns = Array.from({ length: 8 }, () =>
      client.connect('127.0.0.1', server.address().port, { tls: { alpn: ['perf'], serverName: 'localhost', verify: 'none' } }),
    );
    await Promise.all(conns.map((c) => c.handshake()));
    expect(server.connectionCount).toBe(8);
    expect(client.connectionCount).toBe(8);
  });

  it('works over IPv6 loopback', async () => {
    const server = await serverEndpoint({ ipv6: true });
    const client = await clientEndpoint(true);
    const c = client.connect('::1', server.address().port, { tls: { alpn: ['perf'], serverName: 'localhost', verify: 'none' } });
    await c.handshake();
    expect(c.remoteAddress.address).toBe('::1');
    expect(c.conn.maxDatagramSize).toBeGreaterThanOrEqual(1200);
  });
});
