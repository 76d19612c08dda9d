/**
 * The TLS 1.3 client state machine (RFC 8446 §2, with RFC 9001's QUIC profile): ClientHello
 * (with key shares, optional PSK + binder and 0-RTT), HelloRetryRequest, the server's
 * encrypted flight, the client's second flight, and post-handshake NewSessionTicket.
 */
import { hashLength, type KeyExchangeGroup, type KeyShare, type Signer } from '../crypto/backend.js';
import { QuicError, TransportError } from '../transport/errors.js';
import { constantTimeEqual } from '../util/bytes.js';
import { TlsAlert } from './alerts.js';
import { resolveCipherSuites, type CipherSuite } from './cipher-suites.js';
import { cachedSigner, certificateVerifyContent, fail, TlsEngine } from './engine.js';
import {
  checkEmpty,
  checkExtensions,
  decodeAlpn,
  decodeCookie,
  decodeKeyShareRetry,
  decodeKeyShareServer,
  decodeMaxEarlyData,
  decodeSelectedPsk,
  decodeSignatureSchemes,
  decodeSupportedVersionServer,
  encodeAlpn,
  encodeCookie,
  encodeKeyShareClient,
  encodeOfferedPsks,
  encodePskModes,
  encodeServerName,
  encodeSignatureSchemes,
  encodeSupportedGroups,
  encodeSupportedVersionsClient,
  ExtensionContext,
  ExtensionType,
  findExtension,
  groupCode,
  groupFromCode,
  PskMode,
  type Extension,
} from './extensions.js';
import { KeySchedule, resumptionPsk, Transcript } from './key-schedule.js';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeEncryptedExtensions,
  decodeKeyUpdate,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeCertificate,
  encodeCertificateVerify,
  encodeClientHello,
  encodeEndOfEarlyData,
  encodeFinished,
  HandshakeType,
  isHelloRetryRequest,
  LEGACY_VERSION,
  TLS13,
} from './messages.js';
import {
  isForbiddenInCertificateVerify,
  isIpLiteral,
  resolveAlpn,
  resolveGroups,
  resolveSignatureSchemes,
  resolveTransportParameters,
} from './negotiation.js';
import {
  decodeClientSession,
  encodeClientSession,
  isSessionUsable,
  MAX_TICKET_LIFETIME,
  obfuscatedTicketAge,
  type ClientSession,
} from './session.js';
import type { EncryptionLevel, TlsClientConfig } from './types.js';

type ClientState =
  | 'start'
  | 'wait_server_hello'
  | 'wait_encrypted_extensions'
  | 'wait_certificate_or_request'
  | 'wait_certificate'
  | 'wait_certificate_verify'
  | 'wait_finished'
  | 'connected';

const NO_SESSION_ID = new Uint8Array(0);
const NULL_COMPRESSION = Uint8Array.of(0);
const EMPTY = new Uint8Array(0);

/** A TLS 1.3 client. Create with `createTlsClient`; drive with `start`, `receive`, `pollOutput`, `pollEvent`. */
export class TlsClient extends TlsEngine {
  private state: ClientState = 'start';
  private readonly suites: CipherSuite[];
  private readonly groups: KeyExchangeGroup[];
  private readonly keyShareGroups: KeyExchangeGroup[];
  private readonly schemes: number[];
  private readonly alpn: string[];
  private transportParameters: Uint8Array | undefined;
  private readonly serverName: string | undefined;
  private readonly config: TlsClientConfig;
  private readonly verify: 'none' | 'builtin' | 'custom';

  private readonly transcript: Transcript;
  private keyShares = new Map<number, KeyShare>();
  private sentTypes: Set<number> = new Set();
  private cookie: Uint8Array | undefined;
  private helloRetrySuite: CipherSuite | undefined;
  private session: ClientSession | undefined;
  private sessionSuite: CipherSuite | undefined;
  private earlyDataOffered = false;
  private earlyData: 'accepted' | 'rejected' | 'not-offered' = 'not-offered';
  private pskAccepted = false;
  private group: KeyExchangeGroup | undefined;
  private serverScheme: number | undefined;

