/**
 * quicer's `conn_opts`, listener options and `stream_opts`, validated and turned into engine
 * settings. Every key QUICER.md lists is known here: wrong type, out of range, or read-only →
 * a `TypeError` / `RangeError` whose message names the key, the value and what is allowed,
 * before any packet is sent (QUICER.md §4: purequic does not silently drop bad values).
 * Keys that are not quicer's pass through untouched as application data (quicer hands them
 * to the callback's `init`).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import type { TransportSettings } from '../transport/connection-config.js';
import { loadCertificateChain, loadPrivateKey, certificateMatchesKey } from '../tls/credentials.js';
import { readCertificateChainFile, readPrivateKeyFile, readTrustedCertificatesFile } from '../tls/credential-files.js';

/** MsQuic 2.5 defaults of the settings quicer exposes (QUICER.md §1c). */
export const MSQUIC_DEFAULTS = {
  max_bytes_per_key: 274_877_906_944,
  handshake_idle_timeout_ms: 10_000,
  idle_timeout_ms: 30_000,
  tls_client_max_send_buffer: 4096,
  tls_server_max_send_buffer: 8192,
  stream_recv_window_default: 65_536,
  stream_recv_buffer_default: 4096,
  conn_flow_control_window: 16_777_216,
  max_stateless_operations: 16,
  initial_window_packets: 10,
  send_idle_timeout_ms: 1000,
  initial_rtt_ms: 333,
  max_ack_delay_ms: 25,
  disconnect_timeout_ms: 16_000,
  keep_alive_interval_ms: 0,
  congestion_control_algorithm: 0,
  peer_bidi_stream_count: 0,
  peer_unidi_stream_count: 0,
  max_operations_per_drain: 16,
  send_buffering_enabled: true,
  pacing_enabled: true,
  migration_enabled: true,
  datagram_receive_enabled: false,
  server_resumption_level: 0,
} as const;

/** quicer merges these into every client connect (QUICER.md §0.1). */
export const QUICER_CLIENT_DEFAULTS = { peer_bidi_stream_count: 1, peer_unidi_stream_count: 1 } as const;

const MAX_VARINT = 2 ** 62 - 1;

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  return String(v);
}

/** The error for a bad option: names the key, the value and what is allowed. */
export function optionError(where: string, key: string, value: unknown, allowed: string, range = false): Error {
  const msg = `${where}.${key}: ${show(value)} is not allowed; expected ${allowed}`;
  return range ? new RangeError(msg) : new TypeError(msg);
}

/** An integer in [min, max] (numbers or bigints). */
function uint(where: string, key: string, v: unknown, min: number, max: number, what?: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  const allowed = what ?? `an integer in ${min}..${max}`;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw optionError(where, key, v, allowed);
  if (n < min || n > max) throw optionError(where, key, v, allowed, true);
  return n;
}

/** A boolean; quicer's 1-bit settings also take 0 / 1. */
function flag(where: string, key: string, v: unknown, allowInt: boolean): boolean {
  if (typeof v === 'boolean') return v;
  if (allowInt && (v === 0 || v === 1)) return v === 1;
  throw optionError(where, key, v, allowInt ? 'true, false, 0 or 1' : 'true or false');
}

function str(where: string, key: string, v: unknown, what = 'a non-empty string'): string {
  if (typeof v !== 'string' || v.length === 0) throw optionError(where, key, v, what);
  return v;
}

function pemOrDer(where: string, key: string, v: unknown): string | Uint8Array {
  if (typeof v === 'string' && v.length > 0) return v;
  if (v instanceof Uint8Array && v.length > 0) return v;
  throw optionError(where, key, v, 'PEM text (string) or DER / PEM bytes (Uint8Array)');
}

/** `alpn`: a non-empty list of 1–255-byte protocol names, encoded list ≤ 65535 bytes. */
export function validateAlpn(where: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) throw optionError(where, 'alpn', v, 'a non-empty array of protocol names (strings of 1..255 bytes)');
  let total = 0;
  return v.map((p) => {
    if (typeof p !== 'string') throw optionError(where, 'alpn', v, 'an array of strings');
    const n = Buffer.byteLength(p, 'utf8');
    if (n < 1 || n > 255) throw optionError(where, 'alpn', v, 'protocol names of 1..255 bytes', true);
    total += n + 1;
    if (total > 65535) throw optionError(where, 'alpn', v, 'an encoded list of at most 65535 bytes', true);
    return p;
  });
}

