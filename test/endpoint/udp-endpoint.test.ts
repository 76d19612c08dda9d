import { describe, it, expect, afterEach } from 'vitest';
import { createHash } from 'node:crypto';
import { QuicEndpoint } from '../../src/endpoint/index.js';
import { selfSignedCertificate } from '../../src/tls/certificate-authority.js';
import type { EndpointConnection } from '../../src/endpoint/index.js';

const endpoints: QuicEndpoint[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.close();
});

async function server(opts: { retry?: boolean } = {}) {
  const id = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
  const ep = await QuicEndpoint.bind({
    host: '127.0.0.1',
    server: { tls: { alpn: ['perf'], credentials: { certificateChain: [id.certificate], privateKey: id.privateKey } }, ...opts },
  });
  endpoints.push(ep);
  return { ep, id };
}

/** Echo server: every bidi stream gets back what it carried. */
function echo(ep: QuicEndpoint): void {
  ep.onConnection = (c: EndpointConnection) => {
    const finished = new Set<number>();
    c.setEventHandler((e) => {
      if (e.type === 'streamReadable' && !finished.has(e.streamId)) {
        for (;;) {
          const r = c.read(e.streamId);
          if (!r) break;
          if (r.data.length > 0 || r.fin) c.write(e.streamId, r.data, r.fin);
          if (r.fin) finished.add(e.streamId);
          if (r.data.length === 0 || r.fin) break;
        }
      }
    });
  };
}

async function roundTrip(c: EndpointConnection, data: Uint8Array): Promise<Uint8Array> {
  await c.handshake();
  const id = c.openStream(true)!;
  const parts: Uint8Array[] = [];
  const done = new Promise<void>((resolve, reject) => {
    c.setEventHandler((e) => {
      if (e.type === 'streamReadable' && e.streamId === id) {
        for (;;) {
          const r = c.read(id);
          if (!r) return;
          if (r.data.length) parts.push(r.data);
          if (r.fin) return resolve();
          if (r.data.length === 0) return;
        }
      }
      if (e.type === 'closed') reject(new Error(e.info.reason));
    });
  });
  c.write(id, data, true);
  await done;
  return Buffer.concat(parts);
}

describe('QuicEndpoint over UDP loopback', () => {
  it('serves a client: handshake and a 2 MB echo', async () => {
    const { ep, id } = await server();
    echo(ep);
    const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    endpoints.push(client);
    const c = client.connect('127.0.0.1', ep.address().port, {
      tls: { alpn: ['perf'], serverName: 'localhost', verify: 'builtin', trustedCertificates: [id.certificate] },
    });
    const data = new Uint8Array(2 << 20).map((_, i) => (i * 7) & 0xff);
    const back = await roundTrip(c, data);
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('validates the client address with a Retry when asked to', async () => {
    const { ep } = await server({ retry: true });
    echo(ep);
    const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    endpoints.push(client);
    const c = client.connect('127.0.0.1', ep.address().port, { tls: { alpn: ['perf'], serverName: 'localhost', verify: 'none' } });
    const back = await roundTrip(c, new Uint8Array([1, 2, 3]));
    expect([...back]).toEqual([1, 2, 3]);
    expect(ep.stats.retries).toBe(1);
  });
});
