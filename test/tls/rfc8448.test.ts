/**
 * The engines reproduce RFC 8448 (TLS-over-TCP profile, `quic: false`). Randomness, ephemeral
 * keys and the (salted, hence random) RSA-PSS signatures come from a scripted CryptoBackend.
 * The RFC's ClientHellos carry extensions the client does not compose (renegotiation_info,
 * session_ticket, record_size_limit, padding, and group/scheme lists with algorithms it does not
 * implement): the client's `extensionHook` supplies those bodies and the RFC's order; every
 * other byte of the hellos (random, suites, server_name, key_share, supported_versions,
 * psk_key_exchange_modes, early_data, cookie, pre_shared_key with the obfuscated age and the
 * binder) is composed by the engine. Likewise the server's hook adds the RFC's supported_groups
 * and record_size_limit to EncryptedExtensions; the server composes the rest.
 */
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../../src/crypto/node-backend.js';
import { createTlsClient, type TlsClient } from '../../src/tls/client.js';
import { certificateVerifyContent } from '../../src/tls/engine.js';
import { ExtensionType, type Extension } from '../../src/tls/extensions.js';
import { resumptionPsk } from '../../src/tls/key-schedule.js';
import { decodeClientHello, decodeEncryptedExtensions, encodeNewSessionTicket, type ClientHello } from '../../src/tls/messages.js';
import { createTlsServer, type TlsServer } from '../../src/tls/server.js';
import { decodeClientSession, decodeTicketState, type TicketSealer } from '../../src/tls/session.js';
import type { HookedMessage } from '../../src/tls/types.js';
import { concatBytes, equalBytes, fromHex, toHex } from '../../src/util/bytes.js';
import { drainEvents, drainOutput, loadVectors, rfc8448RsaKey, scriptedCrypto, secretsOf } from '../support/tls-pair.js';

const simple = loadVectors('rfc8448-simple-1rtt.json');
const resumed = loadVectors('rfc8448-resumed-0rtt.json');
const hrr = loadVectors('rfc8448-hrr.json');
const h = (s: string | undefined): Uint8Array => fromHex(s!);

const RSA_KEY = rfc8448RsaKey();
const CERT = h(simple.server_certificate_der);
const T0 = 1_700_000_000_000;

/** Extension types of the RFC's ClientHellos the client composes itself (everything else comes from the hook). */
const COMPOSED_BY_CLIENT = new Set<number>([
  ExtensionType.server_name,
  ExtensionType.key_share,
  ExtensionType.supported_versions,
  ExtensionType.psk_key_exchange_modes,
  ExtensionType.early_data,
  ExtensionType.cookie,
]);

/** Returns the RFC hello's extensions in the RFC's order: engine-composed ones from the engine, the others from the RFC. */
function rfcClientHelloHook(...hellos: ClientHello[]) {
  let call = 0;
  return (message: HookedMessage, exts: Extension[]): Extension[] => {
    if (message !== 'client_hello') return exts;
    const rfc = hellos[call++]!;
    return rfc.extensions
      .filter((e) => e.type !== ExtensionType.pre_shared_key)
      .map((r) => {
        if (!COMPOSED_BY_CLIENT.has(r.type)) return r;
        const mine = exts.find((e) => e.type === r.type);
        if (mine === undefined) throw new Error(`engine did not compose extension ${r.type}`);
        return mine;
      });
  };
}

/** The server hook prepends the RFC EncryptedExtensions' supported_groups and record_size_limit. */
function rfcEncryptedExtensionsHook(eeHex: string) {
  const rfc = decodeEncryptedExtensions(fromHex(eeHex).subarray(4)).extensions;
  const extra = rfc.filter((e) => e.type === ExtensionType.supported_groups || e.type === ExtensionType.record_size_limit);
  return (message: HookedMessage, exts: Extension[]): Extension[] => (message === 'encrypted_extensions' ? [...extra, ...exts] : exts);
}

/** A sealer that hands out the RFC's ticket and remembers the plaintext it stands for. */
function rfcTicketSealer(ticketHex: string): TicketSealer & { plaintext?: Uint8Array } {
  const ticket = fromHex(ticketHex);
  const sealer: TicketSealer & { plaintext?: Uint8Array } = {
    seal(plaintext) {
      sealer.plaintext = plaintext;
      return ticket;
    },
    open(t) {
      return equalBytes(t, ticket) ? sealer.plaintext : undefined;
    },
  };
  return sealer;
}

