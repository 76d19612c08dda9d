/**
 * The TLS keys take effect, over UDP loopback between purequic's quicer client and server:
 * alpn (server preference, reported in connected props and getopt), verify + cacertfile
 * (trusted, untrusted, wrong name; server side client authentication), cert / certfile / key
 * / keyfile / password (the certificate the peer receives), custom_verify (the application's
 * verdict), sslkeylogfile (NSS key log, also after a failed verify),
 * tls_client_max_send_buffer / tls_server_max_send_buffer (a handshake flight above the
 * limit fails).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as quicer from '../../src/quicer/quicer.js';
import { Inbox } from '../../src/quicer/process.js';
import type { QuicConn } from '../../src/quicer/conn-handle.js';
import { createCertificate } from '../../src/tls/certificate-authority.js';
import { quicEvent, testPki, perTest } from './options-harness.js';

const { cleanup, server, client } = perTest();



/** Starts a client and returns its inbox without waiting for the handshake (for failures). */
async function attempt(port: number, opts: Record<string, unknown>): Promise<{ conn: QuicConn; events: Inbox }> {
  const events = new Inbox();
  const r = await quicer.asyncConnect('127.0.0.1', port, { alpn: ['opt-test'], verify: 'none', ...opts }, { owner: events });
  expect(r[0]).toBe('ok');
  const conn = r[1] as QuicConn;
  cleanup.push(async () => {
    quicer.asyncShutdownConnection(conn, 0, 0);
    events.exit('normal');
  });
  return { conn, events };
}

const der = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('alpn', () => {
  it('the server picks the first of its own protocols the client offered; both sides report it', async () => {
    const s = await server({ alpn: ['second', 'first'] });
    const c = await client(s.port, { alpn: ['first', 'other', 'second'] });
    expect((await quicEvent(c.events, 'connected'))[3]).toEqual({ is_resumed: false, alpns: 'second' });
    expect((await quicEvent(s.events, 'connected'))[3]).toMatchObject({ alpns: 'second' });
    expect(quicer.getopt(c.conn, 'negotiated_alpn', 'quic_tls')).toEqual(['ok', 'second']);
    expect(quicer.getopt(s.conns[0]!, 'negotiated_alpn', 'quic_tls')).toEqual(['ok', 'second']);
    expect(quicer.negotiatedProtocol(c.conn)).toEqual(['ok', 'second']);
    const nc = (await quicEvent(s.events, 'new_conn'))[3] as { alpns: string; client_alpns: readonly string[] };
    expect(nc.alpns).toBe('second');
    expect(nc.client_alpns).toEqual(['first', 'other', 'second']);
  });

  it('no protocol in common: the client gets alpn_neg_failure (376) and the server no new connection', async () => {
    const s = await server({ alpn: ['a'] });
    const c = await attempt(s.port, { alpn: ['b'] });
    expect((await quicEvent(c.events, 'transport_shutdown'))[3]).toEqual({ status: 'alpn_neg_failure', error: 376 });
    expect(s.conns).toEqual([]);
  });
});

describe('verify and cacertfile (client)', () => {
  it('verify_peer with the issuing CA in cacertfile: connected, and the server certificate is the peer certificate', async () => {
    const f = await testPki();
    const s = await server();
    const c = await client(s.port, { verify: 'verify_peer', cacertfile: f.cacertfile });
    expect(quicer.peercert(c.conn)).toEqual(['ok', f.pki.leaf.certificate]);
  });

  it('verify_peer with a CA that did not issue it, or with no cacertfile (system roots): cert_untrusted_root', async () => {
    const f = await testPki();
    const s = await server();
    for (const opts of [{ cacertfile: f.otherCacertfile }, {}]) {
      const c = await attempt(s.port, { verify: 'verify_peer', ...opts });
      expect((await quicEvent(c.events, 'transport_shutdown'))[3]).toEqual({ status: 'cert_untrusted_root', error: 0x100 + 48 });
    }
  });

  it('verify_peer checks the name: a certificate for another host is a bad_certificate', async () => {
    const f = await testPki();
    const other = await createCertificate({ now: Date.now(), commonName: 'example.test', hosts: ['example.test'], issuer: f.pki.intermediate });
    const s = await server({ certfile: undefined, keyfile: undefined, cert: other.certificatePem + f.pki.intermediate.certificatePem, key: other.privateKeyPem });
    const c = await attempt(s.port, { verify: 'verify_peer', cacertfile: f.cacertfile });
    expect((await quicEvent(c.events, 'transport_shutdown'))[3]).toEqual({ status: 'bad_certificate', error: 0x100 + 42 });
  });

  it('verify none (the default) accepts any certificate', async () => {
    const f = await testPki();
    const s = await server();
    const c = await client(s.port, { cacertfile: f.otherCacertfile });
    expect((await quicEvent(c.events, 'connected'))[1]).toBe('connected');
  });
});