  private schedule: KeySchedule | undefined;
  private clientHandshakeSecret: Uint8Array | undefined;
  private serverHandshakeSecret: Uint8Array | undefined;
  private resumptionMasterSecret: Uint8Array | undefined;
  private negotiatedAlpn: string | undefined;
  private peerTransportParameters: Uint8Array = EMPTY;
  private peerChain: Uint8Array[] | undefined;
  private certificateRequest: { context: Uint8Array; schemes: number[] } | undefined;

  constructor(config: TlsClientConfig) {
    super(config);
    this.config = config;
    this.suites = resolveCipherSuites(config.cipherSuites);
    this.groups = resolveGroups(config.groups, 'groups');
    this.keyShareGroups = config.keyShareGroups === undefined ? [this.groups[0]!] : resolveGroups(config.keyShareGroups, 'keyShareGroups');
    for (const g of this.keyShareGroups) {
      if (!this.groups.includes(g)) throw new TypeError(`keyShareGroups: ${g} is not in groups`);
    }
    this.schemes = resolveSignatureSchemes(config.signatureSchemes);
    this.alpn = resolveAlpn(config, this.quic);
    this.transportParameters = resolveTransportParameters(config, this.quic);
    this.serverName = config.serverName;
    this.verify = config.verify ?? 'builtin';
    if (this.verify === 'builtin' && (config.trustedCertificates === undefined || config.trustedCertificates.length === 0)) {
      throw new TypeError("verify 'builtin' needs trustedCertificates (or choose verify: 'none' | 'custom')");
    }
    if (config.session !== undefined) this.session = decodeClientSession(config.session);
    this.transcript = new Transcript(this.crypto);
  }

  /** Replaces this endpoint's transport parameters; only before `start`. */
  setTransportParameters(data: Uint8Array): void {
    if (this.state !== 'start') throw new TypeError('setTransportParameters: the ClientHello was already sent');
    this.transportParameters = data;
  }

  /** True once the handshake completed (server Finished verified, client Finished queued). */
  get isHandshakeComplete(): boolean {
    return this.state === 'connected';
  }

  /** The negotiated ALPN protocol, once known. */
  get alpnProtocol(): string | undefined {
    return this.negotiatedAlpn;
  }

  /** Queues the ClientHello at the 'initial' level (and emits the 0-RTT write secret when 0-RTT is offered). */
  start(now: number): void {
    if (this.state !== 'start') throw new TypeError('start: the client was already started');
    this.now = now;
    this.local(() => {
      this.crypto.randomFill(this.clientRandom);
      for (const g of this.keyShareGroups) this.keyShares.set(groupCode(g), this.crypto.generateKeyShare(g));
      this.chooseSession(now);
      this.sendClientHello();
      this.state = 'wait_server_hello';
    });
  }

  private chooseSession(now: number): void {
    const s = this.session;
    this.session = undefined;
    if (s === undefined) return;
    const suite = this.suites.find((c) => c.code === s.cipherSuite);
    if (suite === undefined || !isSessionUsable(s, now) || s.serverName !== this.serverName) return;
    this.session = s;
    this.sessionSuite = suite;
    const alpnOk = s.alpn === undefined ? this.alpn.length === 0 : this.alpn.includes(s.alpn);
    const allowed = this.quic ? s.maxEarlyData === 0xffffffff : s.maxEarlyData > 0;
    this.earlyDataOffered = this.config.earlyData !== false && allowed && alpnOk;
  }