/** A local address: "a.b.c.d", "a.b.c.d:Port", "[v6]:Port", a bare IPv6 literal, or a port number. */
export function parseLocalAddress(where: string, key: string, v: unknown): { address: string | undefined; port: number } {
  const what = 'an IP literal ("a.b.c.d", "a.b.c.d:Port", "[v6]:Port", bare IPv6) or an integer port 0..65535';
  if (typeof v === 'number') return { address: undefined, port: uint(where, key, v, 0, 65535, what) };
  if (typeof v !== 'string' || v.length === 0) throw optionError(where, key, v, what);
  if (isIPv4(v) || isIPv6(v)) return { address: v, port: 0 };
  let m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v);
  if (m && isIPv6(m[1]!)) return { address: m[1]!, port: uint(where, key, Number(m[2]), 0, 65535, what) };
  m = /^([^:]+):(\d{1,5})$/.exec(v);
  if (m && isIPv4(m[1]!)) return { address: m[1]!, port: uint(where, key, Number(m[2]), 0, 65535, what) };
  throw optionError(where, key, v, what);
}

/** How a key is handled. */
type KeyClass =
  | 'quicer' // consumed by the quicer layer
  | 'tls'
  | 'setting'
  | 'readonly'
  | 'unavailable';

/**
 * Every key of QUICER.md §1, with how purequic treats it. `unavailable` keys are real quicer
 * keys whose machinery belongs to a later piece of work: given one, the caller gets an error
 * saying so rather than a silently ignored setting.
 */
const KEYS: Record<string, KeyClass> = {
  alpn: 'quicer',
  conn_callback: 'quicer',
  custom_verify: 'tls',
  handle: 'quicer',
  nst: 'quicer',
  quic_event_mask: 'quicer',
  disable_1rtt_encryption: 'unavailable',
  local_address: 'quicer',
  local_bidi_stream_count: 'readonly',
  local_peer_unidi_stream_count: 'readonly',
  quic_registration: 'unavailable',
  cert: 'tls',
  certfile: 'tls',
  key: 'tls',
  keyfile: 'tls',
  password: 'tls',
  verify: 'tls',
  cacertfile: 'tls',
  sslkeylogfile: 'tls',
  certkeyasn1: 'unavailable',
  max_bytes_per_key: 'unavailable',
  handshake_idle_timeout_ms: 'setting',
  idle_timeout_ms: 'setting',
  tls_client_max_send_buffer: 'setting',
  tls_server_max_send_buffer: 'setting',
  stream_recv_window_default: 'setting',
  stream_recv_buffer_default: 'setting',
  conn_flow_control_window: 'setting',
  max_stateless_operations: 'unavailable',
  initial_window_packets: 'setting',
  send_idle_timeout_ms: 'setting',
  initial_rtt_ms: 'setting',
  max_ack_delay_ms: 'setting',
  disconnect_timeout_ms: 'setting',
  keep_alive_interval_ms: 'setting',
  congestion_control_algorithm: 'setting',
  peer_bidi_stream_count: 'setting',
  peer_unidi_stream_count: 'setting',
  retry_memory_limit: 'unavailable',
  load_balancing_mode: 'unavailable',
  max_operations_per_drain: 'setting',
  send_buffering_enabled: 'setting',
  pacing_enabled: 'setting',
  migration_enabled: 'unavailable',
  datagram_receive_enabled: 'setting',
  server_resumption_level: 'setting',
  minimum_mtu: 'unavailable',
  maximum_mtu: 'unavailable',
  mtu_discovery_search_complete_timeout_us: 'unavailable',
  mtu_discovery_missing_probe_count: 'unavailable',
  max_binding_stateless_operations: 'unavailable',
  stateless_operation_expiration_ms: 'unavailable',
  max_worker_queue_delay_us: 'unavailable',
};

/** Names of every quicer key (the rest of a conn_opts map is application data). */
export const QUICER_CONN_OPT_KEYS: readonly string[] = Object.keys(KEYS);

/** The settings reported by `getopt(conn, 'settings')`, with their effective values. */
export type SettingsReport = Record<string, number | boolean>;

