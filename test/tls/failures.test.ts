/**
 * Failing handshakes end on the right side with the exact TLS alert (as CRYPTO_ERROR
 * 0x100 + alert) or QUIC transport error, and malformed input never throws anything but
 * QuicError.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestPki } from '../../src/tls/certificate-authority.js';
import { createTlsClient } from '../../src/tls/client.js';
import { ExtensionType, type Extension } from '../../src/tls/extensions.js';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeClientHello,
  decodeEncryptedExtensions,
  decodeKeyUpdate,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeClientHello,
  encodeKeyUpdate,
  encodeNewSessionTicket,
  encodeServerHello,
  HandshakeType,
} from '../../src/tls/messages.js';
import { createTlsServer } from '../../src/tls/server.js';
import { QuicError, TransportError } from '../../src/transport/errors.js';
import { concatBytes } from '../../src/util/bytes.js';
import type { EncryptionLevel } from '../../src/tls/types.js';
import { CLIENT_TP, drainOutput, quicPair, SERVER_TP, type Side, type TestIdentity, type TlsPair } from '../support/tls-pair.js';

const NOW = 1_750_000_000_000;
let id: TestIdentity;
let other: TestIdentity;

beforeAll(async () => {
  const pki = await createTestPki({ now: NOW, hosts: ['localhost'] });
  id = { chain: pki.chain, privateKey: pki.leaf.privateKey, trusted: pki.trusted };
  const o = await createTestPki({ now: NOW, hosts: ['client.test'] });
  other = { chain: o.chain, privateKey: o.leaf.privateKey, trusted: o.trusted };
}, 60_000);

function expectAlert(pair: TlsPair, side: Side, alert: number): void {
  expect(pair.failure?.error).toBeInstanceOf(QuicError);
  expect({ side: pair.failure?.side, alert: pair.failure?.error.tlsAlert }).toEqual({ side, alert });
  expect(pair.failure!.error.code).toBe(0x100 + alert);
}

/** Splits a chunk into whole handshake messages. */
function messages(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; ) {
    const len = (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!;
    out.push(data.slice(o, o + 4 + len));
    o += 4 + len;
  }
  return out;
}

/** Rewrites the messages of one sender at one level. */
function rewrite(from: Side, level: EncryptionLevel, fn: (msgs: Uint8Array[]) => Uint8Array[]) {
  return (f: Side, l: EncryptionLevel, data: Uint8Array) => (f === from && l === level ? concatBytes(...fn(messages(data))) : data);
}

/** Rewrites the first ClientHello's extension list. */
function rewriteClientHello(fn: (exts: Extension[]) => Extension[], sessionId?: Uint8Array) {
  let done = false;
  return rewrite('client', 'initial', ([ch]) => {
    if (done) return [ch!];
    done = true;
    const m = decodeClientHello(ch!.subarray(4));
    return [encodeClientHello({ ...m, extensions: fn([...m.extensions]), ...(sessionId ? { legacySessionId: sessionId } : {}) })];
  });
}