  private sendClientHello(): void {
    const retry = this.helloRetrySuite !== undefined;
    const exts: Extension[] = [];
    if (this.serverName !== undefined && !isIpLiteral(this.serverName)) {
      exts.push({ type: ExtensionType.server_name, data: encodeServerName(this.serverName) });
    }
    exts.push({ type: ExtensionType.supported_groups, data: encodeSupportedGroups(this.groups.map(groupCode)) });
    exts.push({ type: ExtensionType.signature_algorithms, data: encodeSignatureSchemes(this.schemes) });
    exts.push({ type: ExtensionType.supported_versions, data: encodeSupportedVersionsClient([TLS13]) });
    const shares = [...this.keyShares].map(([group, share]) => ({ group, keyExchange: share.publicKey }));
    exts.push({ type: ExtensionType.key_share, data: encodeKeyShareClient(shares) });
    exts.push({ type: ExtensionType.psk_key_exchange_modes, data: encodePskModes([PskMode.psk_dhe_ke]) });
    if (this.alpn.length > 0) exts.push({ type: ExtensionType.application_layer_protocol_negotiation, data: encodeAlpn(this.alpn) });
    if (this.quic && this.transportParameters !== undefined) {
      exts.push({ type: ExtensionType.quic_transport_parameters, data: this.transportParameters });
    }
    if (this.cookie !== undefined) exts.push({ type: ExtensionType.cookie, data: encodeCookie(this.cookie) });
    if (this.earlyDataOffered && !retry) exts.push({ type: ExtensionType.early_data, data: EMPTY });

    const hooked = this.config.extensionHook ? this.config.extensionHook('client_hello', exts) : exts;
    const types = new Set<number>();
    for (const e of hooked) {
      if (types.has(e.type)) throw new TypeError(`extensionHook returned extension ${e.type} twice`);
      if (e.type === ExtensionType.pre_shared_key) throw new TypeError('extensionHook must not add pre_shared_key');
      types.add(e.type);
    }
    const session = this.session;
    const pskSuite = this.sessionSuite;
    let all = hooked;
    let binderLength = 0;
    if (session !== undefined && pskSuite !== undefined) {
      binderLength = hashLength(pskSuite.hash);
      const identity = { identity: session.ticket, obfuscatedTicketAge: obfuscatedTicketAge(session, this.now) };
      all = [...hooked, { type: ExtensionType.pre_shared_key, data: encodeOfferedPsks([identity], [new Uint8Array(binderLength)]) }];
      types.add(ExtensionType.pre_shared_key);
    }
    const ch = encodeClientHello({
      legacyVersion: LEGACY_VERSION,
      random: this.clientRandom,
      legacySessionId: NO_SESSION_ID,
      cipherSuites: this.suites.map((s) => s.code),
      legacyCompressionMethods: NULL_COMPRESSION,
      extensions: all,
    });
    if (session !== undefined && pskSuite !== undefined) {
      // Binder over the ClientHello up to (not including) the binders list: 2-byte list length, 1-byte binder length, binder.
      const truncated = ch.subarray(0, ch.length - (3 + binderLength));
      const truncatedHash = retry ? this.transcript.hashWith(truncated) : this.crypto.hash(pskSuite.hash, truncated);
      const binder = new KeySchedule(this.crypto, pskSuite.hash, session.psk).binder(false, truncatedHash);
      ch.set(binder, ch.length - binderLength);
    }
    this.sentTypes = types;
    this.transcript.add(ch);
    this.send('initial', ch);

    if (this.earlyDataOffered && !retry && session !== undefined && pskSuite !== undefined) {
      const early = new KeySchedule(this.crypto, pskSuite.hash, session.psk);
      const chHash = this.crypto.hash(pskSuite.hash, ch);
      this.suite = pskSuite;
      this.emitSecret('zeroRtt', 'write', early.clientEarlyTrafficSecret(chHash), 'CLIENT_EARLY_TRAFFIC_SECRET');
      this.log('EARLY_EXPORTER_SECRET', early.earlyExporterMasterSecret(chHash));
      this.suite = undefined;
    }
  }