/** Validated connection options. */
export interface ConnOptions {
  alpn: string[];
  /** Client certificate / server certificate (DER chain, leaf first) and its PKCS#8 key. */
  certificateChain: Uint8Array[] | undefined;
  privateKey: Uint8Array | undefined;
  /** `verify: verify_peer` (client: check the server; server: require a client certificate). */
  verifyPeer: boolean;
  /** Trust anchors from `cacertfile` (undefined when not given). */
  trusted: Uint8Array[] | undefined;
  customVerify: boolean;
  sslkeylogfile: string | undefined;
  quicEventMask: number;
  localAddress: { address: string | undefined; port: number } | undefined;
  /** A resumption ticket (`nst`) from an earlier `nst_received`. */
  nst: Uint8Array | undefined;
  /** `handle`: a connection opened earlier with `openConnection` (validated by the caller). */
  handle: unknown;
  /** Engine settings for the transport. */
  transport: Partial<TransportSettings>;
  /** quicer-layer settings. */
  sendBuffering: boolean;
  maxOperationsPerDrain: number;
  tlsClientMaxSendBuffer: number;
  tlsServerMaxSendBuffer: number;
  streamRecvBufferDefault: number;
  datagramReceiveEnabled: boolean;
  serverResumptionLevel: 0 | 1 | 2;
  /** Every setting's effective value (MsQuic defaults where not given), as getopt reports them. */
  settings: SettingsReport;
  /** Keys that are not quicer's: passed to the callback's init. */
  app: Record<string, unknown>;
}

export interface ValidateOptions {
  /** Where the map came from, for messages (`conn_opts`, `listen_opts`, …). */
  where?: string;
  /** Client connections get quicer's peer stream count defaults. */
  side: 'client' | 'server';
  /** A listener must have certificates; a client may. */
  requireCertificate?: boolean;
}

/** A plain map: quicer takes maps (or proplists); `undefined` values count as absent. */
function asMap(where: string, opts: unknown): Record<string, unknown> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || opts instanceof Uint8Array) {
    throw new TypeError(`${where}: ${show(opts)} is not an options map (a plain object)`);
  }
  const m: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts as Record<string, unknown>)) if (v !== undefined) m[k] = v;
  return m;
}

/**
 * Validates a `conn_opts` (or listener options) map. Throws TypeError / RangeError for any
 * bad value; returns the engine settings, the TLS material (files read) and the rest as app data.
 */