function keyLogged(lines: string[], label: string): string | undefined {
  const line = lines.find((l) => l.startsWith(label + ' '));
  return line?.split(' ')[2];
}

function cvSignature(cvHex: string): Uint8Array {
  return fromHex(cvHex).subarray(8); // type(1) len(3) scheme(2) siglen(2)
}

const ticketSealer = rfcTicketSealer(simple.ticket!);
let ticketIssuedAt = 0;
let section3TicketPlaintext: Uint8Array | undefined;

/** A sealer that opens the RFC ticket to the §3 server's ticket plaintext. */
function section3Sealer(): TicketSealer & { plaintext?: Uint8Array } {
  const sealer = rfcTicketSealer(simple.ticket!);
  sealer.plaintext = section3TicketPlaintext;
  return sealer;
}
let clientSession: Uint8Array | undefined;

describe('RFC 8448 §3 simple 1-RTT handshake', () => {
  it('server: the RFC ClientHello yields the RFC ServerHello, server flight, every secret and the NewSessionTicket', () => {
    const crypto = scriptedCrypto(nodeBackend, {
      random: [h(simple.server_random), h(simple.ticket_age_add)],
      keyShares: [{ group: 'x25519', privateKey: h(simple.server_x25519_private) }],
      signatures: [{ content: h(simple.certificate_verify_signed_content), signature: cvSignature(simple.certificate_verify!) }],
    });
    const keyLog: string[] = [];
    const server = createTlsServer({
      crypto,
      quic: false,
      credentials: { certificateChain: [CERT], privateKey: RSA_KEY },
      extensionHook: rfcEncryptedExtensionsHook(simple.encrypted_extensions!),
      ticketSealer,
      ticketLifetime: 30,
      earlyData: true,
      maxEarlyDataSize: 1024,
      keyLog: (l) => keyLog.push(l),
    });
    server.receive('initial', h(simple.client_hello), T0);
    const out = drainOutput(server);
    expect(out.map((o) => o.level)).toEqual(['initial', 'handshake']);
    expect(toHex(out[0]!.data)).toBe(simple.server_hello);
    const flight = concatBytes(h(simple.encrypted_extensions), h(simple.certificate), h(simple.certificate_verify), h(simple.server_finished));
    expect(toHex(out[1]!.data)).toBe(toHex(flight));
    let secrets = secretsOf(drainEvents(server));
    expect(secrets.get('handshake/write')).toBe(simple.server_handshake_traffic_secret);
    expect(secrets.get('handshake/read')).toBe(simple.client_handshake_traffic_secret);
    expect(secrets.get('oneRtt/write')).toBe(simple.server_application_traffic_secret_0);
    expect(keyLogged(keyLog, 'EXPORTER_SECRET')).toBe(simple.exporter_master_secret);
    expect(keyLogged(keyLog, 'SERVER_TRAFFIC_SECRET_0')).toBe(simple.server_application_traffic_secret_0);
    expect(keyLog[0]!.split(' ')[1]).toBe(simple.client_random);

    server.receive('handshake', h(simple.client_finished), T0 + 1);
    const events = drainEvents(server);
    secrets = secretsOf(events);
    expect(secrets.get('oneRtt/read')).toBe(simple.client_application_traffic_secret_0);
    const done = events.find((e) => e.type === 'handshakeComplete');
    expect(done).toMatchObject({ resumed: false, earlyData: 'not-offered', cipherSuite: 'TLS_AES_128_GCM_SHA256', serverName: 'server' });

    ticketIssuedAt = T0 + 2;
    expect(server.sendSessionTicket(ticketIssuedAt)).toBe(true);
    const nst = drainOutput(server);
    expect(nst).toEqual([{ level: 'oneRtt', data: h(simple.new_session_ticket) }]);
    section3TicketPlaintext = ticketSealer.plaintext;
    const state = decodeTicketState(ticketSealer.plaintext!)!;
    expect(toHex(state.psk)).toBe(simple.resumption_psk);
    expect(state).toMatchObject({ cipherSuite: 0x1301, lifetime: 30, ageAdd: 0xfad6aac5, maxEarlyData: 1024, serverName: 'server' });
    expect(crypto.remaining()).toBe(0);
  });

  it('client: composes the RFC ClientHello, accepts the RFC server flight, derives every secret, turns the ticket into the RFC PSK', () => {
    const crypto = scriptedCrypto(nodeBackend, {
      random: [h(simple.client_random)],
      keyShares: [{ group: 'x25519', privateKey: h(simple.client_x25519_private) }],
    });
    const keyLog: string[] = [];
    const client = createTlsClient({
      crypto,
      quic: false,
      serverName: 'server',
      cipherSuites: [0x1301, 0x1303, 0x1302],
      verify: 'none',
      extensionHook: rfcClientHelloHook(decodeClientHello(h(simple.client_hello).subarray(4))),
      keyLog: (l) => keyLog.push(l),
    });
    client.start(T0);
    expect(drainOutput(client)).toEqual([{ level: 'initial', data: h(simple.client_hello) }]);
    client.receive('initial', h(simple.server_hello), T0);
    let secrets = secretsOf(drainEvents(client));
    expect(secrets.get('handshake/read')).toBe(simple.server_handshake_traffic_secret);
    expect(secrets.get('handshake/write')).toBe(simple.client_handshake_traffic_secret);
    const flight = concatBytes(h(simple.encrypted_extensions), h(simple.certificate), h(simple.certificate_verify), h(simple.server_finished));
    client.receive('handshake', flight, T0);
    expect(drainOutput(client)).toEqual([{ level: 'handshake', data: h(simple.client_finished) }]);
    const events = drainEvents(client);
    secrets = secretsOf(events);
    expect(secrets.get('oneRtt/read')).toBe(simple.server_application_traffic_secret_0);
    expect(secrets.get('oneRtt/write')).toBe(simple.client_application_traffic_secret_0);
    expect(keyLogged(keyLog, 'EXPORTER_SECRET')).toBe(simple.exporter_master_secret);
    expect(keyLogged(keyLog, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET')).toBe(simple.client_handshake_traffic_secret);
    const certs = events.find((e) => e.type === 'peerCertificates');
    expect(certs).toMatchObject({ verification: 'none', awaitingVerdict: false });
    expect(certs?.type === 'peerCertificates' && toHex(certs.chain[0]!)).toBe(simple.server_certificate_der);
    expect(events.find((e) => e.type === 'handshakeComplete')).toMatchObject({ resumed: false, alpn: undefined });

    client.receive('oneRtt', h(simple.new_session_ticket), T0 + 100);
    const ticket = drainEvents(client).find((e) => e.type === 'sessionTicket');
    expect(ticket).toMatchObject({ lifetime: 30, maxEarlyData: 1024 });
    clientSession = ticket?.type === 'sessionTicket' ? ticket.session : undefined;
    const session = decodeClientSession(clientSession!);
    expect(toHex(session.psk)).toBe(simple.resumption_psk);
    expect(toHex(session.ticket)).toBe(simple.ticket);
    expect(session).toMatchObject({ ageAdd: 0xfad6aac5, lifetime: 30, receivedAt: T0 + 100, serverName: 'server', cipherSuite: 0x1301 });
    expect(crypto.remaining()).toBe(0);
  });

  it('client with a custom verifier suspends after CertificateVerify and resumes with the buffered Finished', () => {
    const crypto = scriptedCrypto(nodeBackend, {
      random: [h(simple.client_random)],
      keyShares: [{ group: 'x25519', privateKey: h(simple.client_x25519_private) }],
    });
    const client = createTlsClient({
      crypto,
      quic: false,
      serverName: 'server',
      cipherSuites: [0x1301, 0x1303, 0x1302],
      verify: 'custom',
      extensionHook: rfcClientHelloHook(decodeClientHello(h(simple.client_hello).subarray(4))),
    });
    client.start(T0);
    drainOutput(client);
    client.receive('initial', h(simple.server_hello), T0);
    // The flight arrives in two pieces: the second (with the Finished) while the verdict is pending.
    const flight = concatBytes(h(simple.encrypted_extensions), h(simple.certificate), h(simple.certificate_verify), h(simple.server_finished));
    const cut = flight.length - 20;
    client.receive('handshake', flight.subarray(0, cut), T0);
    const req = drainEvents(client).find((e) => e.type === 'peerCertificates');
    expect(req).toMatchObject({ verification: 'custom', awaitingVerdict: true });
    expect(client.isAwaitingCertificateVerdict).toBe(true);
    client.receive('handshake', flight.subarray(cut), T0);
    expect(drainOutput(client)).toEqual([]);
    client.completeCertificateVerification({ ok: true });
    expect(drainOutput(client)).toEqual([{ level: 'handshake', data: h(simple.client_finished) }]);
    expect(client.isHandshakeComplete).toBe(true);
  });
});

describe('RFC 8448 §4 resumed 0-RTT handshake', () => {
  it('client: resumes the §3 session with the RFC ClientHello (binder included), 0-RTT secret, EndOfEarlyData and Finished', () => {
    expect(clientSession).toBeDefined();
    const crypto = scriptedCrypto(nodeBackend, {
      random: [h(resumed.client_random)],
      keyShares: [{ group: 'x25519', privateKey: h(resumed.client_x25519_private) }],
    });
    const keyLog: string[] = [];
    const client: TlsClient = createTlsClient({
      crypto,
      quic: false,
      serverName: 'server',
      cipherSuites: [0x1301, 0x1303, 0x1302],
      verify: 'none',
      session: clientSession!,
      extensionHook: rfcClientHelloHook(decodeClientHello(h(resumed.client_hello).subarray(4))),
      keyLog: (l) => keyLog.push(l),
    });
    // The ticket arrived at T0 + 100; the RFC's obfuscated age says 6 ms later.
    client.start(T0 + 106);
    expect(drainOutput(client)).toEqual([{ level: 'initial', data: h(resumed.client_hello) }]);
    let secrets = secretsOf(drainEvents(client));
    expect(secrets.get('zeroRtt/write')).toBe(resumed.client_early_traffic_secret);
    expect(keyLogged(keyLog, 'EARLY_EXPORTER_SECRET')).toBe(resumed.early_exporter_master_secret);

    client.receive('initial', h(resumed.server_hello), T0 + 110);
    secrets = secretsOf(drainEvents(client));
    expect(secrets.get('handshake/read')).toBe(resumed.server_handshake_traffic_secret);
    expect(secrets.get('handshake/write')).toBe(resumed.client_handshake_traffic_secret);
    client.receive('handshake', concatBytes(h(resumed.encrypted_extensions), h(resumed.server_finished)), T0 + 110);
    expect(drainOutput(client)).toEqual([
      { level: 'zeroRtt', data: h(resumed.end_of_early_data) },
      { level: 'handshake', data: h(resumed.client_finished) },
    ]);
    const events = drainEvents(client);
    secrets = secretsOf(events);
    expect(secrets.get('oneRtt/read')).toBe(resumed.server_application_traffic_secret_0);
    expect(secrets.get('oneRtt/write')).toBe(resumed.client_application_traffic_secret_0);
    expect(keyLogged(keyLog, 'EXPORTER_SECRET')).toBe(resumed.exporter_master_secret);
    expect(events.find((e) => e.type === 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'accepted' });

    // resumption_master_secret, observed through the PSK of a ticket (nonce 00 00).
    const nonce = Uint8Array.of(0, 0);
    client.receive('oneRtt', encodeNewSessionTicket({ lifetime: 30, ageAdd: 1, nonce, ticket: Uint8Array.of(9), extensions: [] }), T0 + 200);
    const ev = drainEvents(client).find((e) => e.type === 'sessionTicket');
    const psk = decodeClientSession(ev?.type === 'sessionTicket' ? ev.session : new Uint8Array()).psk;
    expect(toHex(psk)).toBe(toHex(resumptionPsk(nodeBackend, 'sha256', h(resumed.resumption_master_secret), nonce)));
  });

  it('server: accepts the §3 ticket and early data, answers with the RFC ServerHello and flight, derives every secret', () => {
    expect(section3TicketPlaintext).toBeDefined();
    const sealer = section3Sealer();
    const crypto = scriptedCrypto(nodeBackend, {
      random: [h(resumed.server_random), Uint8Array.of(1, 2, 3, 4)],
      keyShares: [{ group: 'x25519', privateKey: h(resumed.server_x25519_private) }],
    });
    const keyLog: string[] = [];
    const server: TlsServer = createTlsServer({
      crypto,
      quic: false,
      credentials: { certificateChain: [CERT], privateKey: RSA_KEY },
      extensionHook: rfcEncryptedExtensionsHook(resumed.encrypted_extensions!),
      ticketSealer: sealer,
      earlyData: (info) => info.serverName === 'server' && info.ticketAge === 6,
      maxTicketAgeSkew: 0,
      keyLog: (l) => keyLog.push(l),
    });
    server.receive('initial', h(resumed.client_hello), ticketIssuedAt + 6);
    const out = drainOutput(server);
    expect(out).toEqual([
      { level: 'initial', data: h(resumed.server_hello) },
      { level: 'handshake', data: concatBytes(h(resumed.encrypted_extensions), h(resumed.server_finished)) },
    ]);
    let events = drainEvents(server);
    let secrets = secretsOf(events);
    expect(events.find((e) => e.type === 'earlyData')).toEqual({ type: 'earlyData', status: 'accepted' });
    expect(secrets.get('zeroRtt/read')).toBe(resumed.client_early_traffic_secret);
    expect(secrets.get('handshake/write')).toBe(resumed.server_handshake_traffic_secret);
    expect(secrets.get('handshake/read')).toBe(resumed.client_handshake_traffic_secret);
    expect(secrets.get('oneRtt/write')).toBe(resumed.server_application_traffic_secret_0);
    expect(keyLogged(keyLog, 'EXPORTER_SECRET')).toBe(resumed.exporter_master_secret);

    server.receive('zeroRtt', h(resumed.end_of_early_data), ticketIssuedAt + 10);
    server.receive('handshake', h(resumed.client_finished), ticketIssuedAt + 10);
    events = drainEvents(server);
    secrets = secretsOf(events);
    expect(secrets.get('oneRtt/read')).toBe(resumed.client_application_traffic_secret_0);
    expect(events.find((e) => e.type === 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'accepted' });
    server.sendSessionTicket(ticketIssuedAt + 20);
    drainOutput(server);
    const state = decodeTicketState(sealer.plaintext!)!;
    expect(toHex(state.psk)).toBe(toHex(resumptionPsk(nodeBackend, 'sha256', h(resumed.resumption_master_secret), Uint8Array.of(0, 0))));
  });

  it('server: the RFC ClientHello with a tampered binder is refused with decrypt_error', () => {
    const ch = h(resumed.client_hello).slice();
    ch[ch.length - 1]! ^= 1;
    const server = createTlsServer({
      crypto: scriptedCrypto(nodeBackend, {}),
      quic: false,
      credentials: { certificateChain: [CERT], privateKey: RSA_KEY },
      ticketSealer: section3Sealer(),
    });
    expect(() => server.receive('initial', ch, ticketIssuedAt + 6)).toThrow(expect.objectContaining({ tlsAlert: 51 }));
  });
});

describe('RFC 8448 §5 HelloRetryRequest', () => {
  const ch1 = decodeClientHello(h(hrr.client_hello_1).subarray(4));
  const ch2 = decodeClientHello(h(hrr.client_hello_2).subarray(4));
  const flight = concatBytes(h(hrr.encrypted_extensions), h(hrr.certificate), h(hrr.certificate_verify), h(hrr.server_finished));

  it('client: composes both RFC ClientHellos around the HRR (cookie echoed, P-256 share) and derives every secret', () => {
    const crypto = scriptedCrypto(nodeBackend, {
      random: [h(hrr.client_random)],
      keyShares: [
        { group: 'x25519', privateKey: h(hrr.client_x25519_private) },
        { group: 'secp256r1', privateKey: h(hrr.client_p256_private) },
      ],
    });
    const client = createTlsClient({
      crypto,
      quic: false,
      serverName: 'server',
      cipherSuites: [0x1301, 0x1303, 0x1302],
      groups: ['x25519', 'secp256r1', 'secp384r1'],
      keyShareGroups: ['x25519'],
      verify: 'none',
      extensionHook: rfcClientHelloHook(ch1, ch2),
    });
    client.start(T0);
    expect(drainOutput(client)).toEqual([{ level: 'initial', data: h(hrr.client_hello_1) }]);
    client.receive('initial', h(hrr.hello_retry_request), T0);
    expect(drainOutput(client)).toEqual([{ level: 'initial', data: h(hrr.client_hello_2) }]);
    client.receive('initial', h(hrr.server_hello), T0);
    let secrets = secretsOf(drainEvents(client));
    expect(secrets.get('handshake/read')).toBe(hrr.server_handshake_traffic_secret);
    expect(secrets.get('handshake/write')).toBe(hrr.client_handshake_traffic_secret);
    client.receive('handshake', flight, T0);
    expect(drainOutput(client)).toEqual([{ level: 'handshake', data: h(hrr.client_finished) }]);
    const events = drainEvents(client);
    secrets = secretsOf(events);
    expect(secrets.get('oneRtt/read')).toBe(hrr.server_application_traffic_secret_0);
    expect(secrets.get('oneRtt/write')).toBe(hrr.client_application_traffic_secret_0);
    expect(events.find((e) => e.type === 'handshakeComplete')).toMatchObject({ group: 'secp256r1' });
  });

  it('server: preferring P-256, sends the RFC HRR with its cookie, then the RFC ServerHello and flight', () => {
    const signed = certificateVerifyContent('server', h(hrr.transcript_hash_through_certificate));
    const crypto = scriptedCrypto(nodeBackend, {
      random: [h(hrr.server_random)],
      keyShares: [{ group: 'secp256r1', privateKey: h(hrr.server_p256_private) }],
      signatures: [{ content: signed, signature: cvSignature(hrr.certificate_verify!) }],
    });
    const cookieInputs: string[] = [];
    const keyLog: string[] = [];
    const server = createTlsServer({
      crypto,
      quic: false,
      groups: ['secp256r1', 'secp384r1', 'x25519'],
      credentials: { certificateChain: [CERT], privateKey: RSA_KEY },
      helloRetryCookie: (chHash) => {
        cookieInputs.push(toHex(chHash));
        return h(hrr.cookie);
      },
      extensionHook: rfcEncryptedExtensionsHook(hrr.encrypted_extensions!),
      keyLog: (l) => keyLog.push(l),
    });
    server.receive('initial', h(hrr.client_hello_1), T0);
    expect(drainOutput(server)).toEqual([{ level: 'initial', data: h(hrr.hello_retry_request) }]);
    // The cookie callback sees Hash(ClientHello1), the value inside message_hash.
    expect(cookieInputs).toEqual([hrr.message_hash!.slice(8)]);
    server.receive('initial', h(hrr.client_hello_2), T0);
    expect(drainOutput(server)).toEqual([
      { level: 'initial', data: h(hrr.server_hello) },
      { level: 'handshake', data: flight },
    ]);
    let secrets = secretsOf(drainEvents(server));
    expect(secrets.get('handshake/write')).toBe(hrr.server_handshake_traffic_secret);
    expect(secrets.get('handshake/read')).toBe(hrr.client_handshake_traffic_secret);
    expect(secrets.get('oneRtt/write')).toBe(hrr.server_application_traffic_secret_0);
    expect(keyLogged(keyLog, 'EXPORTER_SECRET')).toBe(hrr.exporter_master_secret);
    server.receive('handshake', h(hrr.client_finished), T0);
    secrets = secretsOf(drainEvents(server));
    expect(secrets.get('oneRtt/read')).toBe(hrr.client_application_traffic_secret_0);
    expect(server.isHandshakeComplete).toBe(true);
  });

  it('server: a second ClientHello that does not echo the cookie is refused with illegal_parameter', () => {
    const server = createTlsServer({
      crypto: scriptedCrypto(nodeBackend, {}),
      quic: false,
      groups: ['secp256r1', 'x25519'],
      credentials: { certificateChain: [CERT], privateKey: RSA_KEY },
      helloRetryCookie: () => Uint8Array.of(1, 2, 3),
    });
    server.receive('initial', h(hrr.client_hello_1), T0);
    expect(drainOutput(server)).toHaveLength(1);
    expect(() => server.receive('initial', h(hrr.client_hello_2), T0)).toThrow(expect.objectContaining({ tlsAlert: 47 }));
  });
});
