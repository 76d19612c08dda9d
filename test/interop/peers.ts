/**
 * Running the interop peers of /work/shared/peers (ngtcp2, quiche) as child processes on
 * loopback: where they are, whether they are installed, free ports, waiting for a UDP port to
 * be bound, and stopping them. Tests fail (never skip) when a peer is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The peer scripts (shared, read-only; run in place, never copied). */
export const PEERS_SCRIPTS = fileURLToPath(new URL('../../../shared/peers/', import.meta.url));
/** Where install.sh put the peers. */
export const PEERS_DIR = process.env['PEERS_DIR'] ?? '/tmp/peers';
export const PEER_CERT = join(PEERS_DIR, 'certs', 'cert.pem');
export const PEER_KEY = join(PEERS_DIR, 'certs', 'key.pem');

/** What is missing for the interop tests, or an empty list. */
export function missingPeers(): string[] {
  const missing: string[] = [];
  if (!existsSync(join(PEERS_SCRIPTS, 'install.sh'))) missing.push(`peer scripts (${PEERS_SCRIPTS})`);
  if (!['/usr/bin/gtlsclient', '/usr/sbin/gtlsserver'].every((f) => existsSync(f))) missing.push('ngtcp2 (gtlsclient/gtlsserver)');
  if (!existsSync(join(PEERS_DIR, 'npm', 'node_modules', '@matrixai', 'quic', 'package.json'))) missing.push(`quiche (@matrixai/quic in ${PEERS_DIR}/npm)`);
  if (!existsSync(PEER_CERT) || !existsSync(PEER_KEY)) missing.push(`peer certificate (${PEERS_DIR}/certs)`);
  return missing;
}

/** Throws with the fix when a peer is missing (call from beforeAll: the tests then fail, not skip). */
export function requirePeers(): void {
  const missing = missingPeers();
  if (missing.length > 0) {
    throw new Error(`interop peers not installed: ${missing.join(', ')}. Run ../shared/peers/install.sh (as root; PEERS_DIR=${PEERS_DIR}).`);
  }
}

/** A UDP port that was free a moment ago. */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function udpPortBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      const lines = readFileSync(f, 'utf8').split('\n').slice(1);
      if (lines.some((l) => (l.trim().split(/\s+/)[1] ?? '').endsWith(hex.trim()))) return true;
    } catch {
      // not Linux: fall back to the caller's timeout
    }
  }
  return false;
}

/** A running peer process with its collected output. */
export interface PeerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code (null when killed). */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts a peer (a script of the peers directory, or node with a script) with output captured. */
export function startPeer(command: string, args: readonly string[], env: Record<string, string> = {}): PeerProcess {
  const child = spawn(command, [...args], { env: { ...process.env, PEERS_DIR, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid!, 'SIGTERM'); // the process group: scripts exec or spawn the real peer
      } catch {
        child.kill('SIGTERM');
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 2000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Waits until something has bound UDP `port` (the server is ready), or throws with the peer's output. */
export async function waitForUdpPort(port: number, peer: PeerProcess, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (udpPortBound(port)) return;
    if (peer.child.exitCode !== null) throw new Error(`peer exited (${peer.child.exitCode}) before binding port ${port}:\n${peer.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`peer did not bind UDP port ${port} within ${timeoutMs} ms:\n${peer.output()}`);
}

/** Runs a peer client to completion; resolves with its exit code, output and wall time. */
export async function runPeerClient(command: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<{ code: number | null; output: string; seconds: number }> {
  const started = performance.now();
  const p = startPeer(command, args, env);
  const t = setTimeout(() => void p.stop(), timeoutMs);
  const code = await p.exited;
  clearTimeout(t);
  return { code, output: p.output(), seconds: (performance.now() - started) / 1000 };
}

/** Prints one line of the interop matrix (vitest shows it with the test output). */
export function report(line: string): void {
  console.log(`[interop] ${line}`);
}