export function validateConnOpts(opts: unknown, o: ValidateOptions): ConnOptions {
  const where = o.where ?? 'conn_opts';
  const m = asMap(where, opts);
  const app: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    const cls = KEYS[k];
    if (cls === undefined) {
      app[k] = v;
      continue;
    }
    if (cls === 'readonly') {
      throw new TypeError(`${where}.${k}: is read-only (how many streams this side may still open); read it with getopt(conn, '${k}')`);
    }
    if (cls === 'unavailable') {
      throw new TypeError(`${where}.${k}: ${show(v)} was given, but this option's feature is not available yet in purequic`);
    }
  }
  if (m.alpn === undefined) throw new TypeError(`${where}.alpn: missing; expected a non-empty array of protocol names`);
  const alpn = validateAlpn(where, m.alpn);

  // TLS material.
  const password = m.password === undefined ? undefined : str(where, 'password', m.password, 'a string of at most 255 characters');
  if (password !== undefined && password.length > 255) throw optionError(where, 'password', password, 'a string of at most 255 characters', true);
  let certificateChain: Uint8Array[] | undefined;
  let privateKey: Uint8Array | undefined;
  const certSrc = m.cert !== undefined ? 'cert' : m.certfile !== undefined ? 'certfile' : undefined;
  const keySrc = m.key !== undefined ? 'key' : m.keyfile !== undefined ? 'keyfile' : undefined;
  if (m.cert !== undefined && m.certfile !== undefined) throw new TypeError(`${where}: give either cert or certfile, not both`);
  if (m.key !== undefined && m.keyfile !== undefined) throw new TypeError(`${where}: give either key or keyfile, not both`);
  try {
    if (certSrc === 'cert') certificateChain = loadCertificateChain(pemOrDer(where, 'cert', m.cert));
    if (certSrc === 'certfile') certificateChain = readCertificateChainFile(str(where, 'certfile', m.certfile, 'a file path'));
  } catch (e) {
    if (e instanceof TypeError && e.message.startsWith(`${where}.`)) throw e;
    throw new TypeError(`${where}.${certSrc}: ${(e as Error).message}`);
  }
  try {
    if (keySrc === 'key') privateKey = loadPrivateKey(pemOrDer(where, 'key', m.key), password);
    if (keySrc === 'keyfile') privateKey = readPrivateKeyFile(str(where, 'keyfile', m.keyfile, 'a file path'), password);
  } catch (e) {
    if (e instanceof TypeError && e.message.startsWith(`${where}.`)) throw e;
    throw new TypeError(`${where}.${keySrc}: ${(e as Error).message}`);
  }
  if ((certificateChain === undefined) !== (privateKey === undefined)) {
    if (o.requireCertificate || o.side === 'server') {
      throw new TypeError(`${where}: ${certSrc ?? 'cert/certfile'} and ${keySrc ?? 'key/keyfile'} must be given together`);
    }
    // quicer clients present a certificate only when both are given.
    certificateChain = undefined;
    privateKey = undefined;
  }
  if (certificateChain !== undefined && privateKey !== undefined && !certificateMatchesKey(certificateChain[0]!, privateKey)) {
    throw new TypeError(`${where}.${keySrc}: the private key does not match the certificate in ${certSrc}`);
  }
  if (o.requireCertificate && certificateChain === undefined) {
    throw new TypeError(`${where}: a listener needs certfile/keyfile (or cert/key)`);
  }
  let verifyPeer = false;
  if (m.verify !== undefined) {
    const v = m.verify;
    if (v === 'none' || v === 'verify_none') verifyPeer = false;
    else if (v === 'peer' || v === 'verify_peer') verifyPeer = true;
    else throw optionError(where, 'verify', v, "'none', 'verify_none', 'peer' or 'verify_peer'");
  }
  let trusted: Uint8Array[] | undefined;
  if (m.cacertfile !== undefined) {
    const path = str(where, 'cacertfile', m.cacertfile, 'a file path');
    try {
      trusted = readTrustedCertificatesFile(path);
    } catch (e) {
      throw new TypeError(`${where}.cacertfile: ${(e as Error).message}`);
    }
  }
  const customVerify = m.custom_verify === undefined ? false : flag(where, 'custom_verify', m.custom_verify, false);
  const sslkeylogfile = m.sslkeylogfile === undefined ? undefined : str(where, 'sslkeylogfile', m.sslkeylogfile, 'a file path');
  const quicEventMask = m.quic_event_mask === undefined ? 0 : uint(where, 'quic_event_mask', m.quic_event_mask, 0, 0xffffffff);
  const localAddress = m.local_address === undefined ? undefined : parseLocalAddress(where, 'local_address', m.local_address);
  let nst: Uint8Array | undefined;
  if (m.nst !== undefined) {
    if (!(m.nst instanceof Uint8Array) || m.nst.length === 0) throw optionError(where, 'nst', m.nst, 'a ticket (Uint8Array) from nst_received');
    nst = m.nst;
  }
  if (m.conn_callback !== undefined && (m.conn_callback === null || typeof m.conn_callback !== 'object') && typeof m.conn_callback !== 'function') {
    throw optionError(where, 'conn_callback', m.conn_callback, 'a callback module (an object with the behaviour callbacks)');
  }

  // Settings (QUICER.md §1c).
  const defaults: Record<string, number | boolean> = { ...MSQUIC_DEFAULTS };
  if (o.side === 'client') Object.assign(defaults, QUICER_CLIENT_DEFAULTS);
  const s: Record<string, number | boolean> = { ...defaults };
  const u = (key: string, min: number, max: number, what?: string): void => {
    if (m[key] !== undefined) s[key] = uint(where, key, m[key], min, max, what);
  };
  u('handshake_idle_timeout_ms', 0, MAX_VARINT);
  u('idle_timeout_ms', 0, MAX_VARINT);
  u('tls_client_max_send_buffer', 0, 0xffffffff);
  u('tls_server_max_send_buffer', 0, 0xffffffff);
  if (m.stream_recv_window_default !== undefined) {
    const w = uint(where, 'stream_recv_window_default', m.stream_recv_window_default, 1, 0xffffffff, 'a non-zero power of two up to 2^31');
    if ((w & (w - 1)) !== 0) throw optionError(where, 'stream_recv_window_default', m.stream_recv_window_default, 'a non-zero power of two', true);
    s.stream_recv_window_default = w;
  }
  u('stream_recv_buffer_default', 4096, 0xffffffff, 'an integer in 4096..4294967295');
  u('conn_flow_control_window', 0, 0xffffffff);
  u('initial_window_packets', 1, 0xffffffff);
  u('send_idle_timeout_ms', 0, 0xffffffff);
  u('initial_rtt_ms', 1, 0xffffffff, 'an integer in 1..4294967295 (must be above 0)');
  u('max_ack_delay_ms', 0, 16383);
  u('disconnect_timeout_ms', 1, 600_000);
  u('keep_alive_interval_ms', 0, 0xffffffff);
  if (m.congestion_control_algorithm !== undefined) {
    const c = uint(where, 'congestion_control_algorithm', m.congestion_control_algorithm, 0, 1, '0 (CUBIC) or 1 (BBR)');
    if (c === 1) throw new TypeError(`${where}.congestion_control_algorithm: 1 (BBR) was given, but BBR is not available yet in purequic; use 0 (CUBIC)`);
    s.congestion_control_algorithm = c;
  }
  u('peer_bidi_stream_count', 0, 65535);
  u('peer_unidi_stream_count', 0, 65535);
  u('max_operations_per_drain', 1, 255);
  for (const k of ['send_buffering_enabled', 'pacing_enabled', 'datagram_receive_enabled'] as const) {
    if (m[k] !== undefined) s[k] = flag(where, k, m[k], true);
  }
  if (m.server_resumption_level !== undefined) {
    s.server_resumption_level = uint(where, 'server_resumption_level', m.server_resumption_level, 0, 2, '0 (none), 1 (resume) or 2 (resume and 0-RTT)');
  }

  const window = s.stream_recv_window_default as number;
  const transport: Partial<TransportSettings> = {
    handshakeIdleTimeout: s.handshake_idle_timeout_ms as number,
    maxIdleTimeout: s.idle_timeout_ms as number,
    initialMaxStreamDataBidiLocal: window,
    initialMaxStreamDataBidiRemote: window,
    initialMaxStreamDataUni: window,
    initialMaxData: s.conn_flow_control_window as number,
    initialWindowPackets: s.initial_window_packets as number,
    sendIdleTimeout: s.send_idle_timeout_ms as number,
    initialRtt: s.initial_rtt_ms as number,
    maxAckDelay: s.max_ack_delay_ms as number,
    disconnectTimeout: s.disconnect_timeout_ms as number,
    keepAliveInterval: s.keep_alive_interval_ms as number,
    congestionControl: 'cubic',
    initialMaxStreamsBidi: s.peer_bidi_stream_count as number,
    initialMaxStreamsUni: s.peer_unidi_stream_count as number,
    pacing: s.pacing_enabled as boolean,
    maxDatagramFrameSize: s.datagram_receive_enabled ? 65535 : 0,
    issueSessionTicket: (s.server_resumption_level as number) >= 1,
    maxTlsSendBuffer: (o.side === 'client' ? s.tls_client_max_send_buffer : s.tls_server_max_send_buffer) as number,
  };
  return {
    alpn,
    certificateChain,
    privateKey,
    verifyPeer,
    trusted,
    customVerify,
    sslkeylogfile,
    quicEventMask,
    localAddress,
    nst,
    handle: m.handle,
    transport,
    sendBuffering: s.send_buffering_enabled as boolean,
    maxOperationsPerDrain: s.max_operations_per_drain as number,
    tlsClientMaxSendBuffer: s.tls_client_max_send_buffer as number,
    tlsServerMaxSendBuffer: s.tls_server_max_send_buffer as number,
    streamRecvBufferDefault: s.stream_recv_buffer_default as number,
    datagramReceiveEnabled: s.datagram_receive_enabled as boolean,
    serverResumptionLevel: s.server_resumption_level as 0 | 1 | 2,
    settings: s,
    app,
  };
}

