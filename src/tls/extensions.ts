/**
 * TLS 1.3 extensions (RFC 8446 §4.2, RFC 9001 §8.2): code points, the table of which
 * message may carry which extension, block validation (duplicates, placement, unsolicited
 * responses) and the encoders/decoders of every extension the engine uses. Extension bodies
 * are kept as raw bytes in a message, so decode→encode of a message is byte-identical; these
 * codecs interpret the bodies.
 */
import type { KeyExchangeGroup } from '../crypto/backend.js';
import { QuicError } from '../transport/errors.js';
import { TlsAlert } from './alerts.js';
import { ByteReader, ByteWriter, decodeError } from './wire.js';

/** One extension as it appears on the wire: its type and its opaque body. */
export interface Extension {
  readonly type: number;
  readonly data: Uint8Array;
}

/** Extension type code points. */
export const ExtensionType = {
  server_name: 0,
  max_fragment_length: 1,
  status_request: 5,
  supported_groups: 10,
  signature_algorithms: 13,
  use_srtp: 14,
  heartbeat: 15,
  application_layer_protocol_negotiation: 16,
  signed_certificate_timestamp: 18,
  client_certificate_type: 19,
  server_certificate_type: 20,
  padding: 21,
  record_size_limit: 28,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  certificate_authorities: 47,
  oid_filters: 48,
  post_handshake_auth: 49,
  signature_algorithms_cert: 50,
  key_share: 51,
  quic_transport_parameters: 0x39,
} as const;

/** The messages that carry extensions, as bit flags for the placement table. */
export const ExtensionContext = {
  client_hello: 1,
  server_hello: 2,
  hello_retry_request: 4,
  encrypted_extensions: 8,
  certificate: 16,
  certificate_request: 32,
  new_session_ticket: 64,
} as const;

const CH = ExtensionContext.client_hello;
const SH = ExtensionContext.server_hello;
const HRR = ExtensionContext.hello_retry_request;
const EE = ExtensionContext.encrypted_extensions;
const CT = ExtensionContext.certificate;
const CR = ExtensionContext.certificate_request;
const NST = ExtensionContext.new_session_ticket;

/** Where each recognised extension may appear (RFC 8446 §4.2 table, RFC 8449, RFC 9001 §8.2). */
const PLACEMENT = new Map<number, number>([
  [ExtensionType.server_name, CH | EE],
  [ExtensionType.max_fragment_length, CH | EE],
  [ExtensionType.status_request, CH | CR | CT],
  [ExtensionType.supported_groups, CH | EE],
  [ExtensionType.signature_algorithms, CH | CR],
  [ExtensionType.use_srtp, CH | EE],
  [ExtensionType.heartbeat, CH | EE],
  [ExtensionType.application_layer_protocol_negotiation, CH | EE],
  [ExtensionType.signed_certificate_timestamp, CH | CR | CT],
  [ExtensionType.client_certificate_type, CH | EE],
  [ExtensionType.server_certificate_type, CH | EE],
  [ExtensionType.padding, CH],
  [ExtensionType.record_size_limit, CH | EE],
  [ExtensionType.pre_shared_key, CH | SH],
  [ExtensionType.early_data, CH | EE | NST],
  [ExtensionType.supported_versions, CH | SH | HRR],
  [ExtensionType.cookie, CH | HRR],
  [ExtensionType.psk_key_exchange_modes, CH],
  [ExtensionType.certificate_authorities, CH | CR],
  [ExtensionType.oid_filters, CR],
  [ExtensionType.post_handshake_auth, CH],
  [ExtensionType.signature_algorithms_cert, CH | CR],
  [ExtensionType.key_share, CH | SH | HRR],
  [ExtensionType.quic_transport_parameters, CH | EE],
]);

/** True when the engine knows `type` (it has a row in the RFC 8446 §4.2 table). */
export function isRecognizedExtension(type: number): boolean {
  return PLACEMENT.has(type);
}

/**
 * Checks an extension block received in `context`:
 * - a type appearing twice → illegal_parameter;
 * - a recognised type not allowed in this message → illegal_parameter;
 * - in ClientHello, pre_shared_key not last → illegal_parameter;
 * - in a response (ServerHello, HelloRetryRequest, EncryptedExtensions, Certificate), a type
 *   the peer was not offered (`offered`) → unsupported_extension, except cookie in HRR.
 * Unknown types in ClientHello, CertificateRequest and NewSessionTicket are ignored.
 */
