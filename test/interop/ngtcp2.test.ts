/**
 * purequic against ngtcp2 0.12 (C, GnuTLS) over HTTP/3 on loopback: our client against its
 * server (plain, ChaCha20-only, Retry, IPv6) and its client against our server (plain,
 * ChaCha20-only, key update, migration, 0-RTT, Retry). Every transfer is 10 MB, checked by SHA-256.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download, type ClientOutcome } from '../../src/cli/client-command.js';
import { startServer, type RunningServer } from '../../src/cli/server-command.js';
import { bodyPatternSha256 } from '../../src/apps/body-pattern.js';
import type { CliIo } from '../../src/cli/output.js';
import { PEER_CERT, PEER_KEY, PEERS_SCRIPTS, freeUdpPort, report, requirePeers, runPeerClient, startPeer, waitForUdpPort, type PeerProcess } from './peers.js';

const SIZE = 10_000_000;
const CHACHA_ONLY = '--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305';
const quietIo: CliIo = { stdout: { write: () => true }, stderr: { write: () => true } };

let work: string;
let fileSha: string;
const servers: PeerProcess[] = [];

beforeAll(async () => {
  requirePeers();
  work = mkdtempSync(join(tmpdir(), 'purequic-ngtcp2-'));
  const file = Buffer.alloc(SIZE);
  randomFillSync(file);
  writeFileSync(join(work, '10M.bin'), file);
  fileSha = createHash('sha256').update(file).digest('hex');
});

afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Starts gtlsserver serving `work` (10M.bin) on a free port. */
async function ngtcp2Server(extra: string[] = [], bind = '127.0.0.1'): Promise<number> {
  const port = await freeUdpPort(bind);
  const args = [port.toString(), PEER_CERT, PEER_KEY, work, ...(extra.length ? ['--', ...extra] : [])];
  const p = startPeer(join(PEERS_SCRIPTS, 'ngtcp2-server.sh'), args, { BIND: bind });
  servers.push(p);
  await waitForUdpPort(port, p);
  return port;
}

async function fetchFile(url: string, chacha = false): Promise<ClientOutcome> {
  const r = await download({ url, alpn: 'h3', ca: PEER_CERT, sha256: true, chacha, quiet: true, timeoutMs: 30_000 }, quietIo);
  expect(r.status).toBe(200);
  expect(r.bytes).toBe(SIZE);
  expect(r.sha256).toBe(fileSha);
  return r;
}

const mbps = (bytes: number, s: number) => (bytes / s / 1e6).toFixed(2);

describe('purequic client -> ngtcp2 server (h3)', () => {
  it('downloads 10 MB, SHA-256 verified, with the server certificate verified', async () => {
    const port = await ngtcp2Server();
    const r = await fetchFile(`https://127.0.0.1:${port}/10M.bin`);
    expect(r.cipherSuite).toBe('TLS_AES_128_GCM_SHA256');
    report(`purequic client <- ngtcp2 server, h3, ${r.cipherSuite}: ${r.bytes} bytes in ${r.seconds.toFixed(3)} s: ${mbps(r.bytes, r.seconds)} MB/s`);
  }, 60_000);

  it('with a ChaCha20-Poly1305-only server', async () => {
    const port = await ngtcp2Server([CHACHA_ONLY]);
    const r = await fetchFile(`https://127.0.0.1:${port}/10M.bin`);
    expect(r.cipherSuite).toBe('TLS_CHACHA20_POLY1305_SHA256');
    report(`purequic client <- ngtcp2 server (ChaCha20 only), h3: ${mbps(r.bytes, r.seconds)} MB/s`);
  }, 60_000);

  it('when our client offers only ChaCha20-Poly1305 (--chacha)', async () => {
    const port = await ngtcp2Server();
    const r = await fetchFile(`https://127.0.0.1:${port}/10M.bin`, true);
    expect(r.cipherSuite).toBe('TLS_CHACHA20_POLY1305_SHA256');
    report(`purequic client --chacha <- ngtcp2 server, h3: ${mbps(r.bytes, r.seconds)} MB/s`);
  }, 60_000);

  it('through a Retry (server -V)', async () => {
    const port = await ngtcp2Server(['-V']);
    const r = await fetchFile(`https://127.0.0.1:${port}/10M.bin`);
    report(`purequic client <- ngtcp2 server with Retry, h3: ${mbps(r.bytes, r.seconds)} MB/s (handshake ${r.handshakeMs.toFixed(1)} ms)`);
  }, 60_000);

  it('over IPv6 (::1)', async () => {
    const port = await ngtcp2Server([], '::1');
    const r = await fetchFile(`https://[::1]:${port}/10M.bin`);
    report(`purequic client <- ngtcp2 server on [::1], h3: ${mbps(r.bytes, r.seconds)} MB/s`);
  }, 60_000);
});

