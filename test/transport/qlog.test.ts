import { describe, it, expect } from 'vitest';
import { QlogWriter, qlogPacketType, qlogSentFrames } from '../../src/transport/qlog.js';
import { PacketType } from '../../src/transport/packet.js';
import { SentFrame } from '../../src/transport/sent-frames.js';
import { NOW0, makePair, payload, runHandshake, transfer } from '../support/quic-pair.js';

/** Splits JSON-SEQ text into parsed records, checking the framing (RS … LF). */
function records(text: string): Array<Record<string, any>> {
  expect(text.startsWith('\u001e')).toBe(true);
  const parts = text.split('\u001e').slice(1);
  return parts.map((p) => {
    expect(p.endsWith('\n')).toBe(true);
    return JSON.parse(p);
  });
}

describe('QlogWriter', () => {
  it('starts with a qlog 0.3 JSON-SEQ header naming the vantage point and ODCID', () => {
    let text = '';
    new QlogWriter((t) => (text += t), { vantagePoint: 'server', odcid: '0011', referenceTime: 1000 });
    const [header] = records(text);
    expect(header).toMatchObject({
      qlog_version: '0.3',
      qlog_format: 'JSON-SEQ',
      trace: { vantage_point: { type: 'server' }, common_fields: { ODCID: '0011', time_format: 'relative', reference_time: 1000 } },
    });
  });

  it('maps trace events to qlog events with relative times', () => {
    let text = '';
    const w = new QlogWriter((t) => (text += t), { vantagePoint: 'client', odcid: 'ab', referenceTime: 1000 });
    w.event('packet_sent', { packetType: PacketType.OneRtt, pn: 7, size: 1200, frames: [SentFrame.Stream, 0, 100, 50, 1], ackLargest: 3 }, 1002.5);
    w.event('packet_lost', { packetType: PacketType.Handshake, pn: 2 }, 1003);
    w.event('connection_closed', { owner: 'local', application_code: 256n, reason: 'bye' }, 1004);
    w.event('something_new', { x: new Uint8Array([1, 255]) }, 1005);
    const [, sent, lost, closed, custom] = records(text);
    expect(sent).toEqual({
      time: 2.5,
      name: 'transport:packet_sent',
      data: {
        header: { packet_type: '1RTT', packet_number: 7 },
        raw: { length: 1200 },
        frames: [
          { frame_type: 'ack', largest_acknowledged: 3 },
          { frame_type: 'stream', stream_id: 0, offset: 100, length: 50, fin: true },
        ],
      },
    });
    expect(lost).toMatchObject({ name: 'recovery:packet_lost', data: { header: { packet_type: 'handshake', packet_number: 2 } } });
    expect(closed).toMatchObject({ name: 'connectivity:connection_closed', data: { application_code: 256, reason: 'bye' } });
    expect(custom).toMatchObject({ name: 'purequic:something_new', data: { x: '01ff' } });
    expect(w.events).toBe(4);
  });

  it('writes only the metrics that changed, and nothing when none did', () => {
    let text = '';
    const w = new QlogWriter((t) => (text += t), { vantagePoint: 'client', odcid: 'ab', referenceTime: 0 });
    w.event('metrics_updated', { smoothed_rtt: 10, congestion_window: 12000 }, 1);
    w.event('metrics_updated', { smoothed_rtt: 10, congestion_window: 12000 }, 2);
    w.event('metrics_updated', { smoothed_rtt: 11, congestion_window: 12000 }, 3);
    const r = records(text).slice(1);
    expect(r.map((x) => x.data)).toEqual([{ smoothed_rtt: 10, congestion_window: 12000 }, { smoothed_rtt: 11 }]);
  });

  it('names every packet type and decodes every sent-frame kind', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(qlogPacketType)).toEqual(['initial', '0RTT', 'handshake', 'retry', '1RTT', 'version_negotiation', 'unknown']);
    const frames = [
      SentFrame.Crypto, 0, 10, SentFrame.ResetStream, 4, SentFrame.StopSending, 4, SentFrame.MaxData, SentFrame.MaxStreamData, 8,
      SentFrame.MaxStreams, 1, SentFrame.DataBlocked, 99, SentFrame.StreamDataBlocked, 4, 77, SentFrame.StreamsBlocked, 0, 5,
      SentFrame.NewConnectionId, 2, SentFrame.RetireConnectionId, 1, SentFrame.HandshakeDone, SentFrame.NewToken,
    ];
    expect(qlogSentFrames(frames, -1).map((f) => f['frame_type'])).toEqual([
      'crypto', 'reset_stream', 'stop_sending', 'max_data', 'max_stream_data', 'max_streams', 'data_blocked',
      'stream_data_blocked', 'streams_blocked', 'new_connection_id', 'retire_connection_id', 'handshake_done', 'new_token',
    ]);
  });
});

