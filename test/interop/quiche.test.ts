/**
 * purequic against Cloudflare quiche 0.18 (through @matrixai/quic) on loopback, with `perf`
 * and `hq-interop`: our client against its server (which always sends a Retry) and its
 * client against our server. 10 MB each way, content checked (SHA-256, or the exact length
 * where quiche's perf client keeps no bytes). quiche's client is slow (per-packet JavaScript
 * in the binding: about 1 MB/s), so those cases take several seconds each.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download } from '../../src/cli/client-command.js';
import { startServer, type RunningServer } from '../../src/cli/server-command.js';
import { bodyPatternSha256 } from '../../src/apps/body-pattern.js';
import type { CliIo } from '../../src/cli/output.js';
import { PEER_CERT, PEER_KEY, PEERS_SCRIPTS, freeUdpPort, report, requirePeers, runPeerClient, startPeer, waitForUdpPort, type PeerProcess } from './peers.js';

const SIZE = 10_000_000;
const quietIo: CliIo = { stdout: { write: () => true }, stderr: { write: () => true } };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const mbps = (bytes: number, s: number) => (bytes / s / 1e6).toFixed(2);

let work: string;
let fileSha: string;

beforeAll(() => {
  requirePeers();
  work = mkdtempSync(join(tmpdir(), 'purequic-quiche-'));
  const file = Buffer.alloc(SIZE);
  randomFillSync(file);
  writeFileSync(join(work, '10M.bin'), file);
  fileSha = sha(file);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('purequic client -> quiche server (Retry on every connection)', () => {
  let peer: PeerProcess;
  let port: number;

  beforeAll(async () => {
    port = await freeUdpPort();
    peer = startPeer(process.execPath, [join(PEERS_SCRIPTS, 'quiche-server.mjs'), '--port', String(port), '--www', work, '--cert', PEER_CERT, '--key', PEER_KEY]);
    await waitForUdpPort(port, peer);
  });

  afterAll(async () => {
    await peer?.stop();
  });

  it('perf: 10 MB, exactly the zeros quiche sends (SHA-256)', async () => {
    const r = await download({ url: `https://127.0.0.1:${port}/${SIZE}`, alpn: 'perf', ca: PEER_CERT, sha256: true, quiet: true, timeoutMs: 30_000 }, quietIo);
    expect(r.bytes).toBe(SIZE);
    expect(r.sha256).toBe(sha(new Uint8Array(SIZE)));
    report(`purequic client <- quiche server (Retry), perf: ${mbps(r.bytes, r.seconds)} MB/s`);
  }, 60_000);

  it('hq-interop: a 10 MB random file, SHA-256 verified', async () => {
    const r = await download({ url: `https://127.0.0.1:${port}/10M.bin`, alpn: 'hq-interop', ca: PEER_CERT, sha256: true, quiet: true, timeoutMs: 30_000 }, quietIo);
    expect(r.bytes).toBe(SIZE);
    expect(r.sha256).toBe(fileSha);
    report(`purequic client <- quiche server (Retry), hq-interop: ${mbps(r.bytes, r.seconds)} MB/s`);
  }, 60_000);

  it('h3 (quiche with the peers\' minimal HTTP/3): the same file, SHA-256 verified', async () => {
    const r = await download({ url: `https://127.0.0.1:${port}/10M.bin`, alpn: 'h3', ca: PEER_CERT, sha256: true, quiet: true, timeoutMs: 30_000 }, quietIo);
    expect(r.status).toBe(200);
    expect(r.sha256).toBe(fileSha);
    report(`purequic client <- quiche server (Retry), h3: ${mbps(r.bytes, r.seconds)} MB/s`);
  }, 60_000);
});

describe('quiche client -> purequic server', () => {
  let server: RunningServer;
  let log = '';

  beforeAll(async () => {
    server = await startServer(
      { host: '127.0.0.1', port: 0, cert: PEER_CERT, key: PEER_KEY, alpn: ['perf', 'hq-interop'] },
      { stdout: { write: (t: string) => (log += t) }, stderr: { write: (t: string) => (log += t) } },
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  it('hq-interop: 10 MB saved by quiche, SHA-256 verified', async () => {
    const out = mkdtempSync(join(work, 'hq-'));
    const r = await runPeerClient(process.execPath, [join(PEERS_SCRIPTS, 'quiche-client.mjs'), '--alpn', 'hq-interop', '--ca', PEER_CERT, '--out', out, `https://127.0.0.1:${server.port}/${SIZE}`]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(new RegExp(`RESULT impl=quiche alpn=hq-interop what=/${SIZE} bytes=${SIZE} `));
    expect(sha(readFileSync(join(out, String(SIZE))))).toBe(bodyPatternSha256(SIZE));
    report(`quiche client <- purequic server, hq-interop: ${/MBps=([\d.]+)/.exec(r.output)?.[1]} MB/s (quiche's own figure)`);
  }, 90_000);

  it('perf: 10 MB down and 1 MB up, lengths checked by both sides', async () => {
    const r = await runPeerClient(process.execPath, [join(PEERS_SCRIPTS, 'quiche-client.mjs'), '--alpn', 'perf', '--bytes', String(SIZE), '--upload', '1000000', `https://127.0.0.1:${server.port}`]);
    // The quiche client throws (non-zero exit) unless it got exactly the bytes it asked for.
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/RESULT impl=quiche alpn=perf what=perf\(down=10000000,up=1000000\) bytes=11000000 /);
    expect(log).toContain(`received 1000000 bytes, sending ${SIZE}`);
    report(`quiche client <- purequic server, perf: ${/MBps=([\d.]+)/.exec(r.output)?.[1]} MB/s (quiche's own figure)`);
  }, 90_000);
});