export function checkExtensions(extensions: readonly Extension[], context: number, offered?: ReadonlySet<number>): void {
  const seen = new Set<number>();
  for (let i = 0; i < extensions.length; i++) {
    const t = extensions[i]!.type;
    if (seen.has(t)) throw alert(TlsAlert.illegal_parameter, `duplicate extension ${t}`);
    seen.add(t);
    const allowed = PLACEMENT.get(t);
    if (allowed !== undefined && (allowed & context) === 0) {
      throw alert(TlsAlert.illegal_parameter, `extension ${t} not allowed in ${contextName(context)}`);
    }
    if (context === CH && t === ExtensionType.pre_shared_key && i !== extensions.length - 1) {
      throw alert(TlsAlert.illegal_parameter, 'pre_shared_key is not the last extension of ClientHello');
    }
    if (offered !== undefined && !offered.has(t) && !(context === HRR && t === ExtensionType.cookie)) {
      throw alert(TlsAlert.unsupported_extension, `unsolicited extension ${t} in ${contextName(context)}`);
    }
  }
}

/** The body of the extension of type `type`, or undefined. */
export function findExtension(extensions: readonly Extension[], type: number): Uint8Array | undefined {
  for (const e of extensions) if (e.type === type) return e.data;
  return undefined;
}

function contextName(context: number): string {
  for (const [k, v] of Object.entries(ExtensionContext)) if (v === context) return k;
  return `context ${context}`;
}

function alert(a: number, reason: string): QuicError {
  return QuicError.fromAlert(a, reason);
}

// ---------------------------------------------------------------------------------------
// Named groups

/** NamedGroup code points of the groups the stack implements. */
export const NamedGroup = { secp256r1: 0x0017, secp384r1: 0x0018, x25519: 0x001d } as const;

/** The NamedGroup code of a group. */
export function groupCode(group: KeyExchangeGroup): number {
  return NamedGroup[group];
}

