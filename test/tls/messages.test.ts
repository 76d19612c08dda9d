/**
 * Handshake message and extension codecs: decode→encode is byte-identical on every handshake
 * message of the RFC 8448 traces, the decoded fields are the RFC's, and encode→decode
 * round-trips arbitrary well-formed messages.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkExtensions,
  decodeAlpn,
  decodeCertificateAuthorities,
  decodeCookie,
  decodeKeyShareClient,
  decodeKeyShareRetry,
  decodeKeyShareServer,
  decodeMaxEarlyData,
  decodeOfferedPsks,
  decodePskModes,
  decodeSelectedPsk,
  decodeServerName,
  decodeSignatureSchemes,
  decodeSupportedGroups,
  decodeSupportedVersionsClient,
  decodeSupportedVersionServer,
  encodeAlpn,
  encodeCertificateAuthorities,
  encodeCookie,
  encodeKeyShareClient,
  encodeOfferedPsks,
  encodeServerName,
  ExtensionContext,
  ExtensionType,
  findExtension,
  type Extension,
} from '../../src/tls/extensions.js';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeClientHello,
  decodeEncryptedExtensions,
  decodeEndOfEarlyData,
  decodeFinished,
  decodeKeyUpdate,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeCertificate,
  encodeCertificateRequest,
  encodeCertificateVerify,
  encodeClientHello,
  encodeEncryptedExtensions,
  encodeEndOfEarlyData,
  encodeFinished,
  encodeKeyUpdate,
  encodeNewSessionTicket,
  encodeServerHello,
  HandshakeType,
  isHelloRetryRequest,
} from '../../src/tls/messages.js';
import { QuicError } from '../../src/transport/errors.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { loadVectors } from '../support/tls-pair.js';

const simple = loadVectors('rfc8448-simple-1rtt.json');
const resumed = loadVectors('rfc8448-resumed-0rtt.json');
const hrr = loadVectors('rfc8448-hrr.json');

/** Re-encodes a whole handshake message through its decoder and encoder. */
function roundTrip(hex: string): string {
  const m = fromHex(hex);
  const body = m.subarray(4);
  expect(((m[1]! << 16) | (m[2]! << 8) | m[3]!) === body.length).toBe(true);
  switch (m[0]) {
    case HandshakeType.client_hello:
      return toHex(encodeClientHello(decodeClientHello(body)));
    case HandshakeType.server_hello:
      return toHex(encodeServerHello(decodeServerHello(body)));
    case HandshakeType.encrypted_extensions:
      return toHex(encodeEncryptedExtensions(decodeEncryptedExtensions(body)));
    case HandshakeType.certificate:
      return toHex(encodeCertificate(decodeCertificate(body)));
    case HandshakeType.certificate_verify:
      return toHex(encodeCertificateVerify(decodeCertificateVerify(body)));
    case HandshakeType.finished:
      return toHex(encodeFinished(decodeFinished(body)));
    case HandshakeType.new_session_ticket:
      return toHex(encodeNewSessionTicket(decodeNewSessionTicket(body)));
    case HandshakeType.end_of_early_data:
      decodeEndOfEarlyData(body);
      return toHex(encodeEndOfEarlyData());
    default:
      throw new Error(`no codec for type ${m[0]}`);
  }
}

const RFC_MESSAGES: [string, string | undefined][] = [
  ['§3 ClientHello', simple.client_hello],
  ['§3 ServerHello', simple.server_hello],
  ['§3 EncryptedExtensions', simple.encrypted_extensions],
  ['§3 Certificate', simple.certificate],
  ['§3 CertificateVerify', simple.certificate_verify],
  ['§3 server Finished', simple.server_finished],
  ['§3 client Finished', simple.client_finished],
  ['§3 NewSessionTicket', simple.new_session_ticket],
  ['§4 ClientHello', resumed.client_hello],
  ['§4 ServerHello', resumed.server_hello],
  ['§4 EncryptedExtensions', resumed.encrypted_extensions],
  ['§4 server Finished', resumed.server_finished],
  ['§4 EndOfEarlyData', resumed.end_of_early_data],
  ['§4 client Finished', resumed.client_finished],
  ['§5 ClientHello 1', hrr.client_hello_1],
  ['§5 HelloRetryRequest', hrr.hello_retry_request],
  ['§5 ClientHello 2', hrr.client_hello_2],
  ['§5 ServerHello', hrr.server_hello],
  ['§5 EncryptedExtensions', hrr.encrypted_extensions],
  ['§5 Certificate', hrr.certificate],
  ['§5 CertificateVerify', hrr.certificate_verify],
  ['§5 server Finished', hrr.server_finished],
  ['§5 client Finished', hrr.client_finished],
];

