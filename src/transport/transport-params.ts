/**
 * QUIC transport parameters (RFC 9000 §18), with the extensions this stack speaks:
 * max_datagram_frame_size (RFC 9221), version_information (RFC 9368), grease_quic_bit
 * (RFC 9287) and MsQuic's disable_1rtt_encryption.
 *
 * `decodeTransportParameters` turns the peer's quic_transport_parameters extension into a
 * typed object with RFC defaults filled in, and rejects everything §7.4 and §18.2 call a
 * TRANSPORT_PARAMETER_ERROR with a reason naming the parameter. Presence checks that depend
 * on the handshake (initial_source_connection_id required, original_destination_connection_id
 * matching, …, RFC 9000 §7.3) belong to the connection. Byte-string values are copies, so the
 * result outlives the TLS message buffer.
 */

import { BufferReader } from './buffer-reader.js';
import { TransportError } from './errors.js';
import { MAX_STREAM_COUNT, STATELESS_RESET_TOKEN_LENGTH } from './frame-types.js';
import { MAX_CONNECTION_ID_LENGTH } from './packet.js';
import type { Role } from './role.js';
import { readVarintAt, readVarintBigAt, varintLength, varintLengthFromFirstByte, writeVarint } from './varint.js';

/** Transport parameter identifiers. */
export const TransportParameterId = {
  OriginalDestinationConnectionId: 0x00,
  MaxIdleTimeout: 0x01,
  StatelessResetToken: 0x02,
  MaxUdpPayloadSize: 0x03,
  InitialMaxData: 0x04,
  InitialMaxStreamDataBidiLocal: 0x05,
  InitialMaxStreamDataBidiRemote: 0x06,
  InitialMaxStreamDataUni: 0x07,
  InitialMaxStreamsBidi: 0x08,
  InitialMaxStreamsUni: 0x09,
  AckDelayExponent: 0x0a,
  MaxAckDelay: 0x0b,
  DisableActiveMigration: 0x0c,
  PreferredAddress: 0x0d,
  ActiveConnectionIdLimit: 0x0e,
  InitialSourceConnectionId: 0x0f,
  RetrySourceConnectionId: 0x10,
  /** RFC 9368. */
  VersionInformation: 0x11,
  /** RFC 9221. */
  MaxDatagramFrameSize: 0x20,
  /** RFC 9287. */
  GreaseQuicBit: 0x2ab2,
  /** MsQuic private parameter: the peer may skip 1-RTT packet encryption. */
  Disable1RttEncryption: 0xbaad,
} as const;

/** The server's preferred address (RFC 9000 §18.2, §9.6). */
export interface PreferredAddress {
  /** 4 bytes; all zero when the server offers no IPv4 address. */
  ipv4Address: Uint8Array;
  ipv4Port: number;
  /** 16 bytes; all zero when the server offers no IPv6 address. */
  ipv6Address: Uint8Array;
  ipv6Port: number;
  /** 1–20 bytes. */
  connectionId: Uint8Array;
  /** 16 bytes. */
  statelessResetToken: Uint8Array;
}

/** Version Information (RFC 9368 §3). */
export interface VersionInformation {
  chosenVersion: number;
  availableVersions: number[];
}

