/**
 * Goodput on loopback: 100 MiB over one connection, purequic client → purequic server in two
 * processes (the `perf` protocol: the client asks for N bytes, the server sends them), against
 * node:tls over TCP (../shared/peers/node-tls-bench.mjs) in the same run. Prints MB/s of each,
 * the ratio, and CPU seconds per side.
 *
 * Usage: npm run bench:goodput [-- --bytes N] [--runs K] [--mtu N]
 *   --mtu N caps path MTU discovery at N bytes of UDP payload (e.g. 1452, an Ethernet path);
 *   by default DPLPMTUD finds the loopback limit (65507), as it would on any path that large.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuicEndpoint } from '../src/endpoint/index.js';
import type { EndpointConnection } from '../src/endpoint/index.js';
import { selfSignedCertificate } from '../src/tls/certificate-authority.js';
import { readCertificateChainFile, readPrivateKeyFile } from '../src/tls/credential-files.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
function opt(name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
}

/** `--mtu N`: cap path MTU discovery at N bytes of UDP payload (default: the loopback limit). */
const mtuArg = opt('mtu', '');
const mtuTransport = mtuArg ? { mtuDiscoveryMax: Number(mtuArg) } : {};

const CHUNK = new Uint8Array(256 * 1024).map((_, i) => (i * 31) & 0xff);

/** perf server: answers each bidi stream's 8-byte request with that many bytes and FIN. */
async function server(port: number, cert: string, key: string): Promise<void> {
  const ep = await QuicEndpoint.bind({
    host: '127.0.0.1',
    port,
    server: {
      tls: { alpn: ['perf'], credentials: { certificateChain: readCertificateChainFile(cert), privateKey: readPrivateKeyFile(key) } },
      transport: mtuTransport,
    },
  });
  let serverCpu0: NodeJS.CpuUsage | undefined;
  ep.onConnection = (c: EndpointConnection) => {
    const heads = new Map<number, Uint8Array[]>();
    c.setEventHandler((e) => {
      if (e.type === 'streamReadable') {
        const parts = heads.get(e.streamId) ?? [];
        heads.set(e.streamId, parts);
        for (;;) {
          const r = c.read(e.streamId);
          if (r === undefined || (r.data.length === 0 && !r.fin)) break;
          parts.push(r.data);
          if (r.fin) {
            serverCpu0 = process.cpuUsage();
            const head = Buffer.concat(parts);
            let n = Number(head.readBigUInt64BE(0));
            // Queue everything at once: the stream keeps the chunks by reference.
            while (n > 0) {
              const len = Math.min(n, CHUNK.length);
              c.write(e.streamId, len === CHUNK.length ? CHUNK : CHUNK.subarray(0, len), n === len);
              n -= len;
            }
            break;
          }
        }
      } else if (e.type === 'closed') {
        const cpu = process.cpuUsage(serverCpu0);
        process.stdout.write(`SERVERCPU ${((cpu.user + cpu.system) / 1e6).toFixed(3)} user=${(cpu.user / 1e6).toFixed(3)} sys=${(cpu.system / 1e6).toFixed(3)}\n`);
        if (process.env.PUREQUIC_BENCH_DEBUG) {
          const conn = c.conn;
          process.stderr.write(
            `server: ${JSON.stringify(conn.stats)} tx=${JSON.stringify(conn.transmitter.stats)} cwnd=${conn.cc.congestionWindow} ` +
              `srtt=${conn.rtt.smoothedRtt.toFixed(2)} lost=${conn.recovery.packetsLost} spurious=${conn.recovery.spuriousLosses} ep=${JSON.stringify(ep.stats)}\n`,
          );
        }
      }
    });
  };
  process.on('SIGINT', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`READY ${ep.address().port}\n`);
}

/** perf client: requests `bytes` and reads them; prints a RESULT line. */
async function client(port: number, bytes: number): Promise<void> {
  const win = Number(process.env.PUREQUIC_BENCH_WINDOW ?? 0);
  const ep = await QuicEndpoint.bind({
    host: '127.0.0.1',
    transport: { ...mtuTransport, ...(win > 0 ? { maxConnectionWindow: win, maxStreamWindow: win, initialMaxData: win } : {}) },
  });
  const c = ep.connect('127.0.0.1', port, { tls: { alpn: ['perf'], serverName: 'localhost', verify: 'none' } });
  await c.handshake();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const id = c.openStream(true)!;
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    c.setEventHandler((e) => {
      if (e.type === 'streamReadable' && e.streamId === id) {
        for (;;) {
          const r = c.readSegment(id);
          if (r === undefined) return;
          got += r.data.length;
          if (r.fin) return resolve();
          if (r.data.length === 0) return;
        }
      } else if (e.type === 'closed') reject(new Error(`closed: ${e.info.reason}`));
    });
  });
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, BigInt(bytes));
  c.write(id, head, true);
  await done;
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const st = c.conn.stats;
  process.stdout.write(
    `RESULT impl=purequic bytes=${got} secs=${secs.toFixed(3)} MBps=${(got / 1e6 / secs).toFixed(1)} cpu=${((cpu.user + cpu.system) / 1e6).toFixed(3)} ` +
      `user=${(cpu.user / 1e6).toFixed(3)} sys=${(cpu.system / 1e6).toFixed(3)} ` +
      `pkts_in=${st.packetsReceived} mtu=${c.conn.maxDatagramSize}\n`,
  );
  c.close(0, 'done');
  await ep.close();
}