  protected handleMessage(type: number, body: Uint8Array, raw: Uint8Array, level: EncryptionLevel): void {
    switch (this.state) {
      case 'wait_server_hello':
        if (type !== HandshakeType.server_hello) this.unexpected(type, this.state);
        return this.onServerHello(body, raw);
      case 'wait_encrypted_extensions':
        if (type !== HandshakeType.encrypted_extensions) this.unexpected(type, this.state);
        return this.onEncryptedExtensions(body, raw);
      case 'wait_certificate_or_request':
        if (type === HandshakeType.certificate_request) return this.onCertificateRequest(body, raw);
        if (type !== HandshakeType.certificate) this.unexpected(type, this.state);
        return this.onCertificate(body, raw);
      case 'wait_certificate':
        if (type !== HandshakeType.certificate) this.unexpected(type, this.state);
        return this.onCertificate(body, raw);
      case 'wait_certificate_verify':
        if (type !== HandshakeType.certificate_verify) this.unexpected(type, this.state);
        return this.onCertificateVerify(body, raw);
      case 'wait_finished':
        if (type !== HandshakeType.finished) this.unexpected(type, this.state);
        return this.onFinished(body, raw);
      case 'connected':
        return this.onPostHandshake(type, body, level);
      default:
        this.unexpected(type, this.state);
    }
  }

