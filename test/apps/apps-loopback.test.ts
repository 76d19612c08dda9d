import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuicEndpoint, type EndpointConnection } from '../../src/endpoint/index.js';
import { selfSignedCertificate, type IssuedCertificate } from '../../src/tls/certificate-authority.js';
import { BodySink } from '../../src/apps/body-sink.js';
import { bodyPatternSha256 } from '../../src/apps/body-pattern.js';
import { serveEndpoint, SUPPORTED_ALPNS } from '../../src/apps/server.js';
import { perfDownload } from '../../src/apps/perf.js';
import { hqInteropDownload } from '../../src/apps/hq-interop.js';
import { H3ClientConnection } from '../../src/apps/h3-client.js';
import { H3ErrorCode } from '../../src/apps/h3-constants.js';

let id: IssuedCertificate;
let server: QuicEndpoint;
let client: QuicEndpoint;
let www: string;
const fileBytes = new Uint8Array(300_000).map((_, i) => (i * 31 + (i >> 9)) & 0xff);
const log: string[] = [];

beforeAll(async () => {
  id = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
  www = mkdtempSync(join(tmpdir(), 'purequic-www-'));
  writeFileSync(join(www, 'file.bin'), fileBytes);
  server = await QuicEndpoint.bind({
    host: '127.0.0.1',
    server: { tls: { alpn: [...SUPPORTED_ALPNS], credentials: { certificateChain: [id.certificate], privateKey: id.privateKey } } },
  });
  serveEndpoint(server, { www, log: (m) => log.push(m) });
  client = await QuicEndpoint.bind({ host: '127.0.0.1' });
});

afterAll(async () => {
  await client.close();
  await server.close();
  rmSync(www, { recursive: true, force: true });
});

async function connect(alpn: string): Promise<EndpointConnection> {
  const ec = client.connect('127.0.0.1', server.address().port, {
    tls: { alpn: [alpn], serverName: 'localhost', verify: 'builtin', trustedCertificates: [id.certificate] },
  });
  await ec.handshake();
  return ec;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('perf over UDP loopback', () => {
  it('downloads N bytes of the generated pattern', async () => {
    const ec = await connect('perf');
    const r = await perfDownload(ec, 3_000_000, new BodySink({ sha256: true, verifyPattern: true }));
    expect(r.bytes).toBe(3_000_000);
    expect(r.patternMismatchAt).toBe(-1);
    expect(r.sha256).toBe(bodyPatternSha256(3_000_000));
    expect(r.seconds).toBeGreaterThan(0);
    ec.close();
  });

  it('uploads first, and the server counts the upload', async () => {
    const ec = await connect('perf');
    const r = await perfDownload(ec, 1000, new BodySink(), 1_000_000);
    expect(r.bytes).toBe(1000);
    expect(r.uploaded).toBe(1_000_000);
    expect(log.some((l) => l.includes('received 1000000 bytes, sending 1000'))).toBe(true);
    ec.close();
  });

  it('answers a zero-byte request with an empty body and FIN', async () => {
    const ec = await connect('perf');
    const r = await perfDownload(ec, 0, new BodySink({ sha256: true }));
    expect(r.bytes).toBe(0);
    expect(r.sha256).toBe(sha(new Uint8Array(0)));
    ec.close();
  });
});

describe('hq-interop over UDP loopback', () => {
  it('fetches a generated body, a file and a missing path in parallel on one connection', async () => {
    const ec = await connect('hq-interop');
    const sinks = [new BodySink({ verifyPattern: true }), new BodySink({ sha256: true }), new BodySink()];
    const [gen, file, missing] = await hqInteropDownload(ec, ['/1000000', '/file.bin', '/nope.bin'], sinks);
    expect(gen!.bytes).toBe(1_000_000);
    expect(gen!.patternMismatchAt).toBe(-1);
    expect(file!.sha256).toBe(sha(fileBytes));
    expect(missing!.bytes).toBe(0);
    ec.close();
  });

  it('does not serve files outside the document root', async () => {
    const ec = await connect('hq-interop');
    const [r] = await hqInteropDownload(ec, ['/../../../../etc/passwd'], [new BodySink()]);
    expect(r!.bytes).toBe(0);
    ec.close();
  });
});

describe('HTTP/3 over UDP loopback', () => {
  it('serves GET /N with 200 and the pattern, files by SHA-256, and 404 otherwise, concurrently', async () => {
    const ec = await connect('h3');
    const h3 = new H3ClientConnection(ec, `127.0.0.1:${server.address().port}`);
    const [a, b, c] = await Promise.all([
      h3.get('/2000000', new BodySink({ verifyPattern: true })),
      h3.get('/file.bin', new BodySink({ sha256: true })),
      h3.get('/missing', new BodySink()),
    ]);
    expect(a.status).toBe(200);
    expect(a.bytes).toBe(2_000_000);
    expect(a.patternMismatchAt).toBe(-1);
    expect(a.headers).toContainEqual(['content-length', '2000000']);
    expect(b.status).toBe(200);
    expect(b.sha256).toBe(sha(fileBytes));
    expect(c.status).toBe(404);
    expect(c.bytes).toBe(0);
    // Both sides exchanged SETTINGS on their control streams.
    expect(h3.peerSettings).toBeDefined();
    expect(h3.error).toBeUndefined();
    h3.close();
    const info = await ec.closed();
    expect(info.code).toBe(BigInt(H3ErrorCode.H3_NO_ERROR));
  });
});