describe('certificate failures', () => {
  it('untrusted CA → unknown_ca (48) at the client', async () => {
    const pair = quicPair(id, { client: { trustedCertificates: other.trusted } });
    await pair.run();
    expectAlert(pair, 'client', 48);
  });

  it('expired certificate → certificate_expired (45) at the client', async () => {
    const pair = quicPair(id, {}, NOW + 400 * 86_400_000);
    await pair.run();
    expectAlert(pair, 'client', 45);
  });

  it('wrong host name → bad_certificate (42) at the client', async () => {
    const pair = quicPair(id, { client: { serverName: 'example.com' } });
    await pair.run();
    expectAlert(pair, 'client', 42);
  });

  it('custom verification rejecting with bad_certificate (42) ends the client with 42', async () => {
    const pair = quicPair(id, { client: { verify: 'custom' } });
    await pair.run({ verdict: () => ({ ok: false, alert: 42, reason: 'pinned key mismatch' }) });
    expectAlert(pair, 'client', 42);
    expect(pair.failure!.error.reason).toBe('pinned key mismatch');
    expect(() => pair.client.receive('handshake', new Uint8Array(1), NOW)).toThrow(pair.failure!.error);
  });

  it('missing client certificate when required → certificate_required (116) at the server', async () => {
    const pair = quicPair(id, { server: { clientAuth: 'require', trustedCertificates: other.trusted } });
    await pair.run();
    expectAlert(pair, 'server', 116);
  });

  it('client certificate from an untrusted CA → unknown_ca (48) at the server', async () => {
    const pair = quicPair(id, {
      client: { credentials: { certificateChain: other.chain, privateKey: other.privateKey } },
      server: { clientAuth: 'require', trustedCertificates: id.trusted },
    });
    await pair.run();
    expectAlert(pair, 'server', 48);
  });

  it('tampered server CertificateVerify → decrypt_error (51) at the client', async () => {
    const pair = quicPair(id);
    await pair.run({
      tamper: rewrite('server', 'handshake', (msgs) =>
        msgs.map((m) => {
          if (m[0] !== HandshakeType.certificate_verify) return m;
          const t = m.slice();
          t[t.length - 5]! ^= 0x01;
          return t;
        }),
      ),
    });
    expectAlert(pair, 'client', 51);
  });

  it('tampered server Finished → decrypt_error (51) at the client', async () => {
    const pair = quicPair(id);
    await pair.run({ tamper: rewrite('server', 'handshake', (msgs) => msgs.map((m) => (m[0] === HandshakeType.finished ? flipLast(m) : m))) });
    expectAlert(pair, 'client', 51);
  });

  it('tampered client Finished → decrypt_error (51) at the server', async () => {
    const pair = quicPair(id);
    await pair.run({ tamper: rewrite('client', 'handshake', (msgs) => msgs.map(flipLast)) });
    expectAlert(pair, 'server', 51);
  });

  it('CertificateVerify with a scheme the client did not offer → illegal_parameter (47)', async () => {
    const pair = quicPair(id, { client: { signatureSchemes: [0x0804] } });
    await pair.run();
    // The server has only an ECDSA key: it cannot sign with anything the client offered.
    expectAlert(pair, 'server', 40);
    const forced = quicPair(id, { client: { signatureSchemes: [0x0804, 0x0403] } });
    await forced.run({
      tamper: rewrite('server', 'handshake', (msgs) =>
        msgs.map((m) => {
          if (m[0] !== HandshakeType.certificate_verify) return m;
          const t = m.slice();
          t[4] = 0x05; // ecdsa_secp384r1_sha384: not offered
          return t;
        }),
      ),
    });
    expectAlert(forced, 'client', 47);
  });
});

function flipLast(m: Uint8Array): Uint8Array {
  const t = m.slice();
  t[t.length - 1]! ^= 0x80;
  return t;
}