describe('client certificates: cert / certfile / key / keyfile / password, and the server verify', () => {
  it('certfile + keyfile, cert (PEM bytes) + key (DER) and an encrypted keyfile + password each present the client certificate', async () => {
    const f = await testPki();
    const s = await server({ verify: 'verify_peer', cacertfile: f.cacertfile });
    const variants = [
      { certfile: f.clientCertfile, keyfile: f.clientKeyfile },
      { cert: new TextEncoder().encode(f.client.certificatePem + f.pki.intermediate.certificatePem), key: f.client.privateKey },
      { certfile: f.clientCertfile, keyfile: f.clientEncryptedKeyfile, password: f.password },
    ];
    for (const [i, v] of variants.entries()) {
      await client(s.port, v);
      await quicEvent(s.events, 'connected');
      expect(der((quicer.peercert(s.conns[i]!) as ['ok', Uint8Array])[1])).toBe(der(f.client.certificate));
    }
  });

  it('a server with verify_peer refuses a client without a certificate, and one whose CA it does not trust', async () => {
    const f = await testPki();
    const s = await server({ verify: 'verify_peer', cacertfile: f.otherCacertfile });
    const noCert = await attempt(s.port, {});
    const t1 = (await quicEvent(noCert.events, 'transport_shutdown'))[3] as { error: number };
    expect(t1.error).toBe(0x100 + 116); // certificate_required
    const untrusted = await attempt(s.port, { certfile: f.clientCertfile, keyfile: f.clientKeyfile });
    expect((await quicEvent(untrusted.events, 'transport_shutdown'))[3]).toEqual({ status: 'cert_untrusted_root', error: 0x100 + 48 });
  });

  it('a client that authenticated with a certificate resumes with its ticket, and the server still knows its certificate (QUICER.md §5.18)', async () => {
    const f = await testPki();
    const s = await server({ verify: 'verify_peer', cacertfile: f.cacertfile, server_resumption_level: 1 });
    const first = await client(s.port, { certfile: f.clientCertfile, keyfile: f.clientKeyfile, quic_event_mask: 1 });
    const ticket = (await quicEvent(first.events, 'nst_received'))[3] as Uint8Array;
    const again = await client(s.port, { certfile: f.clientCertfile, keyfile: f.clientKeyfile, nst: ticket });
    expect((await quicEvent(again.events, 'connected'))[3]).toMatchObject({ is_resumed: true });
    await quicEvent(s.events, 'connected');
    const [, , resumed, props] = await quicEvent(s.events, 'connected');
    expect(resumed).toBe(s.conns[1]);
    expect(props).toMatchObject({ is_resumed: true });
    expect(der((quicer.peercert(s.conns[1]!) as ['ok', Uint8Array])[1])).toBe(der(f.client.certificate));
  });

  it('a server without verify asks for no certificate: the client presents none', async () => {
    const f = await testPki();
    const s = await server();
    await client(s.port, { certfile: f.clientCertfile, keyfile: f.clientKeyfile });
    await quicEvent(s.events, 'connected');
    expect(quicer.peercert(s.conns[0]!)).toEqual(['error', 'no_peercert']);
  });
});

describe('custom_verify', () => {
  it('client: peer_cert_received with [leaf, chain]; the handshake waits for the verdict; accepted → connected', async () => {
    const f = await testPki();
    const s = await server();
    const c = await attempt(s.port, { custom_verify: true });
    const m = await quicEvent(c.events, 'peer_cert_received');
    const [leaf, chain] = m[3] as [Uint8Array, Uint8Array[]];
    expect(der(leaf)).toBe(der(f.pki.leaf.certificate));
    expect(chain.map(der)).toEqual([der(f.pki.leaf.certificate), der(f.pki.intermediate.certificate)]);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.conn.handshakeCompleted).toBe(false);
    expect(quicer.completeCertValidation(c.conn, true)).toEqual(['ok']);
    await quicEvent(c.events, 'connected');
  });

  it('a verdict when none is pending is invalid_state and harms nothing; a bad verdict or alert is a caller error', async () => {
    const s = await server();
    const c = await attempt(s.port, { custom_verify: true });
    expect(quicer.completeCertValidation(c.conn, true)).toEqual(['error', 'invalid_state']); // not asked yet
    await quicEvent(c.events, 'peer_cert_received');
    expect(() => quicer.completeCertValidation(c.conn, false, 0xffff)).toThrow(RangeError);
    expect(() => quicer.completeCertValidation(c.conn, 'yes' as unknown as boolean)).toThrow(TypeError);
    expect(quicer.completeCertValidation(c.conn, true)).toEqual(['ok']);
    expect(quicer.completeCertValidation(c.conn, false)).toEqual(['error', 'invalid_state']); // given already
    await quicEvent(c.events, 'connected');
    const plain = await client(s.port);
    expect(quicer.completeCertValidation(plain.conn, false)).toEqual(['error', 'invalid_state']);
    expect(plain.conn.closed).toBe(false);
  });

  it('client: rejected with alert 42 → the server sees 298 (bad_certificate)', async () => {
    const s = await server();
    const c = await attempt(s.port, { custom_verify: true });
    await quicEvent(c.events, 'peer_cert_received');
    quicer.completeCertValidation(c.conn, false, 42);
    expect((await quicEvent(s.events, 'transport_shutdown'))[3]).toEqual({ status: 'bad_certificate', error: 298 });
  });

  it('custom_verify overrides a failing built-in check: the application may accept an untrusted chain', async () => {
    const f = await testPki();
    const s = await server();
    const c = await attempt(s.port, { custom_verify: true, verify: 'verify_peer', cacertfile: f.otherCacertfile });
    await quicEvent(c.events, 'peer_cert_received');
    quicer.completeCertValidation(c.conn, true);
    await quicEvent(c.events, 'connected');
  });

  it('server (listener option): demands a client certificate and asks the acceptor', async () => {
    const f = await testPki();
    let sconn: QuicConn | undefined;
    const s = await server({ custom_verify: true }, { onNewConn: (c) => ((sconn = c), quicer.asyncHandshake(c)) });
    const c = await attempt(s.port, { certfile: f.clientCertfile, keyfile: f.clientKeyfile });
    const m = await quicEvent(s.events, 'peer_cert_received');
    expect(der((m[3] as [Uint8Array])[0])).toBe(der(f.client.certificate));
    quicer.completeCertValidation(sconn!, true);
    await quicEvent(c.events, 'connected');
    await quicEvent(s.events, 'connected');
  });
});