/** Every transport parameter, with absent ones at their RFC defaults (or undefined). */
export interface TransportParameters {
  /** Server only: the DCID of the client's first Initial. */
  originalDestinationConnectionId: Uint8Array | undefined;
  /** Milliseconds; 0 = no idle timeout. */
  maxIdleTimeout: number;
  /** Server only: 16 bytes. */
  statelessResetToken: Uint8Array | undefined;
  /** Default 65527; at least 1200. */
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  /** At most 2^60. */
  initialMaxStreamsBidi: number;
  /** At most 2^60. */
  initialMaxStreamsUni: number;
  /** Default 3; at most 20. */
  ackDelayExponent: number;
  /** Milliseconds; default 25; below 2^14. */
  maxAckDelay: number;
  disableActiveMigration: boolean;
  /** Server only. */
  preferredAddress: PreferredAddress | undefined;
  /** Default 2; at least 2. */
  activeConnectionIdLimit: number;
  initialSourceConnectionId: Uint8Array | undefined;
  /** Server only, after a Retry. */
  retrySourceConnectionId: Uint8Array | undefined;
  /** 0 (the default) = DATAGRAM frames not supported (RFC 9221 §3). */
  maxDatagramFrameSize: number;
  versionInformation: VersionInformation | undefined;
  /** RFC 9287: the sender accepts packets with the fixed bit cleared. */
  greaseQuicBit: boolean;
  /** MsQuic's disable_1rtt_encryption (0xBAAD). */
  disable1RttEncryption: boolean;
}

/** A fresh set of transport parameters at their RFC defaults. */
export function defaultTransportParameters(): TransportParameters {
  return {
    originalDestinationConnectionId: undefined,
    maxIdleTimeout: 0,
    statelessResetToken: undefined,
    maxUdpPayloadSize: 65527,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    disableActiveMigration: false,
    preferredAddress: undefined,
    activeConnectionIdLimit: 2,
    initialSourceConnectionId: undefined,
    retrySourceConnectionId: undefined,
    maxDatagramFrameSize: 0,
    versionInformation: undefined,
    greaseQuicBit: false,
    disable1RttEncryption: false,
  };
}

const ID = TransportParameterId;

const NAMES: ReadonlyMap<number, string> = new Map([
  [ID.OriginalDestinationConnectionId, 'original_destination_connection_id'],
  [ID.MaxIdleTimeout, 'max_idle_timeout'],
  [ID.StatelessResetToken, 'stateless_reset_token'],
  [ID.MaxUdpPayloadSize, 'max_udp_payload_size'],
  [ID.InitialMaxData, 'initial_max_data'],
  [ID.InitialMaxStreamDataBidiLocal, 'initial_max_stream_data_bidi_local'],
  [ID.InitialMaxStreamDataBidiRemote, 'initial_max_stream_data_bidi_remote'],
  [ID.InitialMaxStreamDataUni, 'initial_max_stream_data_uni'],
  [ID.InitialMaxStreamsBidi, 'initial_max_streams_bidi'],
  [ID.InitialMaxStreamsUni, 'initial_max_streams_uni'],
  [ID.AckDelayExponent, 'ack_delay_exponent'],
  [ID.MaxAckDelay, 'max_ack_delay'],
  [ID.DisableActiveMigration, 'disable_active_migration'],
  [ID.PreferredAddress, 'preferred_address'],
  [ID.ActiveConnectionIdLimit, 'active_connection_id_limit'],
  [ID.InitialSourceConnectionId, 'initial_source_connection_id'],
  [ID.RetrySourceConnectionId, 'retry_source_connection_id'],
  [ID.VersionInformation, 'version_information'],
  [ID.MaxDatagramFrameSize, 'max_datagram_frame_size'],
  [ID.GreaseQuicBit, 'grease_quic_bit'],
  [ID.Disable1RttEncryption, 'disable_1rtt_encryption'],
]);

/** Parameters only a server may send (RFC 9000 §18.2). */
const SERVER_ONLY: ReadonlySet<number> = new Set([
  ID.OriginalDestinationConnectionId,
  ID.PreferredAddress,
  ID.RetrySourceConnectionId,
  ID.StatelessResetToken,
]);

/** Limits (RFC 9000 §18.2). */
const MIN_MAX_UDP_PAYLOAD_SIZE = 1200;
const MAX_ACK_DELAY_EXPONENT = 20;
const MAX_ACK_DELAY_LIMIT = 1 << 14;
const MIN_ACTIVE_CONNECTION_ID_LIMIT = 2;
const PREFERRED_ADDRESS_FIXED_LENGTH = 4 + 2 + 16 + 2 + 1 + STATELESS_RESET_TOKEN_LENGTH;

