/**
 * The TLS 1.3 server state machine (RFC 8446 §2, with RFC 9001's QUIC profile): ClientHello
 * negotiation (suite, group, ALPN, PSK with binder check, 0-RTT decision), HelloRetryRequest
 * with optional cookie, the server flight, client authentication, the client's Finished, and
 * NewSessionTicket issuance.
 */
import { hashLength, type KeyExchangeGroup, type Signer } from '../crypto/backend.js';
import { QuicError, TransportError } from '../transport/errors.js';
import { constantTimeEqual, equalBytes } from '../util/bytes.js';
import { TlsAlert } from './alerts.js';
import { cipherSuiteByCode, resolveCipherSuites, type CipherSuite } from './cipher-suites.js';
import { cachedSigner, certificateVerifyContent, fail, TlsEngine } from './engine.js';
import {
  checkExtensions,
  decodeAlpn,
  decodeCookie,
  decodeKeyShareClient,
  decodeOfferedPsks,
  decodePskModes,
  decodeServerName,
  decodeSignatureSchemes,
  decodeSupportedGroups,
  decodeSupportedVersionsClient,
  checkEmpty,
  encodeAlpn,
  encodeCookie,
  encodeKeyShareRetry,
  encodeKeyShareServer,
  encodeMaxEarlyData,
  encodeSelectedPsk,
  encodeSignatureSchemes,
  encodeSupportedVersionServer,
  ExtensionContext,
  ExtensionType,
  findExtension,
  groupCode,
  PskMode,
  type Extension,
  type OfferedPsks,
} from './extensions.js';
import { KeySchedule, resumptionPsk, Transcript } from './key-schedule.js';
import {
  decodeCertificate,
  decodeCertificateVerify,
  decodeClientHello,
  decodeEndOfEarlyData,
  encodeCertificate,
  encodeCertificateRequest,
  encodeCertificateVerify,
  encodeEncryptedExtensions,
  encodeFinished,
  encodeNewSessionTicket,
  encodeServerHello,
  HandshakeType,
  HELLO_RETRY_REQUEST_RANDOM,
  LEGACY_VERSION,
  TLS13,
  type ClientHello,
} from './messages.js';
import {
  isForbiddenInCertificateVerify,
  resolveAlpn,
  resolveGroups,
  resolveSignatureSchemes,
  resolveTransportParameters,
} from './negotiation.js';
import { decodeTicketState, encodeTicketState, MAX_TICKET_LIFETIME, type TicketSealer, type TicketState } from './session.js';
import type { Credentials, EncryptionLevel, TlsServerConfig } from './types.js';

type ServerState =
  | 'wait_client_hello'
  | 'wait_second_client_hello'
  | 'wait_end_of_early_data'
  | 'wait_client_certificate'
  | 'wait_client_certificate_verify'
  | 'wait_client_finished'
  | 'connected';

const EMPTY = new Uint8Array(0);

/** A PSK the server chose from the ClientHello's offer. */
interface ChosenPsk {
  readonly index: number;
  readonly ticket: TicketState;
  readonly suite: CipherSuite;
  readonly offered: OfferedPsks;
  /** Ticket age as the client reports it and as the server measures it, ms. */
  readonly clientAge: number;
  readonly serverAge: number;
}

/** Options of `TlsServer.sendSessionTicket`. */
export interface SessionTicketOptions {
  /** Opaque data returned to the 0-RTT policy when the ticket is used. */
  readonly applicationData?: Uint8Array;
  /** Opaque 0-RTT context (the QUIC layer puts the transport parameters 0-RTT depends on here). */
  readonly earlyDataContext?: Uint8Array;
  /** Lifetime in seconds (default the server's `ticketLifetime`). */
  readonly lifetime?: number;
}