describe('negotiation failures', () => {
  it('ALPN mismatch → no_application_protocol (120) at the server', async () => {
    const pair = quicPair(id, { server: { alpn: ['hq-interop'] } });
    await pair.run();
    expectAlert(pair, 'server', 120);
  });

  it('server EncryptedExtensions without ALPN → no_application_protocol (120) at the client', async () => {
    const pair = quicPair(id, {
      server: { extensionHook: (_m, exts) => exts.filter((e) => e.type !== ExtensionType.application_layer_protocol_negotiation) },
    });
    await pair.run();
    expectAlert(pair, 'client', 120);
  });

  it('no group in common → handshake_failure (40) at the server', async () => {
    const pair = quicPair(id, { client: { groups: ['x25519', 'secp256r1'] }, server: { groups: ['secp384r1'] } });
    await pair.run();
    expectAlert(pair, 'server', 40);
  });

  it('no cipher suite in common → handshake_failure (40) at the server', async () => {
    const pair = quicPair(id, { client: { cipherSuites: ['TLS_AES_128_GCM_SHA256'] }, server: { cipherSuites: ['TLS_AES_256_GCM_SHA384'] } });
    await pair.run();
    expectAlert(pair, 'server', 40);
  });

  it('ClientHello without TLS 1.3 in supported_versions → protocol_version (70)', async () => {
    const pair = quicPair(id);
    await pair.run({
      tamper: rewriteClientHello((exts) =>
        exts.map((e) => (e.type === ExtensionType.supported_versions ? { type: e.type, data: Uint8Array.of(2, 3, 3) } : e)),
      ),
    });
    expectAlert(pair, 'server', 70);
  });

  it('ClientHello without quic_transport_parameters → missing_extension (109)', async () => {
    const pair = quicPair(id);
    await pair.run({ tamper: rewriteClientHello((exts) => exts.filter((e) => e.type !== ExtensionType.quic_transport_parameters)) });
    expectAlert(pair, 'server', 109);
  });

  it('EncryptedExtensions without quic_transport_parameters → missing_extension (109) at the client', async () => {
    const pair = quicPair(id, { server: { extensionHook: (_m, exts) => exts.filter((e) => e.type !== ExtensionType.quic_transport_parameters) } });
    await pair.run();
    expectAlert(pair, 'client', 109);
  });

  it('ClientHello without key_share → missing_extension (109)', async () => {
    const pair = quicPair(id);
    await pair.run({ tamper: rewriteClientHello((exts) => exts.filter((e) => e.type !== ExtensionType.key_share)) });
    expectAlert(pair, 'server', 109);
  });

  it('non-empty legacy_session_id in QUIC → PROTOCOL_VIOLATION', async () => {
    const pair = quicPair(id);
    await pair.run({ tamper: rewriteClientHello((exts) => exts, Uint8Array.of(1, 2, 3, 4)) });
    expect(pair.failure?.side).toBe('server');
    expect(pair.failure?.error.code).toBe(TransportError.PROTOCOL_VIOLATION);
  });

  it('server choosing a cipher suite the client did not offer → illegal_parameter (47)', async () => {
    const pair = quicPair(id, { client: { cipherSuites: ['TLS_AES_128_GCM_SHA256'] } });
    await pair.run({
      tamper: rewrite('server', 'initial', ([sh]) => {
        const m = decodeServerHello(sh!.subarray(4));
        return [encodeServerHello({ ...m, cipherSuite: 0x1303 })];
      }),
    });
    expectAlert(pair, 'client', 47);
  });

  it('unsolicited extension in EncryptedExtensions → unsupported_extension (110)', async () => {
    const pair = quicPair(id, { server: { extensionHook: (_m, exts) => [...exts, { type: 0x1234, data: new Uint8Array(0) }] } });
    await pair.run();
    expectAlert(pair, 'client', 110);
  });

  it('extension not allowed in EncryptedExtensions (key_share) → illegal_parameter (47)', async () => {
    const pair = quicPair(id, {
      server: { extensionHook: (_m, exts) => [...exts, { type: ExtensionType.key_share, data: Uint8Array.of(0, 0x1d, 0, 1, 1) }] },
    });
    await pair.run();
    expectAlert(pair, 'client', 47);
  });
});