describe('RFC 8448 messages: decode → encode is byte-identical', () => {
  for (const [name, hex] of RFC_MESSAGES) {
    it(name, () => {
      expect(roundTrip(hex!)).toBe(hex);
    });
  }

  it('the §3 server flight record plaintext splits into exactly its four messages', () => {
    const flight = fromHex(simple.server_handshake_record_plaintext!);
    const parts: string[] = [];
    let o = 0;
    while (o < flight.length - 1) {
      const len = (flight[o + 1]! << 16) | (flight[o + 2]! << 8) | flight[o + 3]!;
      parts.push(roundTrip(toHex(flight.subarray(o, o + 4 + len))));
      o += 4 + len;
    }
    expect(flight[o]).toBe(0x16); // TLSInnerPlaintext content type
    expect(parts).toEqual([simple.encrypted_extensions, simple.certificate, simple.certificate_verify, simple.server_finished]);
  });
});

describe('RFC 8448 messages: decoded fields', () => {
  it('§3 ClientHello and its extensions', () => {
    const ch = decodeClientHello(fromHex(simple.client_hello!).subarray(4));
    expect(toHex(ch.random)).toBe(simple.client_random);
    expect(ch.cipherSuites).toEqual([0x1301, 0x1303, 0x1302]);
    expect(ch.legacySessionId.length).toBe(0);
    checkExtensions(ch.extensions, ExtensionContext.client_hello);
    const ext = (t: number) => findExtension(ch.extensions, t)!;
    expect(decodeServerName(ext(ExtensionType.server_name))).toBe('server');
    expect(decodeSupportedGroups(ext(ExtensionType.supported_groups))).toEqual([0x1d, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104]);
    expect(decodeSupportedVersionsClient(ext(ExtensionType.supported_versions))).toEqual([0x0304]);
    expect(decodeSignatureSchemes(ext(ExtensionType.signature_algorithms))).toContain(0x0804);
    expect(decodePskModes(ext(ExtensionType.psk_key_exchange_modes))).toEqual([1]);
    const shares = decodeKeyShareClient(ext(ExtensionType.key_share));
    expect(shares.map((s) => [s.group, toHex(s.keyExchange)])).toEqual([[0x1d, simple.client_x25519_public]]);
  });

  it('§3 ServerHello, Certificate, CertificateVerify, NewSessionTicket', () => {
    const sh = decodeServerHello(fromHex(simple.server_hello!).subarray(4));
    expect(isHelloRetryRequest(sh)).toBe(false);
    expect(sh.cipherSuite).toBe(0x1301);
    expect(toHex(sh.random)).toBe(simple.server_random);
    expect(decodeSupportedVersionServer(findExtension(sh.extensions, ExtensionType.supported_versions)!)).toBe(0x0304);
    expect(toHex(decodeKeyShareServer(findExtension(sh.extensions, ExtensionType.key_share)!).keyExchange)).toBe(simple.server_x25519_public);
    const cert = decodeCertificate(fromHex(simple.certificate!).subarray(4));
    expect(cert.entries.map((e) => toHex(e.data))).toEqual([simple.server_certificate_der]);
    expect(decodeCertificateVerify(fromHex(simple.certificate_verify!).subarray(4)).scheme).toBe(0x0804);
    const nst = decodeNewSessionTicket(fromHex(simple.new_session_ticket!).subarray(4));
    expect([nst.lifetime, nst.ageAdd, toHex(nst.nonce), toHex(nst.ticket)]).toEqual([30, 0xfad6aac5, simple.ticket_nonce, simple.ticket]);
    expect(decodeMaxEarlyData(findExtension(nst.extensions, ExtensionType.early_data)!)).toBe(1024);
  });

  it('§4 pre_shared_key offer and selection', () => {
    const ch = decodeClientHello(fromHex(resumed.client_hello!).subarray(4));
    expect(ch.extensions[ch.extensions.length - 1]!.type).toBe(ExtensionType.pre_shared_key);
    const psk = decodeOfferedPsks(findExtension(ch.extensions, ExtensionType.pre_shared_key)!);
    expect(psk.identities.map((i) => [toHex(i.identity), i.obfuscatedTicketAge.toString(16)])).toEqual([[resumed.ticket, resumed.obfuscated_ticket_age]]);
    expect(psk.binders.map(toHex)).toEqual([resumed.psk_binder]);
    expect(psk.bindersLength).toBe(2 + 1 + 32);
    expect(toHex(encodeOfferedPsks(psk.identities, psk.binders))).toBe(toHex(findExtension(ch.extensions, ExtensionType.pre_shared_key)!));
    const sh = decodeServerHello(fromHex(resumed.server_hello!).subarray(4));
    expect(decodeSelectedPsk(findExtension(sh.extensions, ExtensionType.pre_shared_key)!)).toBe(0);
    const ee = decodeEncryptedExtensions(fromHex(resumed.encrypted_extensions!).subarray(4));
    expect(findExtension(ee.extensions, ExtensionType.early_data)?.length).toBe(0);
  });

  it('§5 HelloRetryRequest and cookie', () => {
    const m = decodeServerHello(fromHex(hrr.hello_retry_request!).subarray(4));
    expect(isHelloRetryRequest(m)).toBe(true);
    checkExtensions(m.extensions, ExtensionContext.hello_retry_request, new Set([ExtensionType.key_share, ExtensionType.supported_versions]));
    expect(decodeKeyShareRetry(findExtension(m.extensions, ExtensionType.key_share)!)).toBe(0x17);
    expect(toHex(decodeCookie(findExtension(m.extensions, ExtensionType.cookie)!))).toBe(hrr.cookie);
    const ch2 = decodeClientHello(fromHex(hrr.client_hello_2!).subarray(4));
    expect(toHex(decodeCookie(findExtension(ch2.extensions, ExtensionType.cookie)!))).toBe(hrr.cookie);
  });
});