/** The `sslkeylogfile` writer: NSS key-log lines appended, with the header on an empty file. */
export function keyLogWriter(path: string): (line: string) => void {
  let started = false;
  return (line: string) => {
    try {
      if (!started) {
        started = true;
        let empty = true;
        try {
          empty = readFileSync(path).length === 0;
        } catch {
          empty = true;
        }
        if (empty) appendLine(path, '# TLS 1.3 secrets log file');
      }
      appendLine(path, line);
    } catch {
      // A key log that cannot be written must not break the connection.
    }
  };
}

function appendLine(path: string, line: string): void {
  appendFileSync(path, line + '\n');
}

// ---------------------------------------------------------------------------------------------
// stream_opts (QUICER.md §3e)

/** Receive mode of a stream: `true`, `false` (passive), `'once'`, or a message count. */
export type ActiveMode = boolean | 'once' | number;

export interface StreamOptions {
  active: ActiveMode;
  /** QUIC_STREAM_OPEN_FLAG_*: 1 unidirectional, 2 0-RTT. */
  openFlag: number;
  /** QUIC_STREAM_START_FLAG_*: 1 IMMEDIATE, 2 FAIL_BLOCKED, 4 SHUTDOWN_ON_FAIL, 8 INDICATE_PEER_ACCEPT. */
  startFlag: number;
  /** Bit 0x1: deliver start_completed. */
  eventMask: number;
  disableFpbuffer: boolean;
  priority: number | undefined;
  app: Record<string, unknown>;
}