/** A TLS 1.3 server. Create with `createTlsServer`; drive with `receive`, `pollOutput`, `pollEvent`. */
export class TlsServer extends TlsEngine {
  private state: ServerState = 'wait_client_hello';
  private readonly config: TlsServerConfig;
  private readonly suites: CipherSuite[];
  private readonly groups: KeyExchangeGroup[];
  private readonly schemes: number[];
  private readonly alpn: string[];
  private transportParameters: Uint8Array | undefined;
  private readonly clientAuth: 'none' | 'request' | 'require';
  private readonly verify: 'none' | 'builtin' | 'custom';
  private readonly ticketSealer: TicketSealer | undefined;
  private readonly ticketLifetime: number;
  private readonly maxTicketAgeSkew: number;

  private readonly transcript: Transcript;
  private legacySessionId: Uint8Array = EMPTY;
  private helloRetry: { suite: CipherSuite; group: number; cookie: Uint8Array | undefined } | undefined;
  private serverName: string | undefined;
  private negotiatedAlpn: string | undefined;
  private group: KeyExchangeGroup | undefined;
  private signatureScheme: number | undefined;
  private resumed = false;
  /** Application data of the ticket the client resumed with. */
  private resumptionData: Uint8Array | undefined;
  private earlyData: 'accepted' | 'rejected' | 'not-offered' = 'not-offered';
  private clientAllowsTickets = false;
  private schedule: KeySchedule | undefined;
  private clientHandshakeSecret: Uint8Array | undefined;
  private clientAppSecret: Uint8Array | undefined;
  private resumptionMasterSecret: Uint8Array | undefined;
  private peerChain: Uint8Array[] | undefined;
  private ticketCount = 0;

  constructor(config: TlsServerConfig) {
    super(config);
    this.config = config;
    this.suites = resolveCipherSuites(config.cipherSuites);
    this.groups = resolveGroups(config.groups, 'groups');
    this.schemes = resolveSignatureSchemes(config.signatureSchemes);
    this.alpn = resolveAlpn(config, this.quic);
    this.transportParameters = resolveTransportParameters(config, this.quic);
    if (config.credentials === undefined && config.selectCredentials === undefined) {
      throw new TypeError('a TLS server needs credentials or selectCredentials');
    }
    this.clientAuth = config.clientAuth ?? 'none';
    this.verify = config.verify ?? 'builtin';
    if (this.clientAuth !== 'none' && this.verify === 'builtin' && (config.trustedCertificates?.length ?? 0) === 0) {
      throw new TypeError("clientAuth with verify 'builtin' needs trustedCertificates");
    }
    this.ticketSealer = config.ticketSealer;
    this.ticketLifetime = checkLifetime(config.ticketLifetime ?? 86400, 'ticketLifetime');
    this.maxTicketAgeSkew = config.maxTicketAgeSkew ?? 10000;
    const med = config.maxEarlyDataSize;
    if (med !== undefined && (!Number.isInteger(med) || med < 1 || med > 0xffffffff)) {
      throw new RangeError(`maxEarlyDataSize must be an integer in 1..2^32-1, got ${med}`);
    }
    this.transcript = new Transcript(this.crypto);
  }

  /** Replaces this endpoint's transport parameters; only before the EncryptedExtensions is sent. */
  setTransportParameters(data: Uint8Array): void {
    if (this.state !== 'wait_client_hello' && this.state !== 'wait_second_client_hello') {
      throw new TypeError('setTransportParameters: EncryptedExtensions was already sent');
    }
    this.transportParameters = data;
  }

  /** True once the client's Finished verified. */
  get isHandshakeComplete(): boolean {
    return this.state === 'connected';
  }

  /** The negotiated ALPN protocol, once known. */
  get alpnProtocol(): string | undefined {
    return this.negotiatedAlpn;
  }