interface Proc {
  lines: string[];
  wait(prefix: string): Promise<string>;
  kill(): void;
  exited: Promise<number>;
}

function run(cmd: string, argv: string[]): Proc {
  const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<[string, (l: string) => void]> = [];
  let buf = '';
  p.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of waiters.slice()) if (line.startsWith(w[0])) (waiters.splice(waiters.indexOf(w), 1), w[1](line));
    }
  });
  const exited = new Promise<number>((r) => p.on('exit', (code) => r(code ?? 1)));
  return {
    lines,
    wait: (prefix) => {
      const l = lines.find((x) => x.startsWith(prefix));
      if (l) return Promise.resolve(l);
      return new Promise((r) => waiters.push([prefix, r]));
    },
    kill: () => p.kill(),
    exited,
  };
}

function field(line: string, name: string): number {
  const m = new RegExp(`${name}=([0-9.]+)`).exec(line);
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  const mode = args[0];
  if (mode === 'server') return server(Number(opt('port', '0')), opt('cert', ''), opt('key', ''));
  if (mode === 'client') return client(Number(opt('port', '0')), Number(opt('bytes', String(100 * 1024 * 1024))));

  const bytes = Number(opt('bytes', String(100 * 1024 * 1024)));
  const runs = Number(opt('runs', '1'));
  const dir = mkdtempSync(join(tmpdir(), 'purequic-bench-'));
  const id = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1'], now: Date.now() });
  writeFileSync(join(dir, 'cert.pem'), id.certificatePem);
  writeFileSync(join(dir, 'key.pem'), id.privateKeyPem);
  const self = join(here, 'goodput.js');
  const tlsBench = join(here, '..', '..', '..', 'shared', 'peers', 'node-tls-bench.mjs');
  const results: Array<{ quic: number; tls: number; cpuC: number; cpuS: number }> = [];
  for (let r = 0; r < runs; r++) {
    // purequic, two processes.
    const mtu = mtuArg ? ['--mtu', mtuArg] : [];
    const srv = run(process.execPath, [self, 'server', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'), ...mtu]);
    const port = Number((await srv.wait('READY')).split(' ')[1]);
    const cli = run(process.execPath, [self, 'client', '--port', String(port), '--bytes', String(bytes), ...mtu]);
    const res = await Promise.race([cli.wait('RESULT'), cli.exited.then((c) => `FAILED exit ${c}`)]);
    const srvCpu = await Promise.race([srv.wait('SERVERCPU'), new Promise<string>((r) => setTimeout(() => r('SERVERCPU NaN'), 3000))]);
    srv.kill();
    console.log(res, `server_cpu=${srvCpu.split(' ').slice(1).join(' ')}`);
    // node:tls over TCP, two processes.
    const tport = 20000 + Math.floor(Math.random() * 20000);
    const tsrv = run(process.execPath, [tlsBench, 'server', '--port', String(tport), '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')]);
    await new Promise((r) => setTimeout(r, 300));
    const tcli = run(process.execPath, [tlsBench, 'client', '--port', String(tport), '--bytes', String(bytes)]);
    const tres = await Promise.race([tcli.wait('RESULT'), tcli.exited.then((c) => `FAILED exit ${c}`)]);
    tsrv.kill();
    console.log(tres);
    results.push({ quic: field(res, 'MBps'), tls: field(tres, 'MBps'), cpuC: field(res, 'cpu'), cpuS: Number(srvCpu.split(' ')[1]) });
  }
  for (const x of results) {
    console.log(
      `purequic ${x.quic.toFixed(1)} MB/s, node:tls ${x.tls.toFixed(1)} MB/s, ratio ${(x.quic / x.tls).toFixed(3)}; ` +
        `CPU client ${x.cpuC.toFixed(2)} s, server ${x.cpuS.toFixed(2)} s`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
