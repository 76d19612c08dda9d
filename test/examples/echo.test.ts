/**
 * The quicer examples: the echo server and client (examples/echo-server.ts, echo-client.ts)
 * in process over UDP loopback, and built with tsc and run as node processes as the README says
 * (the echo pair, and the README's quick start, examples/quick-start.ts).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEchoServer, type EchoServer } from '../../examples/echo-server.js';
import { echo } from '../../examples/echo-client.js';
import { Inbox, quicer, selfSignedCertificate } from '../../src/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('echo example, in process', () => {
  let server: EchoServer;
  beforeAll(async () => {
    server = await startEchoServer({ acceptors: 2 });
  });
  afterAll(() => server.stop());

  it('echoes a short message byte for byte', async () => {
    const answer = await echo('127.0.0.1', server.port, new TextEncoder().encode('hello quicer'));
    expect(new TextDecoder().decode(answer)).toBe('hello quicer');
  });

  it('echoes 300 kB (many packets, flow-control updates) unchanged', async () => {
    const message = new Uint8Array(300_000);
    for (let i = 0; i < message.length; i++) message[i] = (i * 7 + (i >> 9)) & 0xff;
    const answer = await echo('127.0.0.1', server.port, message, 10_000);
    expect(answer.length).toBe(message.length);
    expect(Buffer.compare(Buffer.from(answer), Buffer.from(message))).toBe(0);
  });

  it('serves more clients than it has acceptors: each acceptor that takes a connection is replaced', async () => {
    const words = ['one', 'two', 'three', 'four', 'five'];
    const answers: string[] = [];
    for (const w of words) answers.push(new TextDecoder().decode(await echo('127.0.0.1', server.port, new TextEncoder().encode(w))));
    expect(answers).toEqual(words);
  });

  it('serves as many simultaneous clients as it has acceptors', async () => {
    const words = ['left', 'right'];
    const answers = await Promise.all(words.map((w) => echo('127.0.0.1', server.port, new TextEncoder().encode(w))));
    expect(answers.map((a) => new TextDecoder().decode(a))).toEqual(words);
  });

  it('reports a failed connection: no ALPN in common gives alpn_neg_failure (376)', async () => {
    const id = await selfSignedCertificate({ hosts: ['127.0.0.1'], now: Date.now() });
    const r = await quicer.listen('127.0.0.1:0', { alpn: ['not-echo'], cert: id.certificatePem, key: id.privateKeyPem });
    if (r[0] !== 'ok') throw new Error(`listen: ${String(r[1])}`);
    const l = r[1];
    quicer.asyncAccept(l, new Inbox());
    try {
      await expect(echo('127.0.0.1', l.address().port, new Uint8Array([1]))).rejects.toThrow(/"status":"alpn_neg_failure","error":376/);
    } finally {
      await l.shutdown();
    }
  });
});

describe('echo example, built and run as node processes', () => {
  let out: string;
  beforeAll(() => {
    const cache = join(root, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    out = mkdtempSync(join(cache, 'purequic-examples-'));
    // Only the examples and what they import; type errors elsewhere must not stop the emit.
    writeFileSync(
      join(out, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: { rootDir: root, outDir: join(out, 'dist'), declaration: false, sourceMap: false },
        include: [join(root, 'examples')],
      }),
    );
    spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(out, 'tsconfig.json')], { cwd: root, stdio: 'ignore' });
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  function run(script: string, args: string[]): ChildProcess {
    return spawn(process.execPath, [join(out, 'dist/examples', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  it('node quick-start.js: the README quick start prints the echo and exits 0', async () => {
    const p = run('quick-start.js', []);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    expect(stderr).toBe('');
    // stream_send may answer before or after connected: the stream waits for the handshake.
    const lines = stdout.trimEnd().split('\n');
    expect([...lines].sort()).toEqual(['connected, ALPN echo', 'echo: hello quicer', 'stream_send: ["ok",12]']);
    expect(lines.at(-1)).toBe('echo: hello quicer');
    expect(code).toBe(0);
  });

  it('node echo-server.js and node echo-client.js: the client prints the echo and exits 0', async () => {
    expect(existsSync(join(out, 'dist/examples/echo-server.js'))).toBe(true);
    const server = run('echo-server.js', ['0']);
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let text = '';
        server.stdout!.on('data', (d) => {
          text += d;
          const m = /echo server listening on 127\.0\.0\.1:(\d+)/.exec(text);
          if (m) resolve(Number(m[1]));
        });
        server.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
      });
      const client = run('echo-client.js', ['127.0.0.1', String(port), 'hello', 'from', 'a', 'process']);
      let stdout = '';
      let stderr = '';
      client.stdout!.on('data', (d) => (stdout += d));
      client.stderr!.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => client.on('close', resolve));
      expect(stderr).toBe('');
      expect(stdout).toBe('echo: hello from a process\n');
      expect(code).toBe(0);
      const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      server.kill('SIGKILL');
    }
  });
});