describe('malformed and out-of-order messages', () => {
  it('duplicated extension in ClientHello → illegal_parameter (47)', async () => {
    const pair = quicPair(id);
    await pair.run({
      tamper: rewriteClientHello((exts) => {
        const alpn = exts.find((e) => e.type === ExtensionType.application_layer_protocol_negotiation)!;
        return [alpn, ...exts];
      }),
    });
    expectAlert(pair, 'server', 47);
  });

  it('pre_shared_key not last in ClientHello → illegal_parameter (47)', async () => {
    const pair = quicPair(id);
    await pair.run({
      tamper: rewriteClientHello((exts) => [
        { type: ExtensionType.pre_shared_key, data: Uint8Array.of(0, 7, 0, 1, 1, 0, 0, 0, 0, 0, 0x21, 0x20, ...new Uint8Array(32)) },
        ...exts,
      ]),
    });
    expectAlert(pair, 'server', 47);
  });

  it('truncated ClientHello body → decode_error (50)', () => {
    const server = createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: { certificateChain: id.chain, privateKey: id.privateKey } });
    expect(() => server.receive('initial', Uint8Array.of(1, 0, 0, 5, 3, 3, 0, 0, 0), NOW)).toThrow(expect.objectContaining({ tlsAlert: 50 }));
  });

  it('ServerHello with a broken extensions length → decode_error (50) at the client', async () => {
    const pair = quicPair(id);
    await pair.run({
      tamper: rewrite('server', 'initial', ([sh]) => {
        const t = sh!.slice();
        t[4 + 2 + 32 + 1 + 2 + 1] = 0xff; // high byte of the extensions length
        return [t];
      }),
    });
    expectAlert(pair, 'client', 50);
  });

  it('an empty server Certificate → decode_error (50)', async () => {
    const pair = quicPair(id);
    await pair.run({
      tamper: rewrite('server', 'handshake', (msgs) =>
        msgs.map((m) => (m[0] === HandshakeType.certificate ? Uint8Array.of(HandshakeType.certificate, 0, 0, 4, 0, 0, 0, 0) : m)),
      ),
    });
    expectAlert(pair, 'client', 50);
  });

  it('Finished before EncryptedExtensions → unexpected_message (10)', async () => {
    const pair = quicPair(id);
    await pair.run({ tamper: rewrite('server', 'handshake', (msgs) => [msgs[msgs.length - 1]!, ...msgs.slice(0, -1)]) });
    expectAlert(pair, 'client', 10);
  });

  it('a second HelloRetryRequest → unexpected_message (10)', async () => {
    let hrr: Uint8Array | undefined;
    const pair = quicPair(id, { client: { keyShareGroups: ['x25519'] }, server: { groups: ['secp256r1', 'x25519'] } });
    await pair.run({
      tamper: rewrite('server', 'initial', (msgs) => {
        if (hrr === undefined) return [(hrr = msgs[0]!)];
        return [hrr];
      }),
    });
    expectAlert(pair, 'client', 10);
  });

  it('handshake bytes at the wrong level → unexpected_message (10); CRYPTO at 0-RTT → PROTOCOL_VIOLATION', () => {
    const client = createTlsClient({ alpn: ['h3'], transportParameters: CLIENT_TP, verify: 'none' });
    client.start(NOW);
    expect(() => client.receive('handshake', Uint8Array.of(8, 0, 0, 2, 0, 0), NOW)).toThrow(expect.objectContaining({ tlsAlert: 10 }));
    const server = createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: { certificateChain: id.chain, privateKey: id.privateKey } });
    expect(() => server.receive('zeroRtt', Uint8Array.of(5, 0, 0, 0), NOW)).toThrow(expect.objectContaining({ code: TransportError.PROTOCOL_VIOLATION }));
    const s2 = createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: { certificateChain: id.chain, privateKey: id.privateKey } });
    expect(() => s2.receive('initial', Uint8Array.of(20, 0, 0, 32, ...new Uint8Array(32)), NOW)).toThrow(expect.objectContaining({ tlsAlert: 10 }));
  });

  it('ServerHello followed by more bytes at the initial level → unexpected_message (10)', async () => {
    const pair = quicPair(id);
    await pair.run({ tamper: rewrite('server', 'initial', ([sh]) => [sh!, Uint8Array.of(8, 0, 0, 2, 0, 0)]) });
    expectAlert(pair, 'client', 10);
  });

  it('post-handshake: KeyUpdate → unexpected_message (10); NewSessionTicket with max_early_data ≠ 0xffffffff → PROTOCOL_VIOLATION', async () => {
    const a = quicPair(id);
    await a.run();
    expect(() => a.client.receive('oneRtt', encodeKeyUpdate({ requestUpdate: 0 }), NOW)).toThrow(expect.objectContaining({ tlsAlert: 10 }));
    const b = quicPair(id);
    await b.run();
    const nst = encodeNewSessionTicket({
      lifetime: 100,
      ageAdd: 1,
      nonce: Uint8Array.of(0),
      ticket: Uint8Array.of(1),
      extensions: [{ type: ExtensionType.early_data, data: Uint8Array.of(0, 0, 0x40, 0) }],
    });
    expect(() => b.client.receive('oneRtt', nst, NOW)).toThrow(expect.objectContaining({ code: TransportError.PROTOCOL_VIOLATION }));
    const c = quicPair(id);
    await c.run();
    const long = encodeNewSessionTicket({ lifetime: 604801, ageAdd: 1, nonce: Uint8Array.of(0), ticket: Uint8Array.of(1), extensions: [] });
    expect(() => c.client.receive('oneRtt', long, NOW)).toThrow(expect.objectContaining({ tlsAlert: 47 }));
    expect(() => c.server.receive('oneRtt', Uint8Array.of(4, 0, 0, 0), NOW)).toThrow(expect.objectContaining({ tlsAlert: 10 }));
  });

  it('a failure is latched: later calls rethrow the same error', () => {
    const server = createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: { certificateChain: id.chain, privateKey: id.privateKey } });
    let first: unknown;
    try {
      server.receive('initial', Uint8Array.of(2, 0, 0, 0), NOW);
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(QuicError);
    expect(() => server.receive('initial', new Uint8Array(0), NOW)).toThrow(first as Error);
    expect(server.error).toBe(first);
    expect(drainOutput(server)).toEqual([]);
  });
});