/** True for reserved (GREASE) parameter IDs, 31 * N + 27 (RFC 9000 §18.1). */
export function isReservedTransportParameterId(id: number): boolean {
  return Number.isSafeInteger(id) && id >= 27 && (id - 27) % 31 === 0;
}

// ---------------------------------------------------------------------------------------------
// Decoding

function readU32(b: Uint8Array, p: number): number {
  return b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

/**
 * Decodes the transport parameters a peer of `senderRole` sent. Throws QuicError
 * TRANSPORT_PARAMETER_ERROR on: truncation, duplicates, a varint value whose length is not
 * its parameter's length, wrong fixed lengths, out-of-range values, server-only parameters
 * from a client, malformed version_information. Unknown and reserved IDs are ignored.
 */
export function decodeTransportParameters(bytes: Uint8Array, senderRole: Role): TransportParameters {
  const r = new BufferReader(bytes, 0, bytes.length, TransportError.TRANSPORT_PARAMETER_ERROR);
  const tp = defaultTransportParameters();
  const seen = new Set<number | bigint>();
  while (r.pos < r.end) {
    const idPos = r.pos;
    const id = r.varint();
    const length = r.varint();
    const name = NAMES.get(id) ?? `0x${id.toString(16)}`;
    if (length > r.remaining) r.fail(`${name}: length ${length} exceeds the ${r.remaining} bytes left`);
    const value = r.bytes(length);
    // Saturated IDs (≥ 2^53, e.g. GREASE) are told apart by their exact value.
    const key = id === Number.MAX_SAFE_INTEGER ? readVarintBigAt(bytes, idPos, bytes.length) : id;
    if (seen.has(key)) r.fail(`${name} appears more than once`);
    seen.add(key);
    if (senderRole === 'client' && SERVER_ONLY.has(id)) r.fail(`a client sent the server-only parameter ${name}`);

    const varint = (): number => {
      const v = readVarintAt(value, 0, length);
      if (v < 0 || varintLengthFromFirstByte(value[0]!) !== length) {
        r.fail(`${name}: value of ${length} bytes is not one variable-length integer`);
      }
      return v;
    };
    const cid = (): Uint8Array => {
      if (length > MAX_CONNECTION_ID_LENGTH) r.fail(`${name}: connection ID of ${length} bytes exceeds 20`);
      return value.slice();
    };
    const flag = (): true => {
      if (length !== 0) r.fail(`${name}: must be empty, has ${length} bytes`);
      return true;
    };
    const streamCount = (): number => {
      const v = varint();
      if (v === Number.MAX_SAFE_INTEGER && readVarintBigAt(value, 0, length) > MAX_STREAM_COUNT) {
        r.fail(`${name}: exceeds 2^60`);
      }
      return v;
    };

    switch (id) {
      case ID.OriginalDestinationConnectionId:
        tp.originalDestinationConnectionId = cid();
        break;
      case ID.MaxIdleTimeout:
        tp.maxIdleTimeout = varint();
        break;
      case ID.StatelessResetToken:
        if (length !== STATELESS_RESET_TOKEN_LENGTH) r.fail(`${name}: ${length} bytes, not 16`);
        tp.statelessResetToken = value.slice();
        break;
      case ID.MaxUdpPayloadSize: {
        const v = varint();
        if (v < MIN_MAX_UDP_PAYLOAD_SIZE) r.fail(`${name}: ${v} is below 1200`);
        tp.maxUdpPayloadSize = v;
        break;
      }
      case ID.InitialMaxData:
        tp.initialMaxData = varint();
        break;
      case ID.InitialMaxStreamDataBidiLocal:
        tp.initialMaxStreamDataBidiLocal = varint();
        break;
      case ID.InitialMaxStreamDataBidiRemote:
        tp.initialMaxStreamDataBidiRemote = varint();
        break;
      case ID.InitialMaxStreamDataUni:
        tp.initialMaxStreamDataUni = varint();
        break;
      case ID.InitialMaxStreamsBidi:
        tp.initialMaxStreamsBidi = streamCount();
        break;
      case ID.InitialMaxStreamsUni:
        tp.initialMaxStreamsUni = streamCount();
        break;
      case ID.AckDelayExponent: {
        const v = varint();
        if (v > MAX_ACK_DELAY_EXPONENT) r.fail(`${name}: ${v} exceeds 20`);
        tp.ackDelayExponent = v;
        break;
      }
      case ID.MaxAckDelay: {
        const v = varint();
        if (v >= MAX_ACK_DELAY_LIMIT) r.fail(`${name}: ${v} is not below 2^14`);
        tp.maxAckDelay = v;
        break;
      }
      case ID.DisableActiveMigration:
        tp.disableActiveMigration = flag();
        break;
      case ID.PreferredAddress:
        tp.preferredAddress = decodePreferredAddress(r, value);
        break;
      case ID.ActiveConnectionIdLimit: {
        const v = varint();
        if (v < MIN_ACTIVE_CONNECTION_ID_LIMIT) r.fail(`${name}: ${v} is below 2`);
        tp.activeConnectionIdLimit = v;
        break;
      }
      case ID.InitialSourceConnectionId:
        tp.initialSourceConnectionId = cid();
        break;
      case ID.RetrySourceConnectionId:
        tp.retrySourceConnectionId = cid();
        break;
      case ID.VersionInformation:
        tp.versionInformation = decodeVersionInformation(r, value, senderRole);
        break;
      case ID.MaxDatagramFrameSize:
        tp.maxDatagramFrameSize = varint();
        break;
      case ID.GreaseQuicBit:
        tp.greaseQuicBit = flag();
        break;
      case ID.Disable1RttEncryption:
        tp.disable1RttEncryption = flag();
        break;
      default:
        break; // unknown or reserved: ignored (RFC 9000 §7.4.2)
    }
  }
  return tp;
}

function decodePreferredAddress(r: BufferReader, v: Uint8Array): PreferredAddress {
  if (v.length < PREFERRED_ADDRESS_FIXED_LENGTH) {
    r.fail(`preferred_address: ${v.length} bytes, fewer than the ${PREFERRED_ADDRESS_FIXED_LENGTH} required`);
  }
  const cidLength = v[24]!;
  if (cidLength === 0) r.fail('preferred_address: zero-length connection ID');
  if (cidLength > MAX_CONNECTION_ID_LENGTH) r.fail(`preferred_address: connection ID of ${cidLength} bytes exceeds 20`);
  if (v.length !== PREFERRED_ADDRESS_FIXED_LENGTH + cidLength) {
    r.fail(`preferred_address: ${v.length} bytes, expected ${PREFERRED_ADDRESS_FIXED_LENGTH + cidLength}`);
  }
  return {
    ipv4Address: v.slice(0, 4),
    ipv4Port: (v[4]! << 8) | v[5]!,
    ipv6Address: v.slice(6, 22),
    ipv6Port: (v[22]! << 8) | v[23]!,
    connectionId: v.slice(25, 25 + cidLength),
    statelessResetToken: v.slice(25 + cidLength, 25 + cidLength + STATELESS_RESET_TOKEN_LENGTH),
  };
}

function decodeVersionInformation(r: BufferReader, v: Uint8Array, senderRole: Role): VersionInformation {
  // RFC 9368 §4: these are all parsing failures, closed with TRANSPORT_PARAMETER_ERROR.
  if (v.length < 4 || (v.length & 3) !== 0) r.fail(`version_information: ${v.length} bytes is not a non-zero multiple of 4`);
  const chosenVersion = readU32(v, 0);
  if (chosenVersion === 0) r.fail('version_information: Chosen Version is 0');
  const availableVersions: number[] = [];
  for (let p = 4; p < v.length; p += 4) {
    const version = readU32(v, p);
    if (version === 0) r.fail('version_information: an Available Version is 0');
    availableVersions.push(version);
  }
  if (senderRole === 'client' && !availableVersions.includes(chosenVersion)) {
    r.fail(`version_information: the client's Chosen Version 0x${chosenVersion.toString(16)} is not among its Available Versions`);
  }
  return { chosenVersion, availableVersions };
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Options for `encodeTransportParameters`. */
export interface EncodeTransportParametersOptions {
  /** When given, refuse (RangeError) parameters this role may not send. */
  senderRole?: Role;
  /**
   * A reserved parameter to include so peers keep ignoring unknown IDs (RFC 9000 §18.1).
   * The caller picks `id` (31 * N + 27) and `value` from its random source.
   */
  grease?: { id: number; value: Uint8Array };
}

type Entry = [id: number, value: Uint8Array];

function varintBytes(v: number): Uint8Array {
  const out = new Uint8Array(varintLength(v));
  writeVarint(out, 0, v);
  return out;
}

function u32Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v <= 0 || v > 0xffffffff) throw new RangeError(`version ${v} is not a non-zero 32-bit unsigned integer`);
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = (v >>> 16) & 0xff;
    out[4 * i + 2] = (v >>> 8) & 0xff;
    out[4 * i + 3] = v & 0xff;
  });
  return out;
}

