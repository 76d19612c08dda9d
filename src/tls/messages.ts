/**
 * TLS 1.3 handshake messages (RFC 8446 §4): encoding to and decoding from the wire form
 * `HandshakeType(1) || uint24 length || body`. Decoders take the body, return structures whose
 * byte fields are views into it, and throw only `decode_error` (or `illegal_parameter` where
 * the RFC says so) as QuicError. Extensions stay in wire order as raw bodies, so
 * decode→encode reproduces the input exactly.
 */
import { QuicError } from '../transport/errors.js';
import { TlsAlert } from './alerts.js';
import type { Extension } from './extensions.js';
import { ByteReader, ByteWriter, decodeError } from './wire.js';

/** HandshakeType code points. */
export const HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;

/** TLS 1.2 as the legacy_version of every TLS 1.3 hello; TLS 1.3 itself. */
export const LEGACY_VERSION = 0x0303;
export const TLS13 = 0x0304;

/** The ServerHello.random that marks a HelloRetryRequest: SHA-256("HelloRetryRequest"). */
export const HELLO_RETRY_REQUEST_RANDOM = Uint8Array.from([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16,
  0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

export interface ClientHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly legacySessionId: Uint8Array;
  readonly cipherSuites: readonly number[];
  readonly legacyCompressionMethods: Uint8Array;
  readonly extensions: readonly Extension[];
}

/** ServerHello, and HelloRetryRequest (same structure, `random` = HELLO_RETRY_REQUEST_RANDOM). */
export interface ServerHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly legacySessionIdEcho: Uint8Array;
  readonly cipherSuite: number;
  readonly legacyCompressionMethod: number;
  readonly extensions: readonly Extension[];
}

export interface EncryptedExtensions {
  readonly extensions: readonly Extension[];
}

export interface CertificateEntry {
  /** DER X.509 certificate. */
  readonly data: Uint8Array;
  readonly extensions: readonly Extension[];
}

export interface CertificateMessage {
  readonly context: Uint8Array;
  readonly entries: readonly CertificateEntry[];
}

export interface CertificateRequest {
  readonly context: Uint8Array;
  readonly extensions: readonly Extension[];
}

export interface CertificateVerify {
  readonly scheme: number;
  readonly signature: Uint8Array;
}

export interface Finished {
  readonly verifyData: Uint8Array;
}

export interface NewSessionTicket {
  /** Seconds. */
  readonly lifetime: number;
  readonly ageAdd: number;
  readonly nonce: Uint8Array;
  readonly ticket: Uint8Array;
  readonly extensions: readonly Extension[];
}

export interface KeyUpdate {
  /** 0 = update_not_requested, 1 = update_requested. */
  readonly requestUpdate: number;
}

