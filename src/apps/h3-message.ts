/**
 * HTTP/3 message rules on decoded field sections (RFC 9114 §4.1.2, §4.2, §4.3): lowercase names,
 * pseudo-header fields first, known and not repeated, no connection-specific fields. A violation
 * makes the message malformed: a stream error of type H3_MESSAGE_ERROR.
 */
import { H3Error, H3ErrorCode, H3FrameType, isReservedHttp2FrameType } from './h3-constants.js';
import type { HeaderField } from './qpack.js';

const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);

/** A field section split into pseudo-header fields and the rest. */
export interface CheckedFields {
  readonly pseudo: ReadonlyMap<string, string>;
  readonly fields: readonly HeaderField[];
}

/** Where a request stream's message is: before its HEADERS, in its body, or after its trailers. */
export const MessagePhase = { Headers: 0, Body: 1, Trailers: 2 } as const;
export type MessagePhase = (typeof MessagePhase)[keyof typeof MessagePhase];

/**
 * Frames a request stream must not carry (RFC 9114 §7.2): control frames and HTTP/2's reserved
 * types are H3_FRAME_UNEXPECTED; anything else unknown is ignored. HEADERS, DATA and
 * PUSH_PROMISE are the caller's.
 */
export function checkRequestStreamFrame(type: number): void {
  if (type === H3FrameType.SETTINGS || type === H3FrameType.GOAWAY || type === H3FrameType.MAX_PUSH_ID || type === H3FrameType.CANCEL_PUSH) {
    throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, `control frame 0x${type.toString(16)} on a request stream`);
  }
  if (isReservedHttp2FrameType(type)) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)}`);
}

/** DATA comes only between a message's HEADERS and its trailers (RFC 9114 §4.1). */
export function checkDataFrame(phase: MessagePhase): void {
  if (phase !== MessagePhase.Body) throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, phase === MessagePhase.Headers ? 'DATA before HEADERS' : 'DATA after the trailers');
}

function malformed(streamId: number, why: string): never {
  throw new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, `malformed message: ${why}`, streamId);
}

function split(streamId: number, section: readonly HeaderField[], allowedPseudo: ReadonlySet<string>): CheckedFields {
  const pseudo = new Map<string, string>();
  const fields: HeaderField[] = [];
  for (const f of section) {
    const name = f[0];
    if (name.length === 0) malformed(streamId, 'empty field name');
    if (name !== name.toLowerCase()) malformed(streamId, `field name ${JSON.stringify(name)} has uppercase characters`);
    if (name.startsWith(':')) {
      if (fields.length > 0) malformed(streamId, `pseudo-header ${name} after regular fields`);
      if (!allowedPseudo.has(name)) malformed(streamId, `pseudo-header ${name} not allowed here`);
      if (pseudo.has(name)) malformed(streamId, `pseudo-header ${name} repeated`);
      pseudo.set(name, f[1]);
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name)) malformed(streamId, `connection-specific field ${name}`);
    if (name === 'te' && f[1] !== 'trailers') malformed(streamId, `te: ${f[1]}`);
    fields.push(f);
  }
  return { pseudo, fields };
}

/** Checks a request's field section (RFC 9114 §4.3.1). */
export function checkRequestFields(streamId: number, section: readonly HeaderField[]): CheckedFields {
  const c = split(streamId, section, REQUEST_PSEUDO);
  const method = c.pseudo.get(':method');
  if (method === undefined || method.length === 0) malformed(streamId, ':method missing');
  if (method !== 'CONNECT') {
    if (c.pseudo.get(':scheme') === undefined) malformed(streamId, ':scheme missing');
    const path = c.pseudo.get(':path');
    if (path === undefined || path.length === 0) malformed(streamId, ':path missing or empty');
  }
  return c;
}

/** Checks a response's field section (RFC 9114 §4.3.2); returns it with the status code. */
export function checkResponseFields(streamId: number, section: readonly HeaderField[]): CheckedFields & { status: number } {
  const c = split(streamId, section, new Set([':status']));
  const s = c.pseudo.get(':status');
  if (s === undefined || !/^[1-9]\d\d$/.test(s)) malformed(streamId, `:status ${s === undefined ? 'missing' : JSON.stringify(s)}`);
  return { ...c, status: Number(s) };
}

/** Checks a trailer section: no pseudo-header fields (RFC 9114 §4.3). */
export function checkTrailerFields(streamId: number, section: readonly HeaderField[]): CheckedFields {
  return split(streamId, section, new Set());
}

/** The content-length value of a field list, or undefined; a malformed or conflicting one is H3_MESSAGE_ERROR. */
export function contentLength(streamId: number, fields: readonly HeaderField[]): number | undefined {
  let v: number | undefined;
  for (const [name, value] of fields) {
    if (name !== 'content-length') continue;
    if (!/^\d{1,15}$/.test(value)) malformed(streamId, `content-length ${JSON.stringify(value)}`);
    const n = Number(value);
    if (v !== undefined && v !== n) malformed(streamId, 'conflicting content-length values');
    v = n;
  }
  return v;
}