  private onServerHello(body: Uint8Array, raw: Uint8Array): void {
    const sh = decodeServerHello(body);
    const retry = isHelloRetryRequest(sh);
    checkExtensions(sh.extensions, retry ? ExtensionContext.hello_retry_request : ExtensionContext.server_hello, this.sentTypes);
    const sv = findExtension(sh.extensions, ExtensionType.supported_versions);
    if (sv === undefined) fail(TlsAlert.protocol_version, 'server did not negotiate TLS 1.3');
    if (decodeSupportedVersionServer(sv) !== TLS13) fail(TlsAlert.illegal_parameter, 'server selected a version that was not offered');
    if (sh.legacyVersion !== LEGACY_VERSION) fail(TlsAlert.illegal_parameter, `ServerHello legacy_version 0x${sh.legacyVersion.toString(16)}`);
    if (sh.legacySessionIdEcho.length !== 0) fail(TlsAlert.illegal_parameter, 'legacy_session_id_echo does not match');
    if (sh.legacyCompressionMethod !== 0) fail(TlsAlert.illegal_parameter, 'non-null compression method');
    const suite = this.suites.find((s) => s.code === sh.cipherSuite);
    if (suite === undefined) fail(TlsAlert.illegal_parameter, `server selected cipher suite 0x${sh.cipherSuite.toString(16)} that was not offered`);
    if (this.helloRetrySuite !== undefined && suite !== this.helloRetrySuite) {
      fail(TlsAlert.illegal_parameter, 'ServerHello cipher suite differs from the HelloRetryRequest');
    }
    if (retry) return this.onHelloRetryRequest(sh.extensions, suite, raw);

    let psk: Uint8Array | undefined;
    const selected = findExtension(sh.extensions, ExtensionType.pre_shared_key);
    if (selected !== undefined) {
      if (decodeSelectedPsk(selected) !== 0 || this.session === undefined) fail(TlsAlert.illegal_parameter, 'server selected a PSK that was not offered');
      if (this.sessionSuite!.hash !== suite.hash) fail(TlsAlert.illegal_parameter, 'server selected a PSK with a cipher suite of another hash');
      psk = this.session.psk;
      this.pskAccepted = true;
    }
    const ks = findExtension(sh.extensions, ExtensionType.key_share);
    if (ks === undefined) fail(TlsAlert.missing_extension, 'ServerHello without key_share (only psk_dhe_ke is offered)');
    const entry = decodeKeyShareServer(ks);
    const share = this.keyShares.get(entry.group);
    if (share === undefined) fail(TlsAlert.illegal_parameter, `server key share for group 0x${entry.group.toString(16)} that was not offered`);
    const shared = share.deriveSecret(entry.keyExchange);
    if (shared === undefined) fail(TlsAlert.illegal_parameter, 'invalid server key share');
    this.group = groupFromCode(entry.group);

    this.suite = suite;
    this.transcript.setHash(suite.hash);
    this.transcript.add(raw);
    const schedule = new KeySchedule(this.crypto, suite.hash, psk);
    schedule.enterHandshake(shared);
    const helloHash = this.transcript.hash();
    this.clientHandshakeSecret = schedule.clientHandshakeTrafficSecret(helloHash);
    this.serverHandshakeSecret = schedule.serverHandshakeTrafficSecret(helloHash);
    this.schedule = schedule;
    this.keyShares.clear();
    this.emitSecret('handshake', 'read', this.serverHandshakeSecret, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
    this.emitSecret('handshake', 'write', this.clientHandshakeSecret, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
    this.readLevel = 'handshake';
    this.state = 'wait_encrypted_extensions';
  }

  private onHelloRetryRequest(extensions: readonly Extension[], suite: CipherSuite, raw: Uint8Array): void {
    if (this.helloRetrySuite !== undefined) fail(TlsAlert.unexpected_message, 'second HelloRetryRequest');
    const ks = findExtension(extensions, ExtensionType.key_share);
    const cookie = findExtension(extensions, ExtensionType.cookie);
    if (ks === undefined && cookie === undefined) fail(TlsAlert.illegal_parameter, 'HelloRetryRequest would not change the ClientHello');
    let group: KeyExchangeGroup | undefined;
    if (ks !== undefined) {
      const code = decodeKeyShareRetry(ks);
      group = groupFromCode(code);
      if (group === undefined || !this.groups.includes(group)) fail(TlsAlert.illegal_parameter, `HelloRetryRequest selected unoffered group 0x${code.toString(16)}`);
      if (this.keyShares.has(code)) fail(TlsAlert.illegal_parameter, 'HelloRetryRequest selected a group that already had a key share');
    }
    this.helloRetrySuite = suite;
    this.transcript.setHash(suite.hash);
    this.transcript.replaceWithMessageHash();
    this.transcript.add(raw);
    if (cookie !== undefined) this.cookie = decodeCookie(cookie).slice();
    if (group !== undefined) {
      this.keyShares = new Map([[groupCode(group), this.crypto.generateKeyShare(group)]]);
    }
    if (this.session !== undefined && this.sessionSuite!.hash !== suite.hash) {
      this.session = undefined;
      this.sessionSuite = undefined;
    }
    if (this.earlyDataOffered) {
      this.earlyDataOffered = false;
      this.earlyData = 'rejected';
      this.emit({ type: 'earlyData', status: 'rejected' });
    }
    this.sendClientHello();
  }

  private onEncryptedExtensions(body: Uint8Array, raw: Uint8Array): void {
    const ee = decodeEncryptedExtensions(body);
    checkExtensions(ee.extensions, ExtensionContext.encrypted_extensions, this.sentTypes);
    const sni = findExtension(ee.extensions, ExtensionType.server_name);
    if (sni !== undefined) checkEmpty(sni, 'server_name in EncryptedExtensions');
    const alpn = findExtension(ee.extensions, ExtensionType.application_layer_protocol_negotiation);
    if (alpn !== undefined) {
      const list = decodeAlpn(alpn);
      if (list.length !== 1 || !this.alpn.includes(list[0]!)) fail(TlsAlert.illegal_parameter, 'server selected an ALPN protocol that was not offered');
      this.negotiatedAlpn = list[0];
    } else if (this.quic) {
      fail(TlsAlert.no_application_protocol, 'server did not select an application protocol');
    }
    const tp = findExtension(ee.extensions, ExtensionType.quic_transport_parameters);
    if (this.quic) {
      if (tp === undefined) fail(TlsAlert.missing_extension, 'EncryptedExtensions without quic_transport_parameters');
      this.peerTransportParameters = tp.slice();
      this.emit({ type: 'peerTransportParameters', data: this.peerTransportParameters });
    }
    const early = findExtension(ee.extensions, ExtensionType.early_data);
    if (early !== undefined) {
      checkEmpty(early, 'early_data in EncryptedExtensions');
      if (!this.pskAccepted) fail(TlsAlert.illegal_parameter, 'server accepted early data without accepting the PSK');
      if (this.negotiatedAlpn !== this.session!.alpn) fail(TlsAlert.illegal_parameter, 'server accepted early data with a different ALPN');
      if (this.suite !== this.sessionSuite) fail(TlsAlert.illegal_parameter, 'server accepted early data with a different cipher suite');
      this.earlyData = 'accepted';
      this.emit({ type: 'earlyData', status: 'accepted' });
    } else if (this.earlyDataOffered) {
      this.earlyData = 'rejected';
      this.emit({ type: 'earlyData', status: 'rejected' });
    }
    this.transcript.add(raw);
    this.state = this.pskAccepted ? 'wait_finished' : 'wait_certificate_or_request';
  }

  private onCertificateRequest(body: Uint8Array, raw: Uint8Array): void {
    const cr = decodeCertificateRequest(body);
    if (cr.context.length !== 0) fail(TlsAlert.illegal_parameter, 'CertificateRequest context must be empty during the handshake');
    checkExtensions(cr.extensions, ExtensionContext.certificate_request);
    const sa = findExtension(cr.extensions, ExtensionType.signature_algorithms);
    if (sa === undefined) fail(TlsAlert.missing_extension, 'CertificateRequest without signature_algorithms');
    this.certificateRequest = { context: cr.context.slice(), schemes: decodeSignatureSchemes(sa) };
    this.transcript.add(raw);
    this.state = 'wait_certificate';
  }

  private onCertificate(body: Uint8Array, raw: Uint8Array): void {
    const cert = decodeCertificate(body);
    if (cert.context.length !== 0) fail(TlsAlert.illegal_parameter, 'server Certificate context must be empty');
    if (cert.entries.length === 0) fail(TlsAlert.decode_error, 'server sent an empty Certificate');
    for (const e of cert.entries) checkExtensions(e.extensions, ExtensionContext.certificate, this.sentTypes);
    this.peerChain = cert.entries.map((e) => e.data.slice());
    this.transcript.add(raw);
    this.state = 'wait_certificate_verify';
  }

  private onCertificateVerify(body: Uint8Array, raw: Uint8Array): void {
    const cv = decodeCertificateVerify(body);
    if (!this.schemes.includes(cv.scheme) || isForbiddenInCertificateVerify(cv.scheme)) {
      fail(TlsAlert.illegal_parameter, `CertificateVerify with unoffered scheme 0x${cv.scheme.toString(16)}`);
    }
    this.acceptPeerProof('server', this.peerChain!, cv, this.transcript.hash(), this.verify, {
      trusted: this.config.trustedCertificates ?? [],
      serverName: this.serverName,
    });
    this.transcript.add(raw);
    this.serverScheme = cv.scheme;
    this.state = 'wait_finished';
  }

  protected resumeAfterVerdict(): void {
    // Nothing to do: the Finished that follows is processed from the buffered input.
  }

  private onFinished(body: Uint8Array, raw: Uint8Array): void {
    const schedule = this.schedule!;
    const suite = this.suite!;
    const expected = schedule.verifyData(this.serverHandshakeSecret!, this.transcript.hash());
    if (body.length !== hashLength(suite.hash) || !constantTimeEqual(body, expected)) {
      fail(TlsAlert.decrypt_error, 'server Finished does not verify');
    }
    this.transcript.add(raw);
    const finishedHash = this.transcript.hash();
    schedule.enterMaster();
    const clientAppSecret = schedule.clientApplicationTrafficSecret(finishedHash);
    const serverAppSecret = schedule.serverApplicationTrafficSecret(finishedHash);
    this.emitSecret('oneRtt', 'read', serverAppSecret, 'SERVER_TRAFFIC_SECRET_0');
    this.setExporterSecret(schedule.exporterMasterSecret(finishedHash));

    if (!this.quic && this.earlyData === 'accepted') {
      const eoed = encodeEndOfEarlyData();
      this.transcript.add(eoed);
      this.send('zeroRtt', eoed);
    }
    if (this.certificateRequest !== undefined) this.sendClientCertificate(this.certificateRequest);
    const finished = encodeFinished({ verifyData: schedule.verifyData(this.clientHandshakeSecret!, this.transcript.hash()) });
    this.transcript.add(finished);
    this.send('handshake', finished);
    this.resumptionMasterSecret = schedule.resumptionMasterSecret(this.transcript.hash());
    this.emitSecret('oneRtt', 'write', clientAppSecret, 'CLIENT_TRAFFIC_SECRET_0');
    this.readLevel = 'oneRtt';
    this.state = 'connected';
    this.emit({
      type: 'handshakeComplete',
      alpn: this.negotiatedAlpn,
      resumed: this.pskAccepted,
      earlyData: this.earlyData,
      cipherSuite: suite.name,
      group: this.group,
      signatureScheme: this.serverScheme,
      peerCertificates: this.peerChain,
      serverName: this.serverName,
    });
  }

  private sendClientCertificate(request: { context: Uint8Array; schemes: number[] }): void {
    const creds = this.config.credentials;
    let signer: Signer | undefined;
    let scheme: number | undefined;
    if (creds !== undefined && creds.certificateChain.length > 0) {
      signer = creds.signer ?? (creds.privateKey !== undefined ? cachedSigner(this.crypto, creds.privateKey) : undefined);
      scheme = signer?.schemes.find((s) => request.schemes.includes(s));
    }
    if (creds === undefined || signer === undefined || scheme === undefined) {
      const empty = encodeCertificate({ context: request.context, entries: [] });
      this.transcript.add(empty);
      this.send('handshake', empty);
      return;
    }
    const cert = encodeCertificate({ context: request.context, entries: creds.certificateChain.map((data) => ({ data, extensions: [] })) });
    this.transcript.add(cert);
    this.send('handshake', cert);
    const signature = signer.sign(scheme, certificateVerifyContent('client', this.transcript.hash()));
    const cv = encodeCertificateVerify({ scheme, signature });
    this.transcript.add(cv);
    this.send('handshake', cv);
  }

  private onPostHandshake(type: number, body: Uint8Array, level: EncryptionLevel): void {
    if (type === HandshakeType.key_update) {
      decodeKeyUpdate(body);
      fail(TlsAlert.unexpected_message, 'KeyUpdate is not used (QUIC has its own key update)');
    }
    if (type !== HandshakeType.new_session_ticket || level !== 'oneRtt') this.unexpected(type, this.state);
    const nst = decodeNewSessionTicket(body);
    if (nst.lifetime > MAX_TICKET_LIFETIME) fail(TlsAlert.illegal_parameter, `ticket lifetime ${nst.lifetime} exceeds 7 days`);
    checkExtensions(nst.extensions, ExtensionContext.new_session_ticket);
    const early = findExtension(nst.extensions, ExtensionType.early_data);
    const maxEarlyData = early === undefined ? 0 : decodeMaxEarlyData(early);
    if (this.quic && early !== undefined && maxEarlyData !== 0xffffffff) {
      throw new QuicError(TransportError.PROTOCOL_VIOLATION, `NewSessionTicket max_early_data_size ${maxEarlyData} (QUIC requires 0xffffffff)`);
    }
    if (nst.lifetime === 0) return;
    const suite = this.suite!;
    const session: ClientSession = {
      cipherSuite: suite.code,
      psk: resumptionPsk(this.crypto, suite.hash, this.resumptionMasterSecret!, nst.nonce),
      ticket: nst.ticket.slice(),
      ageAdd: nst.ageAdd,
      lifetime: nst.lifetime,
      receivedAt: this.now,
      maxEarlyData,
      alpn: this.negotiatedAlpn,
      serverName: this.serverName,
      transportParameters: this.peerTransportParameters,
    };
    this.emit({ type: 'sessionTicket', session: encodeClientSession(session), lifetime: nst.lifetime, maxEarlyData });
  }
}

/** A TLS 1.3 client engine. Throws TypeError for an invalid configuration. */
export function createTlsClient(config: TlsClientConfig): TlsClient {
  return new TlsClient(config);
}
