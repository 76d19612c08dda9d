/**
 * TLS handshake benchmark: `npm run bench:handshake`.
 *
 * A full in-memory QUIC-profile handshake between this stack's client and server engines
 * (x25519, ECDSA P-256 certificate, TLS_AES_128_GCM_SHA256): both sides' CPU time per
 * handshake from `process.cpuUsage`, measured over many iterations after a warm-up. Reported
 * for the engines alone (the client skips chain validation) and with the built-in chain
 * validation of a root → intermediate → leaf chain, and for a PSK resumption.
 */
import { createTestPki } from '../src/tls/certificate-authority.js';
import { createTlsClient, type TlsClient } from '../src/tls/client.js';
import { verifyPeerCertificates } from '../src/tls/engine.js';
import { createTlsServer, type TlsServer } from '../src/tls/server.js';
import { createTicketSealer } from '../src/tls/session.js';
import { defaultCrypto } from '../src/crypto/index.js';
import type { TlsClientConfig, TlsServerConfig } from '../src/tls/types.js';

const TP = Uint8Array.of(1, 2, 0x40, 0x64, 4, 4, 0x80, 0x10, 0, 0);
const WARMUP = 200;
const ITERATIONS = 1000;

/** Runs one handshake to completion; returns the client's session ticket when the server issues one. */
async function handshake(clientConfig: TlsClientConfig, serverConfig: TlsServerConfig, now: number, ticket: boolean): Promise<Uint8Array | undefined> {
  const client = createTlsClient(clientConfig);
  const server = createTlsServer(serverConfig);
  client.start(now);
  let session: Uint8Array | undefined;
  let ticketSent = false;
  for (;;) {
    let moved = pump(client, server, now) + pump(server, client, now);
    for (const [engine] of [[client], [server]] as const) {
      for (let e = engine.pollEvent(); e !== undefined; e = engine.pollEvent()) {
        if (e.type === 'peerCertificates' && e.awaitingVerdict) {
          await verifyPeerCertificates(engine, e);
          moved++;
        } else if (e.type === 'sessionTicket') session = e.session;
      }
    }
    if (ticket && !ticketSent && server.isHandshakeComplete) {
      server.sendSessionTicket(now);
      ticketSent = true;
      moved++;
    }
    if (moved === 0) break;
  }
  if (!client.isHandshakeComplete || !server.isHandshakeComplete) throw new Error('handshake did not complete');
  return session;
}

function pump(from: TlsClient | TlsServer, to: TlsClient | TlsServer, now: number): number {
  let n = 0;
  for (let o = from.pollOutput(); o !== undefined; o = from.pollOutput()) {
    to.receive(o.level, o.data, now);
    n++;
  }
  return n;
}

async function measure(name: string, run: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await run(i);
  const t0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) await run(i);
  const cpu = process.cpuUsage(t0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e6 / ITERATIONS;
  const ms = (cpu.user + cpu.system) / 1000 / ITERATIONS;
  console.log(`${name.padEnd(58)} ${ms.toFixed(3).padStart(7)} ms CPU / handshake  (${wall.toFixed(3)} ms wall)`);
  return ms;
}

async function main(): Promise<void> {
  const now = Date.now();
  const pki = await createTestPki({ now, hosts: ['localhost'], leafKeyType: 'ecdsa-p256', caKeyType: 'ecdsa-p256' });
  const credentials = { certificateChain: pki.chain, privateKey: pki.leaf.privateKey };
  const key = new Uint8Array(32);
  defaultCrypto.randomFill(key);
  const ticketSealer = createTicketSealer(defaultCrypto, key);
  const base = { alpn: ['h3'], transportParameters: TP, cipherSuites: ['TLS_AES_128_GCM_SHA256' as const], groups: ['x25519' as const] };
  const server: TlsServerConfig = { ...base, credentials, ticketSealer, earlyData: true };
  const clientNoVerify: TlsClientConfig = { ...base, serverName: 'localhost', verify: 'none' };
  const clientVerify: TlsClientConfig = { ...base, serverName: 'localhost', trustedCertificates: pki.trusted };

  console.log(`TLS 1.3 handshake, both sides in one process (x25519, ECDSA P-256, AES-128-GCM); ${ITERATIONS} iterations after ${WARMUP} warm-up`);
  const engines = await measure('full handshake, engines only (no chain validation)', () => handshake(clientNoVerify, server, now, false));
  await measure('full handshake + built-in chain validation (root→int→leaf)', () => handshake(clientVerify, server, now, false));
  const session = await handshake(clientNoVerify, server, now, true);
  await measure('PSK resumption (psk_dhe_ke) with 0-RTT accepted', () => handshake({ ...clientNoVerify, session }, server, now + 1000, false));
  console.log(engines < 10 ? `OK: ${engines.toFixed(3)} ms < 10 ms target` : `ABOVE TARGET: ${engines.toFixed(3)} ms >= 10 ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
