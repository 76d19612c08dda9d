/**
 * In-memory QUIC-profile handshakes between the client and server engines: every cipher suite ×
 * group × signature scheme, HelloRetryRequest (with and without cookie), client certificates,
 * custom verification, arbitrary byte splitting, key logging and exporters.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SignatureScheme } from '../../src/crypto/backend.js';
import { createTestPki, type CertificateKeyType } from '../../src/tls/certificate-authority.js';
import type { CipherSuiteName } from '../../src/tls/cipher-suites.js';
import { createTlsClient } from '../../src/tls/client.js';
import { createTlsServer } from '../../src/tls/server.js';
import { toHex } from '../../src/util/bytes.js';
import { CLIENT_TP, drainEvents, drainOutput, pairMismatches, quicPair, SERVER_TP, TlsPair, type TestIdentity } from '../support/tls-pair.js';

const NOW = 1_750_000_000_000;
const KEY_TYPES: [CertificateKeyType, number][] = [
  ['ecdsa-p256', SignatureScheme.ecdsa_secp256r1_sha256],
  ['ecdsa-p384', SignatureScheme.ecdsa_secp384r1_sha384],
  ['rsa-2048', SignatureScheme.rsa_pss_rsae_sha256],
  ['ed25519', SignatureScheme.ed25519],
];
const SUITES: CipherSuiteName[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const GROUPS = ['x25519', 'secp256r1'] as const;

const identities = new Map<CertificateKeyType, TestIdentity>();
let clientIdentity: TestIdentity;

beforeAll(async () => {
  for (const [type] of KEY_TYPES) {
    const pki = await createTestPki({ now: NOW, leafKeyType: type, hosts: ['localhost', '127.0.0.1'] });
    identities.set(type, { chain: pki.chain, privateKey: pki.leaf.privateKey, trusted: pki.trusted });
  }
  const c = await createTestPki({ now: NOW, hosts: ['client.test'] });
  clientIdentity = { chain: c.chain, privateKey: c.leaf.privateKey, trusted: c.trusted };
}, 60_000);

describe('full handshake matrix (QUIC profile, built-in chain verification)', () => {
  for (const suite of SUITES) {
    for (const group of GROUPS) {
      for (const [keyType, scheme] of KEY_TYPES) {
        it(`${suite} / ${group} / ${keyType}`, async () => {
          const pair = quicPair(identities.get(keyType)!, {
            client: { keyShareGroups: [group] },
            server: { cipherSuites: [suite], groups: [group] },
          });
          await pair.run();
          expect(pairMismatches(pair)).toEqual([]);
          for (const side of ['client', 'server'] as const) {
            expect(pair.last(side, 'handshakeComplete')).toMatchObject({
              cipherSuite: suite,
              group,
              signatureScheme: scheme,
              alpn: 'h3',
              resumed: false,
              earlyData: 'not-offered',
              serverName: 'localhost',
            });
            const secrets = pair.secrets(side);
            expect([...secrets.keys()].sort()).toEqual(['handshake/read', 'handshake/write', 'oneRtt/read', 'oneRtt/write']);
            expect(secrets.get('handshake/read')!.length).toBe(suite.endsWith('SHA384') ? 96 : 64);
          }
          const sec = pair.clientEvents.find((e) => e.type === 'secret');
          expect(sec?.type === 'secret' && sec.suite).toEqual(
            suite === 'TLS_AES_128_GCM_SHA256'
              ? { aead: 'aes-128-gcm', hash: 'sha256', hp: 'aes-128-ecb' }
              : suite === 'TLS_AES_256_GCM_SHA384'
                ? { aead: 'aes-256-gcm', hash: 'sha384', hp: 'aes-256-ecb' }
                : { aead: 'chacha20-poly1305', hash: 'sha256', hp: 'chacha20' },
          );
          expect(pair.last('client', 'peerCertificates')?.chain.map(toHex)).toEqual(identities.get(keyType)!.chain.map(toHex));
        });
      }
    }
  }
});

describe('negotiation', () => {
  it('the server picks the first suite of its own preference among those offered', async () => {
    const pair = quicPair(identities.get('ecdsa-p256')!, {
      client: { cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'] },
      server: { cipherSuites: ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'] },
    });
    await pair.run();
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('client', 'handshakeComplete')?.cipherSuite).toBe('TLS_CHACHA20_POLY1305_SHA256');
  });

  it('the server picks the first ALPN protocol of its own list that the client offered', async () => {
    const pair = quicPair(identities.get('ecdsa-p256')!, {
      client: { alpn: ['h3-29', 'h3', 'hq-interop'] },
      server: { alpn: ['hq-interop', 'h3'] },
    });
    await pair.run();
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('client', 'handshakeComplete')?.alpn).toBe('hq-interop');
    expect(pair.last('server', 'clientHello')).toEqual({ type: 'clientHello', serverName: 'localhost', alpn: ['h3-29', 'h3', 'hq-interop'] });
  });

  it('HelloRetryRequest when the client has no share for the server\'s preferred group', async () => {
    const pair = quicPair(identities.get('ecdsa-p256')!, {
      client: { keyShareGroups: ['x25519'] },
      server: { groups: ['secp384r1', 'x25519'] },
    });
    const initials: number[] = [];
    await pair.run({
      tamper: (from, level, data) => {
        if (level === 'initial') initials.push(from === 'client' ? 1 : 2);
        return data;
      },
    });
    expect(pairMismatches(pair)).toEqual([]);
    expect(initials).toEqual([1, 2, 1, 2]); // ClientHello, HRR, ClientHello, ServerHello
    expect(pair.last('client', 'handshakeComplete')?.group).toBe('secp384r1');
  });

  it('HelloRetryRequest with a cookie the client echoes', async () => {
    const seen: number[] = [];
    const pair = quicPair(identities.get('ed25519')!, {
      client: { keyShareGroups: ['x25519'] },
      server: { groups: ['secp256r1'], helloRetryCookie: (h) => (seen.push(h.length), Uint8Array.of(7, 7, 7, 7)) },
    });
    await pair.run();
    expect(pairMismatches(pair)).toEqual([]);
    expect(seen).toEqual([32]);
    expect(pair.last('server', 'handshakeComplete')?.group).toBe('secp256r1');
  });

  it('server name for an IP literal is not sent as SNI but still checked against the certificate', async () => {
    const pair = quicPair(identities.get('ecdsa-p256')!, { client: { serverName: '127.0.0.1' } });
    await pair.run();
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('server', 'clientHello')?.serverName).toBeUndefined();
    expect(pair.last('client', 'peerCertificates')?.request?.serverName).toBe('127.0.0.1');
  });

  it('selectCredentials sees SNI and ALPN and chooses the certificate', async () => {
    const infos: unknown[] = [];
    const pair = quicPair(identities.get('ecdsa-p384')!, {
      server: {
        credentials: undefined,
        selectCredentials: (info) => {
          infos.push({ sni: info.serverName, alpn: info.alpn });
          const id = identities.get('ecdsa-p384')!;
          return { certificateChain: id.chain, privateKey: id.privateKey };
        },
      },
    });
    await pair.run();
    expect(pairMismatches(pair)).toEqual([]);
    expect(infos).toEqual([{ sni: 'localhost', alpn: ['h3'] }]);
    expect(pair.last('client', 'handshakeComplete')?.signatureScheme).toBe(SignatureScheme.ecdsa_secp384r1_sha384);
  });
});

describe('certificates', () => {
  it('client certificates: the server requires one, the client presents it, the server verifies it against its CAs', async () => {
    const pair = quicPair(identities.get('ecdsa-p256')!, {
      client: { credentials: { certificateChain: clientIdentity.chain, privateKey: clientIdentity.privateKey } },
      server: { clientAuth: 'require', trustedCertificates: clientIdentity.trusted },
    });
    await pair.run();
    expect(pairMismatches(pair)).toEqual([]);
    const peer = pair.last('server', 'peerCertificates');
    expect(peer).toMatchObject({ verification: 'builtin', awaitingVerdict: true, request: { purpose: 'client' } });
    expect(pair.last('server', 'handshakeComplete')?.peerCertificates?.map(toHex)).toEqual(clientIdentity.chain.map(toHex));
  });

  it("client certificates: 'request' accepts a client without one", async () => {
    const pair = quicPair(identities.get('ecdsa-p256')!, {
      server: { clientAuth: 'request', trustedCertificates: clientIdentity.trusted },
    });
    await pair.run();
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('server', 'handshakeComplete')?.peerCertificates).toBeUndefined();
  });

  it('custom verification hands out the DER chain (leaf first) and waits for the verdict', async () => {
    const chains: string[][] = [];
    const pair = quicPair(identities.get('rsa-2048')!, { client: { verify: 'custom', trustedCertificates: undefined } });
    await pair.run({ verdict: (_side, e) => (chains.push(e.chain.map(toHex)), { ok: true }) });
    expect(pairMismatches(pair)).toEqual([]);
    expect(chains).toEqual([identities.get('rsa-2048')!.chain.map(toHex)]);
  });

  it("verify 'none' completes without a verdict and still reports the chain", async () => {
    const pair = quicPair(identities.get('ed25519')!, { client: { verify: 'none', trustedCertificates: undefined } });
    await pair.run();
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('client', 'peerCertificates')).toMatchObject({ verification: 'none', awaitingVerdict: false });
  });
});

describe('driving details', () => {
  it('bytes delivered one at a time, in order per level, give the same handshake', async () => {
    const id = identities.get('ecdsa-p256')!;
    const client = createTlsClient({ alpn: ['h3'], transportParameters: CLIENT_TP, serverName: 'localhost', verify: 'none' });
    const server = createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: { certificateChain: id.chain, privateKey: id.privateKey } });
    client.start(NOW);
    for (let round = 0; round < 4; round++) {
      for (const [src, dst] of [
        [client, server],
        [server, client],
      ] as const) {
        for (const o of drainOutput(src)) for (const b of o.data) dst.receive(o.level, Uint8Array.of(b), NOW);
      }
    }
    expect(client.isHandshakeComplete && server.isHandshakeComplete).toBe(true);
    const c = drainEvents(client).filter((e) => e.type === 'secret');
    const s = drainEvents(server).filter((e) => e.type === 'secret');
    expect(c.length).toBe(4);
    expect(s.length).toBe(4);
  });

  it('outputs come per level in order: the server flight is one initial chunk and one handshake chunk', () => {
    const id = identities.get('ecdsa-p256')!;
    const client = createTlsClient({ alpn: ['h3'], transportParameters: CLIENT_TP, verify: 'none' });
    const server = createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: { certificateChain: id.chain, privateKey: id.privateKey } });
    client.start(NOW);
    const ch = drainOutput(client);
    expect(ch.map((o) => o.level)).toEqual(['initial']);
    server.receive('initial', ch[0]!.data, NOW);
    const flight = drainOutput(server);
    expect(flight.map((o) => o.level)).toEqual(['initial', 'handshake']);
    expect(flight[1]!.data[0]).toBe(8); // EncryptedExtensions first
  });

  it('key log: both sides log the same five secrets with the client random', async () => {
    const clientLines: string[] = [];
    const serverLines: string[] = [];
    const pair = quicPair(identities.get('ecdsa-p256')!, {
      client: { keyLog: (l) => clientLines.push(l) },
      server: { keyLog: (l) => serverLines.push(l) },
    });
    await pair.run();
    expect(pairMismatches(pair)).toEqual([]);
    const labels = clientLines.map((l) => l.split(' ')[0]).sort();
    expect(labels).toEqual([
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'EXPORTER_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_TRAFFIC_SECRET_0',
    ]);
    expect([...serverLines].sort()).toEqual([...clientLines].sort());
    const hs = pair.secrets('client').get('handshake/write');
    expect(clientLines).toContain(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${clientLines[0]!.split(' ')[1]} ${hs}`);
    expect(clientLines[0]!.split(' ')[1]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('exporter is unavailable before the handshake secrets and differs by label and context', async () => {
    const pair = quicPair(identities.get('ecdsa-p256')!);
    expect(() => pair.client.exportKeyingMaterial('x', new Uint8Array(0), 16)).toThrow(TypeError);
    await pair.run();
    const a = pair.client.exportKeyingMaterial('EXPORTER-a', new Uint8Array(0), 16);
    const b = pair.client.exportKeyingMaterial('EXPORTER-b', new Uint8Array(0), 16);
    const c = pair.client.exportKeyingMaterial('EXPORTER-a', Uint8Array.of(1), 16);
    expect(a.length).toBe(16);
    expect(toHex(a)).not.toBe(toHex(b));
    expect(toHex(a)).not.toBe(toHex(c));
    expect(toHex(pair.server.exportKeyingMaterial('EXPORTER-a', new Uint8Array(0), 16))).toBe(toHex(a));
  });

  it('TCP profile (quic: false) needs neither ALPN nor transport parameters', async () => {
    const id = identities.get('ecdsa-p256')!;
    const client = createTlsClient({ quic: false, serverName: 'localhost', trustedCertificates: id.trusted });
    const server = createTlsServer({ quic: false, credentials: { certificateChain: id.chain, privateKey: id.privateKey } });
    const pair = new TlsPair(client, server, NOW);
    await pair.run();
    expect(pair.failure).toBeUndefined();
    expect(pair.last('client', 'handshakeComplete')).toMatchObject({ alpn: undefined });
    expect(pair.last('client', 'peerTransportParameters')).toBeUndefined();
  });

  it('configuration mistakes are TypeErrors naming the setting', () => {
    const id = identities.get('ecdsa-p256')!;
    expect(() => createTlsClient({ transportParameters: CLIENT_TP, verify: 'none' })).toThrow(/alpn/);
    expect(() => createTlsClient({ alpn: ['h3'], verify: 'none' })).toThrow(/transportParameters/);
    expect(() => createTlsClient({ alpn: ['h3'], transportParameters: CLIENT_TP })).toThrow(/trustedCertificates/);
    expect(() => createTlsClient({ alpn: ['h3'], transportParameters: CLIENT_TP, verify: 'none', cipherSuites: ['TLS_NULL' as CipherSuiteName] })).toThrow(
      /cipher suite/,
    );
    expect(() => createTlsClient({ alpn: ['h3'], transportParameters: CLIENT_TP, verify: 'none', keyShareGroups: ['secp384r1'], groups: ['x25519'] })).toThrow(
      /keyShareGroups/,
    );
    expect(() => createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP })).toThrow(/credentials/);
    const creds = { certificateChain: id.chain, privateKey: id.privateKey };
    expect(() => createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: creds, ticketLifetime: 604801 })).toThrow(/ticketLifetime/);
    expect(() => createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: creds, clientAuth: 'require' })).toThrow(/trustedCertificates/);
    const client = createTlsClient({ alpn: ['h3'], transportParameters: CLIENT_TP, verify: 'none' });
    expect(() => client.receive('sideways' as 'initial', new Uint8Array(1), NOW)).toThrow(TypeError);
    expect(() => client.completeCertificateVerification({ ok: true })).toThrow(TypeError);
    client.start(NOW);
    expect(() => client.start(NOW)).toThrow(TypeError);
    client.receive('oneRtt', new Uint8Array(0), NOW); // nothing to process, at any level

    const dup = createTlsClient({
      alpn: ['h3'],
      transportParameters: CLIENT_TP,
      verify: 'none',
      extensionHook: (_m, exts) => [...exts, exts[0]!],
    });
    expect(() => dup.start(NOW)).toThrow(/twice/);
    expect(dup.error?.tlsAlert).toBe(80);
  });

  it('a verdict must carry a TLS alert code', async () => {
    const pair = quicPair(identities.get('ecdsa-p256')!, { client: { verify: 'custom' } });
    let checked = false;
    await pair.run({
      verdict: () => {
        expect(pair.client.isAwaitingCertificateVerdict).toBe(true);
        expect(() => pair.client.completeCertificateVerification({ ok: false, alert: 300 })).toThrow(TypeError);
        expect(pair.client.isAwaitingCertificateVerdict).toBe(true);
        checked = true;
        return { ok: true };
      },
    });
    expect(checked).toBe(true);
    expect(pairMismatches(pair)).toEqual([]);
  });
});
