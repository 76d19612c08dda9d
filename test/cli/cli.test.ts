import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { runCli } from '../../src/cli/run.js';
import { startServer, type RunningServer } from '../../src/cli/server-command.js';
import { parseArgs, parseSize, UsageError } from '../../src/cli/args.js';
import { ProgressDisplay } from '../../src/cli/progress.js';
import { transferLine, type CliIo } from '../../src/cli/output.js';
import { bodyPatternSha256 } from '../../src/apps/body-pattern.js';
import { selfSignedCertificate, type IssuedCertificate } from '../../src/tls/certificate-authority.js';

/** Captured output of one in-process run. */
function capture(tty = false): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t), isTTY: tty },
    stderr: { write: (t: string) => (err += t) },
    out: () => out,
    err: () => err,
  };
}

const FINAL = /^received (\d+) bytes in (\d+\.\d{3}) s: (\d+\.\d{2}) MB\/s$/;
const lastLine = (s: string) => s.trimEnd().split('\n').pop()!;

let dir: string;
let id: IssuedCertificate;
let server: RunningServer;
const fileBytes = new Uint8Array(100_000).map((_, i) => (i * 13) & 0xff);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'purequic-cli-'));
  id = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
  writeFileSync(join(dir, 'cert.pem'), id.certificatePem);
  writeFileSync(join(dir, 'key.pem'), id.privateKeyPem);
  writeFileSync(join(dir, 'file.bin'), fileBytes);
  server = await startServer({ port: 0, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), www: dir, quiet: true }, capture());
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('argument parsing', () => {
  it('reads options, flags and positionals', () => {
    const a = parseArgs(['--alpn', 'h3', '--chacha', 'https://x', '--bytes=5'], { alpn: 'string', chacha: 'boolean', bytes: 'string' });
    expect(a.options.get('alpn')).toBe('h3');
    expect(a.options.get('chacha')).toBe(true);
    expect(a.options.get('bytes')).toBe('5');
    expect(a.positionals).toEqual(['https://x']);
  });

  it('refuses unknown options and missing values', () => {
    expect(() => parseArgs(['--nope'], {})).toThrow(UsageError);
    expect(() => parseArgs(['--alpn'], { alpn: 'string' })).toThrow(/needs a value/);
  });

  it('parses sizes with decimal and binary suffixes', () => {
    expect(parseSize('1000', 'x')).toBe(1000);
    expect(parseSize('10M', 'x')).toBe(10_000_000);
    expect(parseSize('50Mi', 'x')).toBe(52_428_800);
    expect(() => parseSize('-1', 'x')).toThrow(UsageError);
    expect(() => parseSize('1.5M', 'x')).toThrow(UsageError);
  });

  it('formats the final line with MB = 10^6 bytes', () => {
    expect(transferLine('received', 104857600, 1.234)).toBe('received 104857600 bytes in 1.234 s: 84.97 MB/s');
  });
});

describe('progress display', () => {
  it('rewrites one line in place on a TTY and clears it when stopped', async () => {
    const io = capture(true);
    let n = 0;
    const p = new ProgressDisplay(io.stdout, () => (n += 250_000), 1_000_000, 10);
    p.start();
    await new Promise((r) => setTimeout(r, 60));
    p.stop();
    const out = io.out();
    expect(out.startsWith('\rprogress: ')).toBe(true);
    expect(out).not.toContain('\n');
    expect(out).toMatch(/\(\d+\.\d%\)/);
    expect(out.endsWith('\r\x1b[K')).toBe(true);
  });

  it('prints whole lines when not on a TTY', async () => {
    const io = capture(false);
    const p = new ProgressDisplay(io.stdout, () => 5_000_000, undefined, 10);
    p.start();
    await new Promise((r) => setTimeout(r, 45));
    p.stop();
    const lines = io.out().trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^progress: 5\.00 MB, \d+\.\d{2} MB\/s$/);
  });
});