function checkLength(name: string, bytes: Uint8Array, min: number, max: number): Uint8Array {
  if (bytes.length < min || bytes.length > max) {
    throw new RangeError(`${name} is ${bytes.length} bytes, not ${min === max ? min : `${min}..${max}`}`);
  }
  return bytes;
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} ${value} is outside ${min}..${max}`);
  }
  return value;
}

function encodePreferredAddress(pa: PreferredAddress): Uint8Array {
  checkLength('preferredAddress.ipv4Address', pa.ipv4Address, 4, 4);
  checkLength('preferredAddress.ipv6Address', pa.ipv6Address, 16, 16);
  checkLength('preferredAddress.connectionId', pa.connectionId, 1, MAX_CONNECTION_ID_LENGTH);
  checkLength('preferredAddress.statelessResetToken', pa.statelessResetToken, 16, 16);
  checkRange('preferredAddress.ipv4Port', pa.ipv4Port, 0, 0xffff);
  checkRange('preferredAddress.ipv6Port', pa.ipv6Port, 0, 0xffff);
  const out = new Uint8Array(PREFERRED_ADDRESS_FIXED_LENGTH + pa.connectionId.length);
  out.set(pa.ipv4Address, 0);
  out[4] = pa.ipv4Port >> 8;
  out[5] = pa.ipv4Port & 0xff;
  out.set(pa.ipv6Address, 6);
  out[22] = pa.ipv6Port >> 8;
  out[23] = pa.ipv6Port & 0xff;
  out[24] = pa.connectionId.length;
  out.set(pa.connectionId, 25);
  out.set(pa.statelessResetToken, 25 + pa.connectionId.length);
  return out;
}

/**
 * Encodes transport parameters. Parameters that are undefined, or equal to their RFC default,
 * are left out (the peer assumes the default). Throws RangeError on values the RFC forbids.
 */
export function encodeTransportParameters(
  params: Partial<TransportParameters>,
  options: EncodeTransportParametersOptions = {},
): Uint8Array {
  const e: Entry[] = [];
  const def = defaultTransportParameters();
  const num = (id: number, value: number | undefined, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): void => {
    if (value === undefined || value === dflt) return;
    e.push([id, varintBytes(checkRange(NAMES.get(id)!, value, min, max))]);
  };
  const bytes = (id: number, value: Uint8Array | undefined, min: number, max: number): void => {
    if (value !== undefined) e.push([id, checkLength(NAMES.get(id)!, value, min, max)]);
  };
  const flag = (id: number, value: boolean | undefined): void => {
    if (value === true) e.push([id, new Uint8Array(0)]);
  };

  bytes(ID.OriginalDestinationConnectionId, params.originalDestinationConnectionId, 0, MAX_CONNECTION_ID_LENGTH);
  num(ID.MaxIdleTimeout, params.maxIdleTimeout, def.maxIdleTimeout);
  bytes(ID.StatelessResetToken, params.statelessResetToken, STATELESS_RESET_TOKEN_LENGTH, STATELESS_RESET_TOKEN_LENGTH);
  num(ID.MaxUdpPayloadSize, params.maxUdpPayloadSize, def.maxUdpPayloadSize, MIN_MAX_UDP_PAYLOAD_SIZE);
  num(ID.InitialMaxData, params.initialMaxData, def.initialMaxData);
  num(ID.InitialMaxStreamDataBidiLocal, params.initialMaxStreamDataBidiLocal, def.initialMaxStreamDataBidiLocal);
  num(ID.InitialMaxStreamDataBidiRemote, params.initialMaxStreamDataBidiRemote, def.initialMaxStreamDataBidiRemote);
  num(ID.InitialMaxStreamDataUni, params.initialMaxStreamDataUni, def.initialMaxStreamDataUni);
  num(ID.InitialMaxStreamsBidi, params.initialMaxStreamsBidi, def.initialMaxStreamsBidi);
  num(ID.InitialMaxStreamsUni, params.initialMaxStreamsUni, def.initialMaxStreamsUni);
  num(ID.AckDelayExponent, params.ackDelayExponent, def.ackDelayExponent, 0, MAX_ACK_DELAY_EXPONENT);
  num(ID.MaxAckDelay, params.maxAckDelay, def.maxAckDelay, 0, MAX_ACK_DELAY_LIMIT - 1);
  flag(ID.DisableActiveMigration, params.disableActiveMigration);
  if (params.preferredAddress !== undefined) e.push([ID.PreferredAddress, encodePreferredAddress(params.preferredAddress)]);
  num(ID.ActiveConnectionIdLimit, params.activeConnectionIdLimit, def.activeConnectionIdLimit, MIN_ACTIVE_CONNECTION_ID_LIMIT);
  bytes(ID.InitialSourceConnectionId, params.initialSourceConnectionId, 0, MAX_CONNECTION_ID_LENGTH);
  bytes(ID.RetrySourceConnectionId, params.retrySourceConnectionId, 0, MAX_CONNECTION_ID_LENGTH);
  if (params.versionInformation !== undefined) {
    const vi = params.versionInformation;
    e.push([ID.VersionInformation, u32Bytes([vi.chosenVersion, ...vi.availableVersions])]);
  }
  num(ID.MaxDatagramFrameSize, params.maxDatagramFrameSize, def.maxDatagramFrameSize);
  flag(ID.GreaseQuicBit, params.greaseQuicBit);
  flag(ID.Disable1RttEncryption, params.disable1RttEncryption);

  if (options.senderRole === 'client') {
    for (const [id] of e) {
      if (SERVER_ONLY.has(id)) throw new RangeError(`a client must not send ${NAMES.get(id)!}`);
    }
  }
  if (options.grease !== undefined) {
    const { id, value } = options.grease;
    if (!isReservedTransportParameterId(id)) throw new RangeError(`GREASE parameter ID ${id} is not of the form 31 * N + 27`);
    e.push([id, value]);
  }

  let size = 0;
  for (const [id, value] of e) size += varintLength(id) + varintLength(value.length) + value.length;
  const out = new Uint8Array(size);
  let p = 0;
  for (const [id, value] of e) {
    p = writeVarint(out, p, id);
    p = writeVarint(out, p, value.length);
    out.set(value, p);
    p += value.length;
  }
  return out;
}
