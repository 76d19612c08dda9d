/**
 * Session resumption state (RFC 8446 §4.6.1, §2.2, §4.2.11): what a stateless server seals
 * into a ticket, how it seals it, and the serialisable session a client keeps to resume
 * (ticket, PSK, age data, 0-RTT permission, the server's transport parameters).
 */
import type { CryptoBackend } from '../crypto/backend.js';
import { QuicError } from '../transport/errors.js';
import { fromLatin1, latin1 } from './extensions.js';
import { ByteReader, ByteWriter } from './wire.js';

/** Longest ticket lifetime TLS 1.3 allows: 7 days, in seconds. */
export const MAX_TICKET_LIFETIME = 604800;

/** The server's view of an issued ticket: everything needed to resume from it statelessly. */
export interface TicketState {
  /** CipherSuite code the session used. */
  readonly cipherSuite: number;
  /** The resumption PSK. */
  readonly psk: Uint8Array;
  /** When the ticket was issued (ms, the `now` of `sendSessionTicket`). */
  readonly issuedAt: number;
  /** ticket_lifetime, seconds. */
  readonly lifetime: number;
  readonly ageAdd: number;
  /** max_early_data_size advertised with the ticket; 0 = no 0-RTT. */
  readonly maxEarlyData: number;
  readonly alpn: string | undefined;
  readonly serverName: string | undefined;
  /** Opaque application data given to `sendSessionTicket`. */
  readonly applicationData: Uint8Array;
  /** Opaque 0-RTT context (the QUIC layer's transport parameters that 0-RTT depends on). */
  readonly earlyDataContext: Uint8Array;
  /**
   * The certificate chain the client authenticated with (empty when it sent none): a resumed
   * session keeps that identity, since a PSK handshake carries no certificates (RFC 8446 §4.6.1).
   */
  readonly clientCertificates: readonly Uint8Array[];
}

/** 2: client certificates added. Tickets of another version do not open (a full handshake follows). */
const TICKET_STATE_VERSION = 2;

function writeF64(w: ByteWriter, v: number): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v);
  w.bytes(b);
}

function readF64(r: ByteReader): number {
  const b = r.bytes(8);
  return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0);
}

export function encodeTicketState(s: TicketState): Uint8Array {
  let certBytes = 0;
  for (const c of s.clientCertificates) certBytes += 3 + c.length;
  const w = new ByteWriter(130 + s.applicationData.length + s.earlyDataContext.length + certBytes);
  w.u8(TICKET_STATE_VERSION).u16(s.cipherSuite).vector(1, s.psk);
  writeF64(w, s.issuedAt);
  w.u32(s.lifetime).u32(s.ageAdd).u32(s.maxEarlyData);
  w.vector(1, fromLatin1(s.alpn ?? '')).vector(2, fromLatin1(s.serverName ?? ''));
  w.vector(3, s.applicationData).vector(3, s.earlyDataContext);
  w.u8(s.clientCertificates.length);
  for (const c of s.clientCertificates) w.vector(3, c);
  return w.finish();
}

/** Parses a ticket plaintext; undefined when it is not one this code wrote. */
export function decodeTicketState(b: Uint8Array): TicketState | undefined {
  try {
    const r = new ByteReader(b, 0, b.length, 'ticket');
    if (r.u8() !== TICKET_STATE_VERSION) return undefined;
    const cipherSuite = r.u16();
    const psk = r.vector(1, 32).slice();
    const issuedAt = readF64(r);
    const lifetime = r.u32();
    const ageAdd = r.u32();
    const maxEarlyData = r.u32();
    const alpn = latin1(r.vector(1));
    const serverName = latin1(r.vector(2));
    const applicationData = r.vector(3).slice();
    const earlyDataContext = r.vector(3).slice();
    const clientCertificates: Uint8Array[] = [];
    for (let n = r.u8(); n > 0; n--) clientCertificates.push(r.vector(3).slice());
    r.done();
    return {
      cipherSuite,
      psk,
      issuedAt,
      lifetime,
      ageAdd,
      maxEarlyData,
      alpn: alpn === '' ? undefined : alpn,
      serverName: serverName === '' ? undefined : serverName,
      applicationData,
      earlyDataContext,
      clientCertificates,
    };
  } catch (e) {
    if (e instanceof QuicError) return undefined;
    throw e;
  }
}

/**
 * Turns ticket plaintexts into tickets and back. A server that issues tickets needs one, shared
 * by every connection that may see the tickets (and every server process, for a cluster).
 */
export interface TicketSealer {
  seal(plaintext: Uint8Array): Uint8Array;
  /** The plaintext, or undefined when the ticket is not authentic (wrong key, tampered, garbage). */
  open(ticket: Uint8Array): Uint8Array | undefined;
}