describe('purequic client (in-process, against a purequic server)', () => {
  const url = (path: string) => `https://127.0.0.1:${server.port}${path}`;

  for (const alpn of ['perf', 'hq-interop', 'h3']) {
    it(`${alpn}: downloads, verifies and ends with the final line (exit 0)`, async () => {
      const io = capture();
      const code = await runCli(['client', '--alpn', alpn, '--ca', join(dir, 'cert.pem'), '--sha256', '--verify', url('/2000000')], io);
      expect(io.err()).toBe('');
      expect(code).toBe(0);
      const m = FINAL.exec(lastLine(io.out()));
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBe(2_000_000);
      expect(Number(m![3])).toBeGreaterThan(0);
      expect(io.out()).toContain(`sha256 ${bodyPatternSha256(2_000_000)}`);
      expect(io.out()).toContain(`ALPN ${alpn}`);
      expect(io.out()).toContain('server certificate verified');
    });
  }

  it('offers only ChaCha20-Poly1305 with --chacha, and writes --out', async () => {
    const io = capture();
    const out = join(dir, 'out.bin');
    const code = await runCli(['client', '--alpn', 'h3', '--chacha', '--out', out, url('/file.bin')], io);
    expect(code).toBe(0);
    expect(io.out()).toContain('TLS_CHACHA20_POLY1305_SHA256');
    expect(io.out()).toContain('NOT verified');
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(createHash('sha256').update(fileBytes).digest('hex'));
  });

  it('perf with --bytes and --upload reports both directions', async () => {
    const io = capture();
    const code = await runCli(['client', '--bytes', '1000', '--upload', '500k', '--quiet', url('/')], io);
    expect(code).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines[lines.length - 2]).toMatch(/^sent 500000 bytes in /);
    expect(lastLine(io.out())).toMatch(/^received 1000 bytes in /);
  });

  it('writes a qlog file per connection with --qlog-dir', async () => {
    const qdir = join(dir, 'qlog');
    const code = await runCli(['client', '--quiet', '--qlog-dir', qdir, url('/100000')], capture());
    expect(code).toBe(0);
    const files = readdirSync(qdir);
    expect(files.length).toBe(1);
    expect(files[0]).toMatch(/^[0-9a-f]{16}_client\.sqlog$/);
    const text = readFileSync(join(qdir, files[0]!), 'utf8');
    const records = text.split('\u001e').slice(1).map((r) => JSON.parse(r));
    expect(records[0].qlog_format).toBe('JSON-SEQ');
    expect(records.some((r) => r.name === 'transport:packet_received')).toBe(true);
    expect(records[records.length - 1].name).toBe('connectivity:connection_closed');
  });

  it('the server writes its own qlog file per connection, closed when the connection ends', async () => {
    const qdir = join(dir, 'qlog-server');
    const traced = await startServer({ port: 0, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), qlogDir: qdir, quiet: true }, capture());
    try {
      expect(await runCli(['client', '--quiet', '--alpn', 'h3', `https://127.0.0.1:${traced.port}/50000`], capture())).toBe(0);
      // The server's connection ends after its draining period (3 PTO).
      let text = '';
      for (let i = 0; i < 100 && !text.includes('connectivity:connection_closed'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        const f = readdirSync(qdir).find((n) => n.endsWith('_server.sqlog'));
        text = f ? readFileSync(join(qdir, f), 'utf8') : '';
      }
      const records = text.split('\u001e').slice(1).map((r) => JSON.parse(r));
      expect(records[0].trace.vantage_point.type).toBe('server');
      expect(records.some((r) => r.name === 'transport:packet_sent' && r.data.frames.some((f: { frame_type: string }) => f.frame_type === 'stream'))).toBe(true);
      expect(records[records.length - 1]).toMatchObject({ name: 'connectivity:connection_closed', data: { owner: 'remote' } });
    } finally {
      await traced.close();
    }
  });

  it('fails with exit 1 on a 404', async () => {
    const io = capture();
    expect(await runCli(['client', '--alpn', 'h3', '--quiet', url('/missing')], io)).toBe(1);
    expect(io.err()).toContain('HTTP status 404');
  });

  it('fails with exit 1 when --verify finds bytes that are not the generated pattern', async () => {
    const io = capture();
    expect(await runCli(['client', '--alpn', 'hq-interop', '--verify', '--quiet', url('/file.bin')], io)).toBe(1);
    expect(io.err()).toMatch(/verification failed: byte \d+ differs/);
  });

  it('fails with exit 1 when the server certificate is not trusted', async () => {
    const other = await selfSignedCertificate({ hosts: ['127.0.0.1'], now: Date.now() });
    writeFileSync(join(dir, 'other.pem'), other.certificatePem);
    const io = capture();
    expect(await runCli(['client', '--ca', join(dir, 'other.pem'), '--quiet', url('/10')], io)).toBe(1);
    expect(io.err()).toMatch(/handshake failed: connection closed \(transport CRYPTO_ERROR/);
  });

  it('fails with exit 1 and a timeout message when nobody answers', async () => {
    const io = capture();
    const started = Date.now();
    expect(await runCli(['client', '--timeout', '0.5', '--quiet', 'https://127.0.0.1:9/10'], io)).toBe(1);
    expect(io.err()).toContain('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('exits 2 with the usage on bad command lines', async () => {
    for (const argv of [['client'], ['client', 'http://127.0.0.1:1/1'], ['client', '--alpn', 'ftp', 'https://127.0.0.1:1/1'], ['frobnicate'], ['server', '--port', 'x']]) {
      const io = capture();
      expect(await runCli(argv, io)).toBe(2);
      expect(io.err()).toContain('usage: purequic client');
    }
  });

  it('prints help with exit 0', async () => {
    const io = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out()).toContain('usage: purequic server');
  });
});

describe('purequic demo (in-process)', () => {
  it('runs a verified transfer with a fresh certificate and ends with the final line', async () => {
    const io = capture();
    expect(await runCli(['demo', '--bytes', '3000000'], io)).toBe(0);
    expect(io.out()).toContain('server certificate verified');
    expect(io.out()).toContain('verified: all 3000000 bytes match the generated pattern');
    expect(lastLine(io.out())).toMatch(FINAL);
  });
});
