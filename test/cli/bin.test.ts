/**
 * The built executable: compiles the project (like `npm run build`, into a temporary directory)
 * and runs `node <out>/src/cli/main.js` as a user would: the no-argument demo, and a server
 * and client in separate processes.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
let out: string;
let main: string;

beforeAll(() => {
  // Inside the project, so the build resolves the project's dependencies from node_modules.
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  out = mkdtempSync(join(cache, 'purequic-bin-test-'));
  // Type errors elsewhere in a work-in-progress tree must not stop the emit; the file must exist.
  spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--outDir', out], { cwd: root, stdio: 'ignore' });
  main = join(out, 'src/cli/main.js');
}, 60_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

function run(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('node dist/src/cli/main.js', () => {
  it('was built', () => {
    expect(existsSync(main)).toBe(true);
  });

  it('with no arguments runs the demo: 50 MiB verified, final line, exit 0', async () => {
    const r = await run([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('server certificate verified');
    expect(r.stdout).toContain('verified: all 52428800 bytes match the generated pattern');
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(/^received 52428800 bytes in \d+\.\d{3} s: \d+\.\d{2} MB\/s$/);
  });

  it('serves in one process and downloads in another; SIGTERM stops the server with exit 0', async () => {
    const server: ChildProcess = spawn(process.execPath, [main, 'server', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let text = '';
        server.stdout!.on('data', (d) => {
          text += d;
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
          if (m) resolve(Number(m[1]));
        });
        server.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
      });
      const r = await run(['client', '--alpn', 'h3', '--verify', `https://127.0.0.1:${port}/5000000`]);
      expect(r.code).toBe(0);
      expect(r.stdout.trimEnd().split('\n').pop()).toMatch(/^received 5000000 bytes in /);
      const exited = new Promise<number | null>((resolve) => server.on('exit', (c) => resolve(c)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('exits 1 with a message when the connection fails', async () => {
    const r = await run(['client', '--timeout', '0.5', 'https://127.0.0.1:9/1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^purequic client: timeout/);
  });
});