  protected handleMessage(type: number, body: Uint8Array, raw: Uint8Array, _level: EncryptionLevel): void {
    switch (this.state) {
      case 'wait_client_hello':
      case 'wait_second_client_hello':
        if (type !== HandshakeType.client_hello) this.unexpected(type, this.state);
        return this.onClientHello(body, raw);
      case 'wait_end_of_early_data':
        if (type !== HandshakeType.end_of_early_data) this.unexpected(type, this.state);
        decodeEndOfEarlyData(body);
        this.transcript.add(raw);
        this.readLevel = 'handshake';
        this.state = this.expectsClientCertificate() ? 'wait_client_certificate' : 'wait_client_finished';
        return;
      case 'wait_client_certificate':
        if (type !== HandshakeType.certificate) this.unexpected(type, this.state);
        return this.onClientCertificate(body, raw);
      case 'wait_client_certificate_verify':
        if (type !== HandshakeType.certificate_verify) this.unexpected(type, this.state);
        return this.onClientCertificateVerify(body, raw);
      case 'wait_client_finished':
        if (type !== HandshakeType.finished) this.unexpected(type, this.state);
        return this.onClientFinished(body, raw);
      default:
        this.unexpected(type, this.state);
    }
  }

  private expectsClientCertificate(): boolean {
    return this.clientAuth !== 'none' && !this.resumed;
  }