/** The group of a NamedGroup code, or undefined when the stack does not implement it. */
export function groupFromCode(code: number): KeyExchangeGroup | undefined {
  switch (code) {
    case NamedGroup.x25519:
      return 'x25519';
    case NamedGroup.secp256r1:
      return 'secp256r1';
    case NamedGroup.secp384r1:
      return 'secp384r1';
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Codecs. Decoders take an extension body and throw decode_error when it is malformed.

function reader(data: Uint8Array, what: string): ByteReader {
  return new ByteReader(data, 0, data.length, what);
}

function u16List(data: Uint8Array, what: string): number[] {
  const r = reader(data, what);
  const l = r.subReader(2, what, 2);
  if (l.remaining % 2 !== 0) decodeError(`${what}: odd list length`);
  const out: number[] = [];
  while (l.remaining > 0) out.push(l.u16());
  r.done();
  return out;
}

function encodeU16List(values: readonly number[]): Uint8Array {
  const w = new ByteWriter(2 + values.length * 2);
  const at = w.beginLength(2);
  for (const v of values) w.u16(v);
  w.endLength(at, 2);
  return w.finish();
}

/** server_name (RFC 6066 §3) in ClientHello: the host_name entry, if any. */
export function decodeServerName(data: Uint8Array): string | undefined {
  const r = reader(data, 'server_name');
  const l = r.subReader(2, 'server_name', 1);
  let host: string | undefined;
  while (l.remaining > 0) {
    const nameType = l.u8();
    const name = l.vector(2, 1);
    if (nameType === 0) {
      if (host !== undefined) throw alert(TlsAlert.illegal_parameter, 'two host_name entries in server_name');
      host = latin1(name);
    }
  }
  r.done();
  return host;
}

export function encodeServerName(host: string): Uint8Array {
  const name = fromLatin1(host);
  const w = new ByteWriter(5 + name.length);
  const at = w.beginLength(2);
  w.u8(0).vector(2, name);
  w.endLength(at, 2);
  return w.finish();
}

/** application_layer_protocol_negotiation (RFC 7301): the protocol names (bytes as latin1). */
export function decodeAlpn(data: Uint8Array): string[] {
  const r = reader(data, 'ALPN');
  const l = r.subReader(2, 'ALPN', 2);
  const out: string[] = [];
  while (l.remaining > 0) out.push(latin1(l.vector(1, 1)));
  r.done();
  return out;
}

export function encodeAlpn(protocols: readonly string[]): Uint8Array {
  const w = new ByteWriter();
  const at = w.beginLength(2);
  for (const p of protocols) {
    if (p.length === 0) throw new RangeError('ALPN protocol names must not be empty');
    w.vector(1, fromLatin1(p));
  }
  w.endLength(at, 2);
  return w.finish();
}

/** supported_versions in ClientHello: the offered versions. */
export function decodeSupportedVersionsClient(data: Uint8Array): number[] {
  const r = reader(data, 'supported_versions');
  const l = r.subReader(1, 'supported_versions', 2);
  if (l.remaining % 2 !== 0) decodeError('supported_versions: odd list length');
  const out: number[] = [];
  while (l.remaining > 0) out.push(l.u16());
  r.done();
  return out;
}

export function encodeSupportedVersionsClient(versions: readonly number[]): Uint8Array {
  const w = new ByteWriter(1 + versions.length * 2);
  const at = w.beginLength(1);
  for (const v of versions) w.u16(v);
  w.endLength(at, 1);
  return w.finish();
}

/** supported_versions in ServerHello / HelloRetryRequest: the selected version. */
export function decodeSupportedVersionServer(data: Uint8Array): number {
  const r = reader(data, 'supported_versions');
  const v = r.u16();
  r.done();
  return v;
}

export function encodeSupportedVersionServer(version: number): Uint8Array {
  return new ByteWriter(2).u16(version).finish();
}

/** supported_groups: NamedGroup codes in preference order. */
export function decodeSupportedGroups(data: Uint8Array): number[] {
  return u16List(data, 'supported_groups');
}

export function encodeSupportedGroups(groups: readonly number[]): Uint8Array {
  return encodeU16List(groups);
}

/** signature_algorithms / signature_algorithms_cert: SignatureScheme codes. */
export function decodeSignatureSchemes(data: Uint8Array): number[] {
  return u16List(data, 'signature_algorithms');
}

export function encodeSignatureSchemes(schemes: readonly number[]): Uint8Array {
  return encodeU16List(schemes);
}

/** A KeyShareEntry. */
export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Uint8Array;
}

/** key_share in ClientHello: the client's shares. */
export function decodeKeyShareClient(data: Uint8Array): KeyShareEntry[] {
  const r = reader(data, 'key_share');
  const l = r.subReader(2, 'key_share');
  const out: KeyShareEntry[] = [];
  while (l.remaining > 0) {
    const group = l.u16();
    out.push({ group, keyExchange: l.vector(2, 1) });
  }
  r.done();
  return out;
}

export function encodeKeyShareClient(entries: readonly KeyShareEntry[]): Uint8Array {
  const w = new ByteWriter();
  const at = w.beginLength(2);
  for (const e of entries) w.u16(e.group).vector(2, e.keyExchange);
  w.endLength(at, 2);
  return w.finish();
}

/** key_share in ServerHello: the server's share. */
export function decodeKeyShareServer(data: Uint8Array): KeyShareEntry {
  const r = reader(data, 'key_share');
  const group = r.u16();
  const keyExchange = r.vector(2, 1);
  r.done();
  return { group, keyExchange };
}

export function encodeKeyShareServer(entry: KeyShareEntry): Uint8Array {
  return new ByteWriter(4 + entry.keyExchange.length).u16(entry.group).vector(2, entry.keyExchange).finish();
}

/** key_share in HelloRetryRequest: the selected group. */
export function decodeKeyShareRetry(data: Uint8Array): number {
  const r = reader(data, 'key_share');
  const g = r.u16();
  r.done();
  return g;
}

export function encodeKeyShareRetry(group: number): Uint8Array {
  return new ByteWriter(2).u16(group).finish();
}

/** PskKeyExchangeMode values. */
export const PskMode = { psk_ke: 0, psk_dhe_ke: 1 } as const;

/** psk_key_exchange_modes. */
export function decodePskModes(data: Uint8Array): number[] {
  const r = reader(data, 'psk_key_exchange_modes');
  const l = r.subReader(1, 'psk_key_exchange_modes', 1);
  const out: number[] = [];
  while (l.remaining > 0) out.push(l.u8());
  r.done();
  return out;
}

export function encodePskModes(modes: readonly number[]): Uint8Array {
  const w = new ByteWriter(1 + modes.length);
  const at = w.beginLength(1);
  for (const m of modes) w.u8(m);
  w.endLength(at, 1);
  return w.finish();
}

/** A PskIdentity of the ClientHello pre_shared_key extension. */
export interface PskIdentity {
  readonly identity: Uint8Array;
  readonly obfuscatedTicketAge: number;
}

/** pre_shared_key in ClientHello: the identities, the binders, and the byte length of the binders list (with its 2-byte length). */
export interface OfferedPsks {
  readonly identities: PskIdentity[];
  readonly binders: Uint8Array[];
  readonly bindersLength: number;
}

export function decodeOfferedPsks(data: Uint8Array): OfferedPsks {
  const r = reader(data, 'pre_shared_key');
  const il = r.subReader(2, 'pre_shared_key identities', 7);
  const identities: PskIdentity[] = [];
  while (il.remaining > 0) {
    const identity = il.vector(2, 1);
    identities.push({ identity, obfuscatedTicketAge: il.u32() });
  }
  const bindersStart = r.pos;
  const bl = r.subReader(2, 'pre_shared_key binders', 33);
  const binders: Uint8Array[] = [];
  while (bl.remaining > 0) binders.push(bl.vector(1, 32, 255));
  r.done();
  if (binders.length !== identities.length) {
    throw alert(TlsAlert.illegal_parameter, `pre_shared_key has ${identities.length} identities but ${binders.length} binders`);
  }
  return { identities, binders, bindersLength: r.end - bindersStart };
}

export function encodeOfferedPsks(identities: readonly PskIdentity[], binders: readonly Uint8Array[]): Uint8Array {
  const w = new ByteWriter();
  let at = w.beginLength(2);
  for (const id of identities) w.vector(2, id.identity).u32(id.obfuscatedTicketAge);
  w.endLength(at, 2);
  at = w.beginLength(2);
  for (const b of binders) w.vector(1, b);
  w.endLength(at, 2);
  return w.finish();
}

/** pre_shared_key in ServerHello: the selected identity index. */
export function decodeSelectedPsk(data: Uint8Array): number {
  const r = reader(data, 'pre_shared_key');
  const v = r.u16();
  r.done();
  return v;
}

export function encodeSelectedPsk(index: number): Uint8Array {
  return new ByteWriter(2).u16(index).finish();
}

/** early_data in NewSessionTicket: max_early_data_size. */
export function decodeMaxEarlyData(data: Uint8Array): number {
  const r = reader(data, 'early_data');
  const v = r.u32();
  r.done();
  return v;
}

export function encodeMaxEarlyData(size: number): Uint8Array {
  return new ByteWriter(4).u32(size).finish();
}

/** early_data in ClientHello / EncryptedExtensions: the body must be empty. */
export function checkEmpty(data: Uint8Array, what: string): void {
  if (data.length !== 0) decodeError(`${what} must be empty`);
}

/** cookie (RFC 8446 §4.2.2). */
export function decodeCookie(data: Uint8Array): Uint8Array {
  const r = reader(data, 'cookie');
  const c = r.vector(2, 1);
  r.done();
  return c;
}

export function encodeCookie(cookie: Uint8Array): Uint8Array {
  return new ByteWriter(2 + cookie.length).vector(2, cookie).finish();
}

/** certificate_authorities: DER DistinguishedNames. */
export function decodeCertificateAuthorities(data: Uint8Array): Uint8Array[] {
  const r = reader(data, 'certificate_authorities');
  const l = r.subReader(2, 'certificate_authorities', 3);
  const out: Uint8Array[] = [];
  while (l.remaining > 0) out.push(l.vector(2, 1));
  r.done();
  return out;
}

export function encodeCertificateAuthorities(names: readonly Uint8Array[]): Uint8Array {
  const w = new ByteWriter();
  const at = w.beginLength(2);
  for (const n of names) w.vector(2, n);
  w.endLength(at, 2);
  return w.finish();
}

/** Bytes as a string of code points 0..255 (lossless for ALPN and host names). */
export function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** The inverse of `latin1`. Throws RangeError for a character above U+00FF. */
export function fromLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`non-latin1 character in ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}