describe('sslkeylogfile', () => {
  const LINE = /^(CLIENT_EARLY_TRAFFIC_SECRET|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,96}$/;

  it('client and listener write NSS key-log lines after the header; both sides log the same secrets', async () => {
    const f = await testPki();
    const cpath = join(f.dir, 'client-keys.log');
    const spath = join(f.dir, 'server-keys.log');
    const s = await server({ sslkeylogfile: spath });
    await client(s.port, { sslkeylogfile: cpath });
    await quicEvent(s.events, 'connected');
    const cl = readFileSync(cpath, 'utf8').trimEnd().split('\n');
    const sl = readFileSync(spath, 'utf8').trimEnd().split('\n');
    expect(cl[0]).toBe('# TLS 1.3 secrets log file');
    expect(sl[0]).toBe('# TLS 1.3 secrets log file');
    for (const l of [...cl.slice(1), ...sl.slice(1)]) expect(l).toMatch(LINE);
    const labels = cl.slice(1).map((l) => l.split(' ')[0]).sort();
    expect(labels).toEqual(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'EXPORTER_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0']);
    expect([...sl.slice(1)].sort()).toEqual([...cl.slice(1)].sort());
    // A second connection appends (one header per file).
    await client(s.port, { sslkeylogfile: cpath });
    const again = readFileSync(cpath, 'utf8').trimEnd().split('\n');
    expect(again.filter((l) => l.startsWith('#'))).toHaveLength(1);
    expect(again).toHaveLength(1 + 2 * labels.length);
  });

  it('the file is written also when the certificate check fails', async () => {
    const f = await testPki();
    const path = join(f.dir, 'failed-keys.log');
    const s = await server();
    const c = await attempt(s.port, { sslkeylogfile: path, verify: 'verify_peer', cacertfile: f.otherCacertfile });
    await quicEvent(c.events, 'transport_shutdown');
    expect(existsSync(path)).toBe(true);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('# TLS 1.3 secrets log file');
    expect(lines.slice(1).map((l) => l.split(' ')[0])).toEqual(expect.arrayContaining(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET']));
  });
});

describe('tls_client_max_send_buffer / tls_server_max_send_buffer', () => {
  it('a client certificate flight above tls_client_max_send_buffer fails the handshake; the default is big enough', async () => {
    const f = await testPki();
    const s = await server({ verify: 'verify_peer', cacertfile: f.cacertfile });
    const small = await attempt(s.port, { certfile: f.clientCertfile, keyfile: f.clientKeyfile, tls_client_max_send_buffer: 300 });
    expect((await quicEvent(small.events, 'transport_shutdown'))[3]).toEqual({ status: 'internal_error', error: 1 });
    await client(s.port, { certfile: f.clientCertfile, keyfile: f.clientKeyfile });
    expect(quicer.getopt(s.conns.at(-1)!, 'settings')).toMatchObject(['ok', { tls_server_max_send_buffer: 8192 }]);
  });

  it('a server flight above tls_server_max_send_buffer fails the handshake', async () => {
    const s = await server({ tls_server_max_send_buffer: 500 });
    const c = await attempt(s.port, {});
    const t = (await quicEvent(c.events, 'transport_shutdown'))[3] as { error: number; status: unknown };
    expect(t).toEqual({ status: 'internal_error', error: 1 });
    const ok = await server({ tls_server_max_send_buffer: 8192 });
    await client(ok.port);
  });
});