describe('ngtcp2 client -> purequic server (h3)', () => {
  let server: RunningServer;
  let log = '';

  beforeAll(async () => {
    server = await startServer(
      { host: '127.0.0.1', port: 0, cert: PEER_CERT, key: PEER_KEY, alpn: ['h3'] },
      { stdout: { write: (t: string) => (log += t) }, stderr: { write: (t: string) => (log += t) } },
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  async function ngtcp2Get(extra: string[] = [], port = server.port): Promise<number> {
    const out = mkdtempSync(join(work, 'dl-'));
    const r = await runPeerClient(join(PEERS_SCRIPTS, 'ngtcp2-client.sh'), [`https://127.0.0.1:${port}/${SIZE}`, ...(extra.length ? ['--', ...extra] : [])], { OUT: out }, 30_000);
    expect(r.code, r.output).toBe(0);
    const body = readFileSync(join(out, String(SIZE)));
    expect(body.length).toBe(SIZE);
    expect(createHash('sha256').update(body).digest('hex')).toBe(bodyPatternSha256(SIZE));
    return r.seconds;
  }

  it('serves 10 MB, SHA-256 verified by the bytes ngtcp2 saved', async () => {
    const s = await ngtcp2Get();
    expect(log).toMatch(/connected, ALPN h3, TLS_AES_128_GCM_SHA256/);
    expect(log).toContain(`h3: GET /${SIZE}: 200, ${SIZE} bytes`);
    report(`ngtcp2 client <- purequic server, h3: ${mbps(SIZE, s)} MB/s (wall time of the ngtcp2 process, handshake included)`);
  }, 60_000);

  it('to a ChaCha20-Poly1305-only client', async () => {
    log = '';
    const s = await ngtcp2Get([CHACHA_ONLY]);
    expect(log).toMatch(/connected, ALPN h3, TLS_CHACHA20_POLY1305_SHA256/);
    report(`ngtcp2 client (ChaCha20 only) <- purequic server, h3: ${mbps(SIZE, s)} MB/s (wall time)`);
  }, 60_000);

  it('with a key update initiated by ngtcp2 during the transfer', async () => {
    const s = await ngtcp2Get(['--key-update=20ms']);
    report(`ngtcp2 client (key update after 20 ms) <- purequic server, h3: ${mbps(SIZE, s)} MB/s (wall time)`);
  }, 60_000);

  it('with active migration by ngtcp2 to a new local address', async () => {
    log = '';
    const s = await ngtcp2Get(['--change-local-addr=20ms']);
    expect(log).toMatch(/peer address is now 127\.0\.0\.1:\d+/);
    report(`ngtcp2 client (migrates after 20 ms) <- purequic server, h3: ${mbps(SIZE, s)} MB/s (wall time)`);
  }, 60_000);

  it('resuming with 0-RTT (server --early-data)', async () => {
    let zlog = '';
    const early = await startServer(
      { host: '127.0.0.1', port: 0, cert: PEER_CERT, key: PEER_KEY, alpn: ['h3'], earlyData: true },
      { stdout: { write: (t: string) => (zlog += t) }, stderr: { write: () => true } },
    );
    try {
      const session = join(work, 'session'), tp = join(work, 'tp');
      const first = await runPeerClient(join(PEERS_SCRIPTS, 'ngtcp2-client.sh'), [`https://127.0.0.1:${early.port}/1000`, '--', `--session-file=${session}`, `--tp-file=${tp}`], {}, 30_000);
      expect(first.code, first.output).toBe(0);
      const s = await ngtcp2Get([`--session-file=${session}`, `--tp-file=${tp}`], early.port);
      expect(zlog).toMatch(/resumed, 0-RTT accepted/);
      report(`ngtcp2 client resuming with 0-RTT <- purequic server, h3: ${mbps(SIZE, s)} MB/s (wall time)`);
    } finally {
      await early.close();
    }
  }, 60_000);

  it('through our Retry (server --retry)', async () => {
    let retryLog = '';
    const retrying = await startServer(
      { host: '127.0.0.1', port: 0, cert: PEER_CERT, key: PEER_KEY, alpn: ['h3'], retry: true },
      { stdout: { write: (t: string) => (retryLog += t) }, stderr: { write: () => true } },
    );
    try {
      const s = await ngtcp2Get([], retrying.port);
      expect(retrying.endpoint.stats.retries).toBe(1);
      expect(retryLog).toContain(`h3: GET /${SIZE}: 200`);
      report(`ngtcp2 client <- purequic server with Retry, h3: ${mbps(SIZE, s)} MB/s (wall time)`);
    } finally {
      await retrying.close();
    }
  }, 60_000);
});