describe('codecs round-trip arbitrary values', () => {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
  const u16 = fc.integer({ min: 0, max: 0xffff });
  const exts = fc.uniqueArray(fc.record({ type: u16, data: bytes(0, 20) }), { selector: (e) => e.type, maxLength: 6 });
  const hex = (e: readonly Extension[]) => e.map((x) => [x.type, toHex(x.data)]);

  it('ClientHello / ServerHello / EncryptedExtensions / CertificateRequest', () => {
    fc.assert(
      fc.property(bytes(32, 32), bytes(0, 32), fc.array(u16, { minLength: 1, maxLength: 5 }), exts, (random, sid, suites, e) => {
        const ch = decodeClientHello(
          encodeClientHello({ legacyVersion: 0x0303, random, legacySessionId: sid, cipherSuites: suites, legacyCompressionMethods: Uint8Array.of(0), extensions: e }).subarray(4),
        );
        expect([toHex(ch.random), toHex(ch.legacySessionId), ch.cipherSuites, hex(ch.extensions)]).toEqual([toHex(random), toHex(sid), suites, hex(e)]);
        const sh = decodeServerHello(
          encodeServerHello({ legacyVersion: 0x0303, random, legacySessionIdEcho: sid, cipherSuite: suites[0]!, legacyCompressionMethod: 0, extensions: e }).subarray(4),
        );
        expect([sh.cipherSuite, hex(sh.extensions)]).toEqual([suites[0], hex(e)]);
        expect(hex(decodeEncryptedExtensions(encodeEncryptedExtensions({ extensions: e }).subarray(4)).extensions)).toEqual(hex(e));
        const cr = decodeCertificateRequest(encodeCertificateRequest({ context: sid, extensions: e }).subarray(4));
        expect([toHex(cr.context), hex(cr.extensions)]).toEqual([toHex(sid), hex(e)]);
      }),
      { numRuns: 200 },
    );
  });

  it('Certificate / CertificateVerify / NewSessionTicket / KeyUpdate', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ data: bytes(1, 40), extensions: exts }), { maxLength: 3 }), u16, bytes(1, 64), fc.nat(), bytes(0, 8), exts, (entries, scheme, sig, n, nonce, e) => {
        const c = decodeCertificate(encodeCertificate({ context: new Uint8Array(0), entries }).subarray(4));
        expect(c.entries.map((x) => [toHex(x.data), hex(x.extensions)])).toEqual(entries.map((x) => [toHex(x.data), hex(x.extensions)]));
        const cv = decodeCertificateVerify(encodeCertificateVerify({ scheme, signature: sig }).subarray(4));
        expect([cv.scheme, toHex(cv.signature)]).toEqual([scheme, toHex(sig)]);
        const lifetime = n % 604801;
        const nst = decodeNewSessionTicket(encodeNewSessionTicket({ lifetime, ageAdd: n >>> 0, nonce, ticket: sig, extensions: e }).subarray(4));
        expect([nst.lifetime, nst.ageAdd, toHex(nst.nonce), toHex(nst.ticket), hex(nst.extensions)]).toEqual([lifetime, n >>> 0, toHex(nonce), toHex(sig), hex(e)]);
        expect(decodeKeyUpdate(encodeKeyUpdate({ requestUpdate: n % 2 }).subarray(4)).requestUpdate).toBe(n % 2);
      }),
      { numRuns: 200 },
    );
  });

  it('extension bodies', () => {
    const name = fc.stringMatching(/^[a-z0-9-]{1,30}$/);
    fc.assert(
      fc.property(name, fc.array(name, { minLength: 1, maxLength: 4 }), bytes(1, 50), fc.array(fc.record({ group: u16, keyExchange: bytes(1, 40) }), { maxLength: 3 }), (host, alpn, cookie, shares) => {
        expect(decodeServerName(encodeServerName(host))).toBe(host);
        expect(decodeAlpn(encodeAlpn(alpn))).toEqual(alpn);
        expect(toHex(decodeCookie(encodeCookie(cookie)))).toBe(toHex(cookie));
        expect(decodeKeyShareClient(encodeKeyShareClient(shares)).map((s) => [s.group, toHex(s.keyExchange)])).toEqual(
          shares.map((s) => [s.group, toHex(s.keyExchange)]),
        );
        expect(decodeCertificateAuthorities(encodeCertificateAuthorities([cookie])).map(toHex)).toEqual([toHex(cookie)]);
      }),
      { numRuns: 200 },
    );
  });

  it('malformed bodies raise decode_error (50) only', () => {
    const bad: [string, () => unknown][] = [
      ['empty ALPN name', () => decodeAlpn(Uint8Array.of(0, 1, 0))],
      ['ALPN list length too long', () => decodeAlpn(Uint8Array.of(0, 9, 2, 0x68, 0x33))],
      ['odd supported_groups', () => decodeSupportedGroups(Uint8Array.of(0, 3, 0, 0x1d, 0))],
      ['trailing bytes', () => decodeSelectedPsk(Uint8Array.of(0, 0, 0))],
      ['binder shorter than 32', () => decodeOfferedPsks(Uint8Array.of(0, 7, 0, 1, 1, 0, 0, 0, 0, 0, 2, 1, 0))],
      ['ClientHello without compression methods', () => decodeClientHello(new Uint8Array(2 + 32 + 1 + 4 + 1))],
      ['Finished-like EndOfEarlyData', () => decodeEndOfEarlyData(Uint8Array.of(1))],
      ['empty certificate data', () => decodeCertificate(Uint8Array.of(0, 0, 0, 5, 0, 0, 0, 0, 0))],
    ];
    for (const [what, f] of bad) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(QuicError);
      expect((err as QuicError).tlsAlert, what).toBe(50);
    }
    // An empty binders list is malformed; binders and identities out of step are illegal_parameter, a KeyUpdate value above 1 too.
    expect(() => decodeOfferedPsks(Uint8Array.of(0, 7, 0, 1, 1, 0, 0, 0, 0, 0, 0))).toThrow(expect.objectContaining({ tlsAlert: 50 }));
    const twoIds = Uint8Array.of(0, 14, 0, 1, 1, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 33, 32, ...new Uint8Array(32));
    expect(() => decodeOfferedPsks(twoIds)).toThrow(expect.objectContaining({ tlsAlert: 47 }));
    expect(() => decodeKeyUpdate(Uint8Array.of(2))).toThrow(expect.objectContaining({ tlsAlert: 47 }));
  });

  it('placement table: recognised extensions out of place are illegal_parameter, unsolicited ones unsupported_extension', () => {
    const e = (type: number): Extension => ({ type, data: new Uint8Array(0) });
    expect(() => checkExtensions([e(ExtensionType.key_share)], ExtensionContext.encrypted_extensions)).toThrow(expect.objectContaining({ tlsAlert: 47 }));
    expect(() => checkExtensions([e(ExtensionType.oid_filters)], ExtensionContext.client_hello)).toThrow(expect.objectContaining({ tlsAlert: 47 }));
    expect(() => checkExtensions([e(ExtensionType.early_data)], ExtensionContext.encrypted_extensions, new Set())).toThrow(
      expect.objectContaining({ tlsAlert: 110 }),
    );
    expect(() => checkExtensions([e(0xfafa), e(0xfafa)], ExtensionContext.client_hello)).toThrow(expect.objectContaining({ tlsAlert: 47 }));
    // Unknown extensions in ClientHello are ignored; a cookie in HRR needs no offer.
    expect(() => checkExtensions([e(0xfafa), e(ExtensionType.early_data)], ExtensionContext.client_hello)).not.toThrow();
    expect(() => checkExtensions([e(ExtensionType.cookie)], ExtensionContext.hello_retry_request, new Set())).not.toThrow();
  });
});