const TICKET_AAD = new TextEncoder().encode('purequic session ticket v1');
const TICKET_NONCE = 12;
const TAG = 16;

/**
 * The default sealer: AES-256-GCM under a 32-byte server key with a random 96-bit nonce per
 * ticket. The ticket is `nonce || ciphertext || tag`.
 */
export function createTicketSealer(crypto: CryptoBackend, key: Uint8Array): TicketSealer {
  if (key.length !== 32) throw new TypeError(`ticket key must be 32 bytes, got ${key.length}`);
  const aead = crypto.createAead('aes-256-gcm', key);
  return {
    seal(plaintext) {
      const out = new Uint8Array(TICKET_NONCE + plaintext.length + TAG);
      const nonce = out.subarray(0, TICKET_NONCE);
      crypto.randomFill(nonce);
      aead.seal(nonce.slice(), TICKET_AAD, plaintext, out.subarray(TICKET_NONCE));
      return out;
    },
    open(ticket) {
      if (ticket.length < TICKET_NONCE + TAG) return undefined;
      const out = new Uint8Array(ticket.length - TICKET_NONCE - TAG);
      const n = aead.open(ticket.subarray(0, TICKET_NONCE), TICKET_AAD, ticket.subarray(TICKET_NONCE), out);
      return n < 0 ? undefined : out;
    },
  };
}

/** What a client keeps from a NewSessionTicket to resume later. Serialise with `encodeClientSession`. */
export interface ClientSession {
  readonly cipherSuite: number;
  readonly psk: Uint8Array;
  readonly ticket: Uint8Array;
  readonly ageAdd: number;
  /** ticket_lifetime, seconds. */
  readonly lifetime: number;
  /** When the ticket arrived (ms, the `now` of that `receive`). */
  readonly receivedAt: number;
  /** max_early_data_size from the ticket; 0 = no 0-RTT. */
  readonly maxEarlyData: number;
  readonly alpn: string | undefined;
  readonly serverName: string | undefined;
  /** The server's quic_transport_parameters bytes from the connection that got the ticket (empty outside QUIC). */
  readonly transportParameters: Uint8Array;
}

const CLIENT_SESSION_VERSION = 1;

/** Serialises a client session (opaque bytes an application can store). */
export function encodeClientSession(s: ClientSession): Uint8Array {
  const w = new ByteWriter(64 + s.ticket.length + s.transportParameters.length);
  w.u8(CLIENT_SESSION_VERSION).u16(s.cipherSuite).vector(1, s.psk).vector(2, s.ticket).u32(s.ageAdd).u32(s.lifetime);
  writeF64(w, s.receivedAt);
  w.u32(s.maxEarlyData).vector(1, fromLatin1(s.alpn ?? '')).vector(2, fromLatin1(s.serverName ?? ''));
  w.vector(2, s.transportParameters);
  return w.finish();
}

/** Parses bytes from `encodeClientSession`. Throws TypeError when they are not a session. */
export function decodeClientSession(b: Uint8Array): ClientSession {
  try {
    const r = new ByteReader(b, 0, b.length, 'session');
    if (r.u8() !== CLIENT_SESSION_VERSION) throw new TypeError('not a purequic client session (version)');
    const cipherSuite = r.u16();
    const psk = r.vector(1, 32).slice();
    const ticket = r.vector(2, 1).slice();
    const ageAdd = r.u32();
    const lifetime = r.u32();
    const receivedAt = readF64(r);
    const maxEarlyData = r.u32();
    const alpn = latin1(r.vector(1));
    const serverName = latin1(r.vector(2));
    const transportParameters = r.vector(2).slice();
    r.done();
    return {
      cipherSuite,
      psk,
      ticket,
      ageAdd,
      lifetime,
      receivedAt,
      maxEarlyData,
      alpn: alpn === '' ? undefined : alpn,
      serverName: serverName === '' ? undefined : serverName,
      transportParameters,
    };
  } catch (e) {
    if (e instanceof QuicError) throw new TypeError(`not a purequic client session: ${e.reason}`);
    throw e;
  }
}

/** obfuscated_ticket_age for a session at `now` (RFC 8446 §4.2.11.1). */
export function obfuscatedTicketAge(s: ClientSession, now: number): number {
  const age = Math.max(0, Math.floor(now - s.receivedAt));
  return (age + s.ageAdd) >>> 0;
}

/** True while the session's ticket is within its lifetime at `now`. */
export function isSessionUsable(s: ClientSession, now: number): boolean {
  return now - s.receivedAt <= s.lifetime * 1000;
}