describe('qlog of a real connection', () => {
  it('traces packets, losses, metrics and the close of a lossy transfer', async () => {
    let text = '';
    let writer: QlogWriter | undefined;
    let clock = (): number => NOW0;
    const trace = (name: string, data: Record<string, unknown>): void => {
      writer ??= new QlogWriter((t) => (text += t), { vantagePoint: 'client', odcid: 'test', referenceTime: NOW0 });
      writer.event(name, data, clock());
    };
    const pair = await makePair({ client: { trace }, link: { delay: 10, loss: 0.05 }, seed: 3 });
    clock = () => pair.net.now;
    expect(runHandshake(pair)).toBe(true);
    const data = payload(300_000);
    expect(transfer(pair, data).ok).toBe(true);
    pair.client.close(0, 'done', pair.net.now);
    pair.net.run(() => pair.client.isClosed, 10_000);
    expect(pair.client.isClosed).toBe(true);

    const recs = records(text);
    const names = recs.slice(1).map((r) => r.name);
    for (const n of ['transport:packet_sent', 'transport:packet_received', 'transport:parameters_set', 'transport:connection_state_updated', 'recovery:metrics_updated', 'recovery:packet_lost', 'connectivity:connection_closed']) {
      expect(names).toContain(n);
    }
    expect(names[names.length - 1]).toBe('connectivity:connection_closed');
    const sent = recs.filter((r) => r.name === 'transport:packet_sent');
    const types = new Set(sent.map((r) => r.data.header.packet_type));
    expect(types).toEqual(new Set(['initial', 'handshake', '1RTT']));
    // Packet numbers rise within each type; sizes are real datagram shares.
    for (const t of types) {
      const pns = sent.filter((r) => r.data.header.packet_type === t).map((r) => r.data.header.packet_number);
      for (let i = 1; i < pns.length; i++) expect(pns[i]).toBeGreaterThan(pns[i - 1]);
    }
    expect(sent.every((r) => r.data.raw.length > 20 && r.data.raw.length <= 65527)).toBe(true);
    const streamBytes = sent.flatMap((r) => r.data.frames).filter((f: any) => f.frame_type === 'stream').reduce((a: number, f: any) => a + f.length, 0);
    expect(streamBytes).toBeGreaterThanOrEqual(data.length); // retransmissions included
    const received = recs.filter((r) => r.name === 'transport:packet_received');
    expect(received.some((r) => r.data.frames.some((f: any) => f.frame_type === 'ack' && Array.isArray(f.acked_ranges)))).toBe(true);
    const closed = recs[recs.length - 1]!;
    expect(closed.data).toMatchObject({ owner: 'local', application_code: 0, reason: 'done' });
    // Times follow the simulated clock: non-decreasing, and the 10 ms links make the handshake take > 20 ms.
    const times = recs.slice(1).map((r) => r.time as number);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
    const confirmed = recs.find((r) => r.name === 'transport:connection_state_updated' && r.data.new === 'handshake_confirmed')!;
    expect(confirmed.time).toBeGreaterThan(20);
  });
});