/** True when a decoded ServerHello is a HelloRetryRequest. */
export function isHelloRetryRequest(sh: ServerHello): boolean {
  const r = sh.random;
  if (r.length !== 32) return false;
  for (let i = 0; i < 32; i++) if (r[i] !== HELLO_RETRY_REQUEST_RANDOM[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------
// Encoding

function begin(type: number, capacity = 256): { w: ByteWriter; at: number } {
  const w = new ByteWriter(capacity);
  w.u8(type);
  return { w, at: w.beginLength(3) };
}

function end(w: ByteWriter, at: number): Uint8Array {
  w.endLength(at, 3);
  return w.finish();
}

function writeExtensions(w: ByteWriter, extensions: readonly Extension[]): void {
  const at = w.beginLength(2);
  for (const e of extensions) w.u16(e.type).vector(2, e.data);
  w.endLength(at, 2);
}

export function encodeClientHello(m: ClientHello): Uint8Array {
  const { w, at } = begin(HandshakeType.client_hello, 512);
  w.u16(m.legacyVersion).bytes(m.random).vector(1, m.legacySessionId);
  const s = w.beginLength(2);
  for (const c of m.cipherSuites) w.u16(c);
  w.endLength(s, 2);
  w.vector(1, m.legacyCompressionMethods);
  writeExtensions(w, m.extensions);
  return end(w, at);
}

export function encodeServerHello(m: ServerHello): Uint8Array {
  const { w, at } = begin(HandshakeType.server_hello);
  w.u16(m.legacyVersion).bytes(m.random).vector(1, m.legacySessionIdEcho).u16(m.cipherSuite).u8(m.legacyCompressionMethod);
  writeExtensions(w, m.extensions);
  return end(w, at);
}

export function encodeEncryptedExtensions(m: EncryptedExtensions): Uint8Array {
  const { w, at } = begin(HandshakeType.encrypted_extensions);
  writeExtensions(w, m.extensions);
  return end(w, at);
}

export function encodeCertificate(m: CertificateMessage): Uint8Array {
  let size = 16;
  for (const e of m.entries) size += e.data.length + 16;
  const { w, at } = begin(HandshakeType.certificate, size);
  w.vector(1, m.context);
  const l = w.beginLength(3);
  for (const e of m.entries) {
    w.vector(3, e.data);
    writeExtensions(w, e.extensions);
  }
  w.endLength(l, 3);
  return end(w, at);
}

export function encodeCertificateRequest(m: CertificateRequest): Uint8Array {
  const { w, at } = begin(HandshakeType.certificate_request);
  w.vector(1, m.context);
  writeExtensions(w, m.extensions);
  return end(w, at);
}

export function encodeCertificateVerify(m: CertificateVerify): Uint8Array {
  const { w, at } = begin(HandshakeType.certificate_verify, m.signature.length + 12);
  w.u16(m.scheme).vector(2, m.signature);
  return end(w, at);
}

export function encodeFinished(m: Finished): Uint8Array {
  const { w, at } = begin(HandshakeType.finished, m.verifyData.length + 4);
  w.bytes(m.verifyData);
  return end(w, at);
}

export function encodeNewSessionTicket(m: NewSessionTicket): Uint8Array {
  const { w, at } = begin(HandshakeType.new_session_ticket, m.ticket.length + 64);
  w.u32(m.lifetime).u32(m.ageAdd).vector(1, m.nonce).vector(2, m.ticket);
  writeExtensions(w, m.extensions);
  return end(w, at);
}

export function encodeEndOfEarlyData(): Uint8Array {
  return Uint8Array.of(HandshakeType.end_of_early_data, 0, 0, 0);
}

export function encodeKeyUpdate(m: KeyUpdate): Uint8Array {
  return Uint8Array.of(HandshakeType.key_update, 0, 0, 1, m.requestUpdate);
}

/** The synthetic message_hash message that replaces ClientHello1 in the transcript after a HelloRetryRequest (RFC 8446 §4.4.1). */
export function encodeMessageHash(hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + hash.length);
  out[0] = HandshakeType.message_hash;
  out[3] = hash.length;
  out.set(hash, 4);
  return out;
}

// ---------------------------------------------------------------------------------------
// Decoding (bodies, without the 4-byte header)

function readExtensions(r: ByteReader, what: string): Extension[] {
  const l = r.subReader(2, `${what} extensions`);
  const out: Extension[] = [];
  while (l.remaining > 0) {
    const type = l.u16();
    out.push({ type, data: l.vector(2) });
  }
  return out;
}

function body(b: Uint8Array, what: string): ByteReader {
  return new ByteReader(b, 0, b.length, what);
}

export function decodeClientHello(b: Uint8Array): ClientHello {
  const r = body(b, 'ClientHello');
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  const legacySessionId = r.vector(1, 0, 32);
  const sl = r.subReader(2, 'ClientHello cipher_suites', 2);
  if (sl.remaining % 2 !== 0) decodeError('ClientHello cipher_suites: odd length');
  const cipherSuites: number[] = [];
  while (sl.remaining > 0) cipherSuites.push(sl.u16());
  const legacyCompressionMethods = r.vector(1, 1);
  // A ClientHello without an extensions block is a pre-TLS-1.3 hello: no TLS 1.3 for it.
  if (r.remaining === 0) throw QuicError.fromAlert(TlsAlert.protocol_version, 'ClientHello without extensions (not TLS 1.3)');
  const extensions = readExtensions(r, 'ClientHello');
  r.done();
  return { legacyVersion, random, legacySessionId, cipherSuites, legacyCompressionMethods, extensions };
}

export function decodeServerHello(b: Uint8Array): ServerHello {
  const r = body(b, 'ServerHello');
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  const legacySessionIdEcho = r.vector(1, 0, 32);
  const cipherSuite = r.u16();
  const legacyCompressionMethod = r.u8();
  if (r.remaining === 0) throw QuicError.fromAlert(TlsAlert.protocol_version, 'ServerHello without extensions (not TLS 1.3)');
  const extensions = readExtensions(r, 'ServerHello');
  r.done();
  return { legacyVersion, random, legacySessionIdEcho, cipherSuite, legacyCompressionMethod, extensions };
}

export function decodeEncryptedExtensions(b: Uint8Array): EncryptedExtensions {
  const r = body(b, 'EncryptedExtensions');
  const extensions = readExtensions(r, 'EncryptedExtensions');
  r.done();
  return { extensions };
}

export function decodeCertificate(b: Uint8Array): CertificateMessage {
  const r = body(b, 'Certificate');
  const context = r.vector(1);
  const l = r.subReader(3, 'Certificate list');
  const entries: CertificateEntry[] = [];
  while (l.remaining > 0) {
    const data = l.vector(3, 1);
    entries.push({ data, extensions: readExtensions(l, 'CertificateEntry') });
  }
  r.done();
  return { context, entries };
}

export function decodeCertificateRequest(b: Uint8Array): CertificateRequest {
  const r = body(b, 'CertificateRequest');
  const context = r.vector(1);
  const extensions = readExtensions(r, 'CertificateRequest');
  r.done();
  return { context, extensions };
}

export function decodeCertificateVerify(b: Uint8Array): CertificateVerify {
  const r = body(b, 'CertificateVerify');
  const scheme = r.u16();
  const signature = r.vector(2, 1);
  r.done();
  return { scheme, signature };
}

export function decodeFinished(b: Uint8Array): Finished {
  return { verifyData: b };
}

export function decodeNewSessionTicket(b: Uint8Array): NewSessionTicket {
  const r = body(b, 'NewSessionTicket');
  const lifetime = r.u32();
  const ageAdd = r.u32();
  const nonce = r.vector(1);
  const ticket = r.vector(2, 1);
  const extensions = readExtensions(r, 'NewSessionTicket');
  r.done();
  return { lifetime, ageAdd, nonce, ticket, extensions };
}

export function decodeEndOfEarlyData(b: Uint8Array): void {
  if (b.length !== 0) decodeError('EndOfEarlyData must be empty');
}

export function decodeKeyUpdate(b: Uint8Array): KeyUpdate {
  const r = body(b, 'KeyUpdate');
  const requestUpdate = r.u8();
  r.done();
  if (requestUpdate > 1) throw QuicError.fromAlert(TlsAlert.illegal_parameter, `KeyUpdate request_update ${requestUpdate}`);
  return { requestUpdate };
}