describe('random input only ever raises QuicError', () => {
  const decoders = [
    decodeClientHello,
    decodeServerHello,
    decodeEncryptedExtensions,
    decodeCertificate,
    decodeCertificateRequest,
    decodeCertificateVerify,
    decodeNewSessionTicket,
    decodeKeyUpdate,
  ];

  it('message decoders', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: decoders.length - 1 }), (b, i) => {
        try {
          decoders[i]!(b);
        } catch (e) {
          expect(e).toBeInstanceOf(QuicError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('engines fed arbitrary bytes at their current level', () => {
    const server0 = () =>
      createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: { certificateChain: id.chain, privateKey: id.privateKey } });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(1, 2, 8, 11, 15, 20), (b, type) => {
        const msg = concatBytes(Uint8Array.of(type, 0, (b.length >> 8) & 0xff, b.length & 0xff), b);
        const server = server0();
        const client = createTlsClient({ alpn: ['h3'], transportParameters: CLIENT_TP, verify: 'none' });
        client.start(NOW);
        for (const [engine, level] of [
          [server, 'initial'],
          [client, 'initial'],
        ] as const) {
          try {
            engine.receive(level, msg, NOW);
          } catch (e) {
            expect(e).toBeInstanceOf(QuicError);
            expect((e as QuicError).reason).not.toMatch(/internal error/);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a real ClientHello with any single byte changed never raises anything but QuicError', () => {
    const client = createTlsClient({ alpn: ['h3'], transportParameters: CLIENT_TP, verify: 'none', serverName: 'localhost' });
    client.start(NOW);
    const ch = drainOutput(client)[0]!.data;
    fc.assert(
      fc.property(fc.integer({ min: 4, max: ch.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const t = ch.slice();
        t[pos]! ^= x;
        const server = createTlsServer({ alpn: ['h3'], transportParameters: SERVER_TP, credentials: { certificateChain: id.chain, privateKey: id.privateKey } });
        try {
          server.receive('initial', t, NOW);
        } catch (e) {
          expect(e).toBeInstanceOf(QuicError);
          expect((e as QuicError).reason).not.toMatch(/internal error/);
        }
      }),
      { numRuns: 300 },
    );
  });
});
