/**
 * qlog output (draft-ietf-quic-qlog-main-schema / draft-ietf-quic-qlog-quic-events, qlog 0.3,
 * JSON-SEQ `.sqlog`): turns the connection's trace events into qlog records. Sans-IO: the
 * caller supplies the text sink and the time of each event (ms since the epoch).
 *
 * The connection emits trace events only when a `trace` hook is configured; the names it uses
 * and the qlog events they become:
 * - `packet_sent`, `packet_received` → `transport:packet_sent` / `transport:packet_received`
 * - `retry_received` → `transport:packet_received` (packet_type retry)
 * - `parameters_set` → `transport:parameters_set`
 * - `connection_state_updated` → `transport:connection_state_updated`
 * - `packet_lost` → `recovery:packet_lost`
 * - `metrics_updated` → `recovery:metrics_updated` (only the fields that changed)
 * - `key_update` → `security:key_updated`
 * - `mtu_updated` → `connectivity:mtu_updated`
 * - `connection_closed` → `connectivity:connection_closed`
 * - anything else → `purequic:<name>` with the data as given
 */
import { FrameType, type Frame } from './frame-types.js';
import { PacketType } from './packet.js';
import { SENT_FRAME_FIELDS, SentFrame } from './sent-frames.js';

/** The qlog name of a packet type. */
export function qlogPacketType(type: number): string {
  switch (type) {
    case PacketType.Initial:
      return 'initial';
    case PacketType.ZeroRtt:
      return '0RTT';
    case PacketType.Handshake:
      return 'handshake';
    case PacketType.Retry:
      return 'retry';
    case PacketType.OneRtt:
      return '1RTT';
    case PacketType.VersionNegotiation:
      return 'version_negotiation';
    default:
      return 'unknown';
  }
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

function errorCode(code: bigint): number | string {
  return code <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(code) : code.toString();
}

/** A received frame as a qlog QuicFrame. Call it while the frame's views are still valid. */
export function qlogFrame(f: Frame): Record<string, unknown> {
  switch (f.type) {
    case FrameType.Padding:
      return { frame_type: 'padding', length: f.length };
    case FrameType.Ping:
      return { frame_type: 'ping' };
    case FrameType.Ack:
    case FrameType.AckEcn: {
      const acked: number[][] = [];
      for (let i = 0; i + 1 < f.ranges.length; i += 2) acked.push([f.ranges[i + 1]!, f.ranges[i]!]);
      return { frame_type: 'ack', ack_delay: f.ackDelay, acked_ranges: acked };
    }
    case FrameType.ResetStream:
      return { frame_type: 'reset_stream', stream_id: f.streamId, error_code: errorCode(f.errorCode), final_size: f.finalSize };
    case FrameType.StopSending:
      return { frame_type: 'stop_sending', stream_id: f.streamId, error_code: errorCode(f.errorCode) };
    case FrameType.Crypto:
      return { frame_type: 'crypto', offset: f.offset, length: f.data.length };
    case FrameType.NewToken:
      return { frame_type: 'new_token', token: { length: f.token.length } };
    case FrameType.Stream:
      return { frame_type: 'stream', stream_id: f.streamId, offset: f.offset, length: f.data.length, fin: f.fin };
    case FrameType.MaxData:
      return { frame_type: 'max_data', maximum: f.maximumData };
    case FrameType.MaxStreamData:
      return { frame_type: 'max_stream_data', stream_id: f.streamId, maximum: f.maximumStreamData };
    case FrameType.MaxStreamsBidi:
    case FrameType.MaxStreamsUni:
      return { frame_type: 'max_streams', stream_type: f.type === FrameType.MaxStreamsBidi ? 'bidirectional' : 'unidirectional', maximum: f.maximumStreams };
    case FrameType.DataBlocked:
      return { frame_type: 'data_blocked', limit: f.maximumData };
    case FrameType.StreamDataBlocked:
      return { frame_type: 'stream_data_blocked', stream_id: f.streamId, limit: f.maximumStreamData };
    case FrameType.StreamsBlockedBidi:
    case FrameType.StreamsBlockedUni:
      return { frame_type: 'streams_blocked', stream_type: f.type === FrameType.StreamsBlockedBidi ? 'bidirectional' : 'unidirectional', limit: f.maximumStreams };
    case FrameType.NewConnectionId:
      return {
        frame_type: 'new_connection_id',
        sequence_number: f.sequenceNumber,
        retire_prior_to: f.retirePriorTo,
        connection_id_length: f.connectionId.length,
        connection_id: hex(f.connectionId),
        stateless_reset_token: hex(f.statelessResetToken),
      };
    case FrameType.RetireConnectionId:
      return { frame_type: 'retire_connection_id', sequence_number: f.sequenceNumber };
    case FrameType.PathChallenge:
      return { frame_type: 'path_challenge', data: hex(f.data) };
    case FrameType.PathResponse:
      return { frame_type: 'path_response', data: hex(f.data) };
    case FrameType.ConnectionClose:
      return { frame_type: 'connection_close', error_space: 'transport', error_code: errorCode(f.errorCode), trigger_frame_type: f.frameType, reason: new TextDecoder().decode(f.reason) };
    case FrameType.ApplicationClose:
      return { frame_type: 'connection_close', error_space: 'application', error_code: errorCode(f.errorCode), reason: new TextDecoder().decode(f.reason) };
    case FrameType.HandshakeDone:
      return { frame_type: 'handshake_done' };
    case FrameType.Datagram:
      return { frame_type: 'datagram', length: f.data.length };
    default:
      return { frame_type: 'unknown' };
  }
}

/**
 * The frames a sent packet record lists (`SentPacket.frames`, see sent-frames.ts) as qlog
 * frames; `ackLargest` ≥ 0 adds the ACK frame the packet carried (its ranges are not kept).
 */
export function qlogSentFrames(frames: readonly number[], ackLargest: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (ackLargest >= 0) out.push({ frame_type: 'ack', largest_acknowledged: ackLargest });
  for (let i = 0; i < frames.length; ) {
    const kind = frames[i]!;
    const a = frames[i + 1]!;
    const b = frames[i + 2]!;
    switch (kind) {
      case SentFrame.Stream:
        out.push({ frame_type: 'stream', stream_id: a, offset: b, length: frames[i + 3]!, fin: frames[i + 4] === 1 });
        break;
      case SentFrame.Crypto:
        out.push({ frame_type: 'crypto', offset: a, length: b });
        break;
      case SentFrame.ResetStream:
        out.push({ frame_type: 'reset_stream', stream_id: a });
        break;
      case SentFrame.StopSending:
        out.push({ frame_type: 'stop_sending', stream_id: a });
        break;
      case SentFrame.MaxData:
        out.push({ frame_type: 'max_data' });
        break;
      case SentFrame.MaxStreamData:
        out.push({ frame_type: 'max_stream_data', stream_id: a });
        break;
      case SentFrame.MaxStreams:
        out.push({ frame_type: 'max_streams', stream_type: a === 0 ? 'bidirectional' : 'unidirectional' });
        break;
      case SentFrame.DataBlocked:
        out.push({ frame_type: 'data_blocked', limit: a });
        break;
      case SentFrame.StreamDataBlocked:
        out.push({ frame_type: 'stream_data_blocked', stream_id: a, limit: b });
        break;
      case SentFrame.StreamsBlocked:
        out.push({ frame_type: 'streams_blocked', stream_type: a === 0 ? 'bidirectional' : 'unidirectional', limit: b });
        break;
      case SentFrame.NewConnectionId:
        out.push({ frame_type: 'new_connection_id', sequence_number: a });
        break;
      case SentFrame.RetireConnectionId:
        out.push({ frame_type: 'retire_connection_id', sequence_number: a });
        break;
      case SentFrame.HandshakeDone:
        out.push({ frame_type: 'handshake_done' });
        break;
      case SentFrame.NewToken:
        out.push({ frame_type: 'new_token' });
        break;
      case SentFrame.MtuProbe:
        out.push({ frame_type: 'ping' }, { frame_type: 'padding' });
        break;
    }
    i += 1 + (SENT_FRAME_FIELDS[kind] ?? 0);
  }
  return out;
}

/** Who a trace is about. */
export interface QlogTraceInfo {
  vantagePoint: 'client' | 'server';
  /** Original destination connection ID (hex): the group ID both ends of a connection share. */
  odcid: string;
  /** Reference time (ms since the epoch); event times are relative to it. */
  referenceTime: number;
  title?: string;
}

const RS = '\u001e';
const METRIC_FIELDS = ['min_rtt', 'smoothed_rtt', 'latest_rtt', 'rtt_variance', 'congestion_window', 'bytes_in_flight', 'ssthresh', 'pto_count'] as const;

/**
 * Writes one connection's qlog as JSON-SEQ: a header record, then one record per event. Each
 * record is handed to `write` as text (RS … LF).
 */
export class QlogWriter {
  private readonly lastMetrics = new Map<string, unknown>();
  /** Events written so far. */
  events = 0;

  constructor(
    private readonly write: (text: string) => void,
    readonly info: QlogTraceInfo,
  ) {
    const header = {
      qlog_version: '0.3',
      qlog_format: 'JSON-SEQ',
      title: info.title ?? `purequic ${info.vantagePoint} ${info.odcid}`,
      trace: {
        vantage_point: { type: info.vantagePoint, name: 'purequic' },
        common_fields: { ODCID: info.odcid, group_id: info.odcid, time_format: 'relative', reference_time: info.referenceTime, protocol_type: ['QUIC'] },
      },
    };
    write(RS + JSON.stringify(header) + '\n');
  }

  /** Records one trace event of the connection that happened at `time` (ms since the epoch). */
  event(name: string, data: Record<string, unknown>, time: number): void {
    const mapped = this.map(name, data);
    if (mapped === undefined) return;
    this.events++;
    const t = Math.round((time - this.info.referenceTime) * 1000) / 1000;
    this.write(RS + JSON.stringify({ time: t, name: mapped[0], data: mapped[1] }, jsonReplacer) + '\n');
  }

  private map(name: string, d: Record<string, unknown>): [string, Record<string, unknown>] | undefined {
    switch (name) {
      case 'packet_sent':
      case 'packet_received': {
        const header: Record<string, unknown> = { packet_type: qlogPacketType(d['packetType'] as number), packet_number: d['pn'] };
        const frames = name === 'packet_sent' ? qlogSentFrames((d['frames'] as number[]) ?? [], (d['ackLargest'] as number) ?? -1) : d['frames'];
        return [`transport:${name}`, { header, raw: { length: d['size'] }, frames }];
      }
      case 'retry_received':
        return ['transport:packet_received', { header: { packet_type: 'retry' }, token: { length: d['token_length'] } }];
      case 'parameters_set': {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(d)) if (v !== undefined) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
        return ['transport:parameters_set', out];
      }
      case 'connection_state_updated':
        return ['transport:connection_state_updated', d];
      case 'packet_lost':
        return ['recovery:packet_lost', { header: { packet_type: qlogPacketType(d['packetType'] as number), packet_number: d['pn'] }, trigger: d['trigger'] }];
      case 'metrics_updated': {
        const out: Record<string, unknown> = {};
        let changed = false;
        for (const k of METRIC_FIELDS) {
          const v = d[k];
          if (v === undefined || this.lastMetrics.get(k) === v) continue;
          this.lastMetrics.set(k, v);
          out[k] = v;
          changed = true;
        }
        return changed ? ['recovery:metrics_updated', out] : undefined;
      }
      case 'key_update':
        return ['security:key_updated', { key_type: `${d['trigger'] === 'remote' ? 'server' : 'client'}_1rtt_secret`, generation: d['generation'], trigger: d['trigger'] === 'remote' ? 'remote_update' : 'local_update' }];
      case 'mtu_updated':
        return ['connectivity:mtu_updated', { new: d['mtu'], done: false }];
      case 'connection_closed':
        return ['connectivity:connection_closed', d];
      default:
        return [`purequic:${name}`, d];
    }
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return hex(value);
  if (value === Infinity) return null;
  return value;
}