  private onClientHello(body: Uint8Array, raw: Uint8Array): void {
    const ch = decodeClientHello(body);
    checkExtensions(ch.extensions, ExtensionContext.client_hello);
    const retry = this.helloRetry;
    const sv = findExtension(ch.extensions, ExtensionType.supported_versions);
    if (sv === undefined || !decodeSupportedVersionsClient(sv).includes(TLS13)) fail(TlsAlert.protocol_version, 'client does not offer TLS 1.3');
    if (ch.legacyCompressionMethods.length !== 1 || ch.legacyCompressionMethods[0] !== 0) {
      fail(TlsAlert.illegal_parameter, 'ClientHello compression methods must be exactly [null]');
    }
    if (this.quic && ch.legacySessionId.length !== 0) {
      throw new QuicError(TransportError.PROTOCOL_VIOLATION, 'non-empty legacy_session_id in a QUIC ClientHello (RFC 9001 §8.4)');
    }
    if (retry !== undefined) {
      if (!equalBytes(ch.random, this.clientRandom) || !equalBytes(ch.legacySessionId, this.legacySessionId)) {
        fail(TlsAlert.illegal_parameter, 'second ClientHello changed random or legacy_session_id');
      }
      if (!ch.cipherSuites.includes(retry.suite.code)) fail(TlsAlert.illegal_parameter, 'second ClientHello dropped the selected cipher suite');
      if (findExtension(ch.extensions, ExtensionType.early_data) !== undefined) fail(TlsAlert.illegal_parameter, 'early_data after HelloRetryRequest');
      if (retry.cookie !== undefined) {
        const c = findExtension(ch.extensions, ExtensionType.cookie);
        if (c === undefined || !equalBytes(decodeCookie(c), retry.cookie)) fail(TlsAlert.illegal_parameter, 'second ClientHello does not echo the cookie');
      }
    }

    const sniExt = findExtension(ch.extensions, ExtensionType.server_name);
    const serverName = sniExt === undefined ? undefined : decodeServerName(sniExt);
    const alpnExt = findExtension(ch.extensions, ExtensionType.application_layer_protocol_negotiation);
    const alpnOffer = alpnExt === undefined ? [] : decodeAlpn(alpnExt);
    const sigExt = findExtension(ch.extensions, ExtensionType.signature_algorithms);
    const clientSchemes = sigExt === undefined ? [] : decodeSignatureSchemes(sigExt);
    const tp = findExtension(ch.extensions, ExtensionType.quic_transport_parameters);
    if (this.quic && tp === undefined) fail(TlsAlert.missing_extension, 'ClientHello without quic_transport_parameters');
    const pskModesExt = findExtension(ch.extensions, ExtensionType.psk_key_exchange_modes);
    const pskModes = pskModesExt === undefined ? [] : decodePskModes(pskModesExt);
    this.clientAllowsTickets = pskModes.includes(PskMode.psk_dhe_ke);

    if (retry === undefined) {
      this.clientRandom = ch.random.slice();
      this.legacySessionId = ch.legacySessionId.slice();
      this.serverName = serverName;
      this.emit({ type: 'clientHello', serverName, alpn: alpnOffer });
    }

    // Application protocol: the first of ours that the client offers.
    if (alpnExt !== undefined && this.alpn.length > 0) {
      this.negotiatedAlpn = this.alpn.find((p) => alpnOffer.includes(p));
      if (this.negotiatedAlpn === undefined) fail(TlsAlert.no_application_protocol, `no common application protocol (client offers ${alpnOffer.join(', ')})`);
    } else if (this.quic) {
      fail(TlsAlert.no_application_protocol, 'ClientHello without ALPN');
    }

    const offeredSuites = this.suites.filter((s) => ch.cipherSuites.includes(s.code));
    if (offeredSuites.length === 0) fail(TlsAlert.handshake_failure, 'no cipher suite in common');

    const sgExt = findExtension(ch.extensions, ExtensionType.supported_groups);
    const ksExt = findExtension(ch.extensions, ExtensionType.key_share);
    if (sgExt === undefined || ksExt === undefined) fail(TlsAlert.missing_extension, 'ClientHello without supported_groups and key_share');
    const clientGroups = decodeSupportedGroups(sgExt);
    const shares = decodeKeyShareClient(ksExt);
    const shareGroups = new Set<number>();
    for (const s of shares) {
      if (shareGroups.has(s.group)) fail(TlsAlert.illegal_parameter, `two key shares for group 0x${s.group.toString(16)}`);
      if (!clientGroups.includes(s.group)) fail(TlsAlert.illegal_parameter, `key share for group 0x${s.group.toString(16)} not in supported_groups`);
      shareGroups.add(s.group);
    }
    const group = this.groups.find((g) => clientGroups.includes(groupCode(g)));
    if (group === undefined) fail(TlsAlert.handshake_failure, 'no key exchange group in common');
    const share = shares.find((s) => s.group === groupCode(group));

    const psk = this.choosePsk(ch, offeredSuites, serverName, pskModesExt !== undefined);
    const suite = retry?.suite ?? psk?.suite ?? offeredSuites[0]!;
    const earlyExt = findExtension(ch.extensions, ExtensionType.early_data);
    if (earlyExt !== undefined) checkEmpty(earlyExt, 'early_data in ClientHello');
    const earlyOffered = earlyExt !== undefined;

    if (share === undefined) {
      if (retry !== undefined) fail(TlsAlert.illegal_parameter, 'second ClientHello lacks a key share for the requested group');
      return this.sendHelloRetryRequest(suite, groupCode(group), raw, earlyOffered);
    }

    // Credentials are only needed without a PSK.
    let credentials: Credentials | undefined;
    let signer: Signer | undefined;
    let scheme: number | undefined;
    if (psk === undefined) {
      if (sigExt === undefined) fail(TlsAlert.missing_extension, 'ClientHello without signature_algorithms');
      const info = { serverName, alpn: alpnOffer, signatureSchemes: clientSchemes };
      credentials = this.config.selectCredentials?.(info) ?? this.config.credentials;
      if (credentials === undefined || credentials.certificateChain.length === 0) fail(TlsAlert.handshake_failure, 'no certificate for this ClientHello');
      signer = credentials.signer ?? (credentials.privateKey !== undefined ? cachedSigner(this.crypto, credentials.privateKey) : undefined);
      if (signer === undefined) throw new TypeError('credentials need a privateKey or a signer');
      scheme = signer.schemes.find((s) => clientSchemes.includes(s));
      if (scheme === undefined) fail(TlsAlert.handshake_failure, 'no signature scheme in common with the certificate key');
    }

    this.suite = suite;
    this.transcript.setHash(suite.hash);
    if (psk !== undefined) this.checkBinder(psk, raw, retry !== undefined);
    this.transcript.add(raw);
    const schedule = new KeySchedule(this.crypto, suite.hash, psk?.ticket.psk);
    this.schedule = schedule;
    this.resumed = psk !== undefined;
    this.resumptionData = psk?.ticket.applicationData;
    // The identity the client proved in the session it resumes (RFC 8446 §4.6.1).
    if (psk !== undefined && psk.ticket.clientCertificates.length > 0) this.peerChain = [...psk.ticket.clientCertificates];
    this.group = group;

    if (earlyOffered) {
      if (psk !== undefined && this.acceptsEarlyData(psk, suite)) {
        const chHash = this.transcript.hash();
        this.emitSecret('zeroRtt', 'read', schedule.clientEarlyTrafficSecret(chHash), 'CLIENT_EARLY_TRAFFIC_SECRET');
        this.log('EARLY_EXPORTER_SECRET', schedule.earlyExporterMasterSecret(chHash));
        this.earlyData = 'accepted';
      } else {
        this.earlyData = 'rejected';
      }
      this.emit({ type: 'earlyData', status: this.earlyData });
    }
    if (this.quic) this.emit({ type: 'peerTransportParameters', data: tp!.slice() });

    // ServerHello.
    const serverShare = this.crypto.generateKeyShare(group);
    const shared = serverShare.deriveSecret(share.keyExchange);
    if (shared === undefined) fail(TlsAlert.illegal_parameter, 'invalid client key share');
    const random = new Uint8Array(32);
    this.crypto.randomFill(random);
    const shExts: Extension[] = [];
    if (psk !== undefined) shExts.push({ type: ExtensionType.pre_shared_key, data: encodeSelectedPsk(psk.index) });
    shExts.push({ type: ExtensionType.key_share, data: encodeKeyShareServer({ group: groupCode(group), keyExchange: serverShare.publicKey }) });
    shExts.push({ type: ExtensionType.supported_versions, data: encodeSupportedVersionServer(TLS13) });
    const sh = encodeServerHello({
      legacyVersion: LEGACY_VERSION,
      random,
      legacySessionIdEcho: this.legacySessionId,
      cipherSuite: suite.code,
      legacyCompressionMethod: 0,
      extensions: shExts,
    });
    this.transcript.add(sh);
    this.send('initial', sh);

    schedule.enterHandshake(shared);
    const helloHash = this.transcript.hash();
    const serverHandshakeSecret = schedule.serverHandshakeTrafficSecret(helloHash);
    this.clientHandshakeSecret = schedule.clientHandshakeTrafficSecret(helloHash);
    this.emitSecret('handshake', 'write', serverHandshakeSecret, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
    this.emitSecret('handshake', 'read', this.clientHandshakeSecret, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');

    this.sendEncryptedExtensions(serverName !== undefined);
    if (psk === undefined) {
      if (this.clientAuth !== 'none') {
        const cr = encodeCertificateRequest({
          context: EMPTY,
          extensions: [{ type: ExtensionType.signature_algorithms, data: encodeSignatureSchemes(this.schemes) }],
        });
        this.transcript.add(cr);
        this.send('handshake', cr);
      }
      const cert = encodeCertificate({ context: EMPTY, entries: credentials!.certificateChain.map((data) => ({ data, extensions: [] })) });
      this.transcript.add(cert);
      this.send('handshake', cert);
      const signature = signer!.sign(scheme!, certificateVerifyContent('server', this.transcript.hash()));
      const cv = encodeCertificateVerify({ scheme: scheme!, signature });
      this.signatureScheme = scheme;
      this.transcript.add(cv);
      this.send('handshake', cv);
    }
    const finished = encodeFinished({ verifyData: schedule.verifyData(serverHandshakeSecret, this.transcript.hash()) });
    this.transcript.add(finished);
    this.send('handshake', finished);

    const finishedHash = this.transcript.hash();
    schedule.enterMaster();
    this.clientAppSecret = schedule.clientApplicationTrafficSecret(finishedHash);
    this.emitSecret('oneRtt', 'write', schedule.serverApplicationTrafficSecret(finishedHash), 'SERVER_TRAFFIC_SECRET_0');
    this.setExporterSecret(schedule.exporterMasterSecret(finishedHash));

    if (!this.quic && this.earlyData === 'accepted') {
      this.readLevel = 'zeroRtt';
      this.state = 'wait_end_of_early_data';
    } else {
      this.readLevel = 'handshake';
      this.state = this.expectsClientCertificate() ? 'wait_client_certificate' : 'wait_client_finished';
    }
  }

  private sendHelloRetryRequest(suite: CipherSuite, group: number, clientHello: Uint8Array, earlyOffered: boolean): void {
    this.suite = suite;
    this.transcript.setHash(suite.hash);
    this.transcript.add(clientHello);
    const firstHash = this.transcript.hash();
    this.transcript.replaceWithMessageHash();
    const cookie = this.config.helloRetryCookie?.(firstHash);
    if (cookie !== undefined && (cookie.length === 0 || cookie.length > 0xffff - 2)) {
      throw new RangeError(`helloRetryCookie returned a cookie of ${cookie.length} bytes`);
    }
    const exts: Extension[] = [{ type: ExtensionType.key_share, data: encodeKeyShareRetry(group) }];
    if (cookie !== undefined) exts.push({ type: ExtensionType.cookie, data: encodeCookie(cookie) });
    exts.push({ type: ExtensionType.supported_versions, data: encodeSupportedVersionServer(TLS13) });
    const hrr = encodeServerHello({
      legacyVersion: LEGACY_VERSION,
      random: HELLO_RETRY_REQUEST_RANDOM,
      legacySessionIdEcho: this.legacySessionId,
      cipherSuite: suite.code,
      legacyCompressionMethod: 0,
      extensions: exts,
    });
    this.transcript.add(hrr);
    this.send('initial', hrr);
    this.helloRetry = { suite, group, cookie: cookie?.slice() };
    if (earlyOffered) {
      this.earlyData = 'rejected';
      this.emit({ type: 'earlyData', status: 'rejected' });
    }
    this.state = 'wait_second_client_hello';
  }

  private sendEncryptedExtensions(acknowledgeServerName: boolean): void {
    const exts: Extension[] = [];
    if (acknowledgeServerName) exts.push({ type: ExtensionType.server_name, data: EMPTY });
    if (this.earlyData === 'accepted') exts.push({ type: ExtensionType.early_data, data: EMPTY });
    if (this.negotiatedAlpn !== undefined) {
      exts.push({ type: ExtensionType.application_layer_protocol_negotiation, data: encodeAlpn([this.negotiatedAlpn]) });
    }
    if (this.quic) exts.push({ type: ExtensionType.quic_transport_parameters, data: this.transportParameters! });
    const hooked = this.config.extensionHook ? this.config.extensionHook('encrypted_extensions', exts) : exts;
    const ee = encodeEncryptedExtensions({ extensions: hooked });
    this.transcript.add(ee);
    this.send('handshake', ee);
  }

  /** The first offered ticket that opens, is fresh, matches the SNI and fits a suite (binder not yet checked). */
  private choosePsk(ch: ClientHello, offeredSuites: CipherSuite[], serverName: string | undefined, hasModes: boolean): ChosenPsk | undefined {
    const ext = findExtension(ch.extensions, ExtensionType.pre_shared_key);
    if (ext === undefined) return undefined;
    const offered = decodeOfferedPsks(ext);
    if (!hasModes) fail(TlsAlert.missing_extension, 'pre_shared_key without psk_key_exchange_modes');
    if (!this.clientAllowsTickets || this.ticketSealer === undefined) return undefined;
    const retry = this.helloRetry;
    for (let i = 0; i < offered.identities.length; i++) {
      const id = offered.identities[i]!;
      const plain = this.ticketSealer.open(id.identity);
      const ticket = plain === undefined ? undefined : decodeTicketState(plain);
      if (ticket === undefined) continue;
      const serverAge = this.now - ticket.issuedAt;
      if (serverAge < 0 || serverAge > ticket.lifetime * 1000 || ticket.serverName !== serverName) continue;
      const ticketSuite = cipherSuiteByCode(ticket.cipherSuite);
      if (ticketSuite === undefined || ticket.psk.length !== hashLength(ticketSuite.hash)) continue;
      // A session without a client certificate does not satisfy a server that now requires one.
      if (this.clientAuth === 'require' && ticket.clientCertificates.length === 0) continue;
      let suite: CipherSuite | undefined;
      if (retry !== undefined) suite = retry.suite.hash === ticketSuite.hash ? retry.suite : undefined;
      else suite = offeredSuites.includes(ticketSuite) ? ticketSuite : offeredSuites.find((s) => s.hash === ticketSuite.hash);
      if (suite === undefined) continue;
      const clientAge = (id.obfuscatedTicketAge - ticket.ageAdd) >>> 0;
      return { index: i, ticket, suite, offered, clientAge, serverAge };
    }
    return undefined;
  }

  /** Verifies the chosen PSK's binder over the truncated ClientHello; decrypt_error on mismatch. */
  private checkBinder(psk: ChosenPsk, clientHello: Uint8Array, afterRetry: boolean): void {
    const truncated = clientHello.subarray(0, clientHello.length - psk.offered.bindersLength);
    const hash = afterRetry ? this.transcript.hashWith(truncated) : this.crypto.hash(psk.suite.hash, truncated);
    const expected = new KeySchedule(this.crypto, psk.suite.hash, psk.ticket.psk).binder(false, hash);
    const binder = psk.offered.binders[psk.index]!;
    if (binder.length !== expected.length || !constantTimeEqual(binder, expected)) fail(TlsAlert.decrypt_error, 'PSK binder does not verify');
  }

  private acceptsEarlyData(psk: ChosenPsk, suite: CipherSuite): boolean {
    const policy = this.config.earlyData ?? false;
    const t = psk.ticket;
    if (policy === false || psk.index !== 0 || t.maxEarlyData === 0) return false;
    if (t.cipherSuite !== suite.code || t.alpn !== this.negotiatedAlpn) return false;
    if (Math.abs(psk.clientAge - psk.serverAge) > this.maxTicketAgeSkew) return false;
    if (policy === true) return true;
    return policy({
      serverName: this.serverName,
      alpn: this.negotiatedAlpn,
      ticketAge: psk.serverAge,
      applicationData: t.applicationData,
      earlyDataContext: t.earlyDataContext,
    });
  }

  private onClientCertificate(body: Uint8Array, raw: Uint8Array): void {
    const cert = decodeCertificate(body);
    if (cert.context.length !== 0) fail(TlsAlert.illegal_parameter, 'client Certificate context does not match the request');
    const offered = new Set<number>();
    for (const e of cert.entries) checkExtensions(e.extensions, ExtensionContext.certificate, offered);
    this.transcript.add(raw);
    if (cert.entries.length === 0) {
      if (this.clientAuth === 'require') fail(TlsAlert.certificate_required, 'client sent no certificate');
      this.state = 'wait_client_finished';
      return;
    }
    this.peerChain = cert.entries.map((e) => e.data.slice());
    this.state = 'wait_client_certificate_verify';
  }

  private onClientCertificateVerify(body: Uint8Array, raw: Uint8Array): void {
    const cv = decodeCertificateVerify(body);
    if (!this.schemes.includes(cv.scheme) || isForbiddenInCertificateVerify(cv.scheme)) {
      fail(TlsAlert.illegal_parameter, `CertificateVerify with unrequested scheme 0x${cv.scheme.toString(16)}`);
    }
    this.acceptPeerProof('client', this.peerChain!, cv, this.transcript.hash(), this.verify, {
      trusted: this.config.trustedCertificates ?? [],
      serverName: undefined,
    });
    this.transcript.add(raw);
    this.state = 'wait_client_finished';
  }

  protected resumeAfterVerdict(): void {
    // The client's Finished is processed from the buffered input.
  }

  private onClientFinished(body: Uint8Array, raw: Uint8Array): void {
    const schedule = this.schedule!;
    const suite = this.suite!;
    const expected = schedule.verifyData(this.clientHandshakeSecret!, this.transcript.hash());
    if (body.length !== hashLength(suite.hash) || !constantTimeEqual(body, expected)) fail(TlsAlert.decrypt_error, 'client Finished does not verify');
    this.transcript.add(raw);
    this.resumptionMasterSecret = schedule.resumptionMasterSecret(this.transcript.hash());
    this.emitSecret('oneRtt', 'read', this.clientAppSecret!, 'CLIENT_TRAFFIC_SECRET_0');
    this.readLevel = 'oneRtt';
    this.state = 'connected';
    this.emit({
      type: 'handshakeComplete',
      alpn: this.negotiatedAlpn,
      resumed: this.resumed,
      earlyData: this.earlyData,
      cipherSuite: suite.name,
      group: this.group,
      signatureScheme: this.signatureScheme,
      peerCertificates: this.peerChain,
      serverName: this.serverName,
      ...(this.resumptionData !== undefined ? { resumptionData: this.resumptionData } : {}),
    });
  }

  /**
   * Queues a NewSessionTicket at the 'oneRtt' level (after the handshake completed). Returns
   * false when no ticket can be issued: the client did not offer psk_dhe_ke. The ticket keeps
   * the client's certificate chain, if it sent one: resuming from it restores that identity
   * (a PSK handshake carries no certificates). Throws TypeError before completion or without a
   * `ticketSealer`.
   */
  sendSessionTicket(now: number, options: SessionTicketOptions = {}): boolean {
    if (this.state !== 'connected') throw new TypeError('sendSessionTicket: the handshake is not complete');
    if (this.ticketSealer === undefined) throw new TypeError('sendSessionTicket: the server has no ticketSealer');
    if (!this.clientAllowsTickets) return false;
    const lifetime = checkLifetime(options.lifetime ?? this.ticketLifetime, 'lifetime');
    const suite = this.suite!;
    const nonce = Uint8Array.of((this.ticketCount >> 8) & 0xff, this.ticketCount & 0xff);
    this.ticketCount++;
    const ageBytes = new Uint8Array(4);
    this.crypto.randomFill(ageBytes);
    const ageAdd = ((ageBytes[0]! << 24) | (ageBytes[1]! << 16) | (ageBytes[2]! << 8) | ageBytes[3]!) >>> 0;
    const policy = this.config.earlyData ?? false;
    const maxEarlyData = policy === false ? 0 : this.quic ? 0xffffffff : (this.config.maxEarlyDataSize ?? 16384);
    const state: TicketState = {
      cipherSuite: suite.code,
      psk: resumptionPsk(this.crypto, suite.hash, this.resumptionMasterSecret!, nonce),
      issuedAt: now,
      lifetime,
      ageAdd,
      maxEarlyData,
      alpn: this.negotiatedAlpn,
      serverName: this.serverName,
      applicationData: options.applicationData ?? EMPTY,
      earlyDataContext: options.earlyDataContext ?? EMPTY,
      clientCertificates: this.peerChain ?? [],
    };
    const ticket = this.ticketSealer.seal(encodeTicketState(state));
    const extensions: Extension[] = maxEarlyData > 0 ? [{ type: ExtensionType.early_data, data: encodeMaxEarlyData(maxEarlyData) }] : [];
    this.send('oneRtt', encodeNewSessionTicket({ lifetime, ageAdd, nonce, ticket, extensions }));
    return true;
  }
}

function checkLifetime(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > MAX_TICKET_LIFETIME) throw new RangeError(`${what} must be an integer of seconds in 0..604800, got ${v}`);
  return v;
}

/** A TLS 1.3 server engine. Throws TypeError for an invalid configuration. */
export function createTlsServer(config: TlsServerConfig): TlsServer {
  return new TlsServer(config);
}