const STREAM_KEYS = new Set(['active', 'open_flag', 'start_flag', 'event_mask', 'quic_event_mask', 'disable_fpbuffer', 'priority']);
const STREAM_READONLY = new Set(['stream_id', 'ideal_send_buffer_size', '0rtt_length']);

/** Validates an `active` value (true, false, 'once', or an integer in −32768..32767). */
export function validateActive(where: string, v: unknown): ActiveMode {
  if (v === true || v === false || v === 'once') return v;
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (v < -32768 || v > 32767) throw optionError(where, 'active', v, 'true, false, once, or an integer in -32768..32767', true);
    return v;
  }
  throw optionError(where, 'active', v, "true, false, 'once', or an integer in -32768..32767");
}

/** Validates `stream_opts` (quicer's start_stream defaults: active true, start_flag SHUTDOWN_ON_FAIL). */
export function validateStreamOpts(opts: unknown, where = 'stream_opts'): StreamOptions {
  const m = asMap(where, opts);
  const app: Record<string, unknown> = {};
  for (const k of Object.keys(m)) {
    if (STREAM_READONLY.has(k)) throw new TypeError(`${where}.${k}: is read-only; read it with getopt(stream, '${k}')`);
    if (!STREAM_KEYS.has(k)) app[k] = m[k];
  }
  const active = m.active === undefined ? true : validateActive(where, m.active);
  const openFlag = m.open_flag === undefined ? 0 : uint(where, 'open_flag', m.open_flag, 0, 3, '0 (none), 1 (unidirectional), 2 (0-RTT) or 3');
  const startFlag = m.start_flag === undefined ? 4 : uint(where, 'start_flag', m.start_flag, 0, 31, 'a combination of 1 IMMEDIATE, 2 FAIL_BLOCKED, 4 SHUTDOWN_ON_FAIL, 8 INDICATE_PEER_ACCEPT, 16 PRIORITY_WORK');
  const em = m.quic_event_mask ?? m.event_mask;
  if (m.quic_event_mask !== undefined && m.event_mask !== undefined && m.quic_event_mask !== m.event_mask) {
    throw new TypeError(`${where}: event_mask and quic_event_mask disagree (${show(m.event_mask)} vs ${show(m.quic_event_mask)}); they mean the same`);
  }
  const eventMask = em === undefined ? 0 : uint(where, m.quic_event_mask !== undefined ? 'quic_event_mask' : 'event_mask', em, 0, 0xffffffff);
  const disableFpbuffer = m.disable_fpbuffer === undefined ? false : flag(where, 'disable_fpbuffer', m.disable_fpbuffer, false);
  const priority = m.priority === undefined ? undefined : uint(where, 'priority', m.priority, 0, 65535);
  return { active, openFlag, startFlag, eventMask, disableFpbuffer, priority, app };
}
