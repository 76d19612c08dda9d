import { describe, it, expect } from 'vitest';
import { Recovery, type RecoveryHost } from '../../src/transport/recovery.js';
import { RttEstimator } from '../../src/transport/rtt.js';
import { PacketSpace, type SentPacket } from '../../src/transport/sent-packets.js';
import { NewRenoController } from '../../src/congestion/new-reno.js';
import { QuicError, TransportError } from '../../src/transport/errors.js';

class Host implements RecoveryHost {
  acked: number[] = [];
  lost: number[] = [];
  validated = true;
  amplificationLimited = false;
  handshakeKeys = false;
  onPacketAcked(_s: PacketSpace, p: SentPacket): void {
    this.acked.push(p.pn);
  }
  onPacketLost(_s: PacketSpace, p: SentPacket): void {
    this.lost.push(p.pn);
  }
  peerCompletedAddressValidation(): boolean {
    return this.validated;
  }
  atAmplificationLimit(): boolean {
    return this.amplificationLimited;
  }
  hasHandshakeKeys(): boolean {
    return this.handshakeKeys;
  }
  isAppLimited(): boolean {
    return false;
  }
}

function setup() {
  const host = new Host();
  const cc = new NewRenoController({ maxDatagramSize: 1200 });
  const r = new Recovery(new RttEstimator(100), cc, host);
  r.onHandshakeConfirmed(0);
  const send = (pn: number, t: number, space: PacketSpace = PacketSpace.Application, size = 1200) => {
    const p = r.sent[space].acquire();
    p.pn = pn;
    p.timeSent = t;
    p.size = size;
    p.ackEliciting = true;
    p.inFlight = true;
    r.onPacketSent(space, p, t);
  };
  /** ACK of [hi, lo] pairs. */
  const ack = (now: number, ...pairs: number[]) => r.onAckReceived(PacketSpace.Application, pairs, pairs.length / 2, 0, now);
  return { host, cc, r, send, ack };
}

describe('Recovery (RFC 9002)', () => {
  it('acknowledges, samples RTT and disarms the timer when nothing is in flight', () => {
    const { host, r, send, ack } = setup();
    for (let pn = 0; pn < 5; pn++) send(pn, pn);
    expect(r.bytesInFlight).toBe(6000);
    ack(54, 4, 0);
    expect(host.acked.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(r.rtt.latestRtt).toBe(50);
    expect(r.bytesInFlight).toBe(0);
    expect(r.deadline).toBe(Infinity);
  });

  it('declares packets lost by the packet threshold and arms the time threshold for the rest', () => {
    const { host, r, send, ack } = setup();
    for (let pn = 0; pn < 6; pn++) send(pn, pn);
    ack(60, 5, 4);
    expect(host.lost).toEqual([0, 1, 2]); // largest acked 5 >= pn + 3
    // pn 3 is within the threshold: the time threshold covers it (9/8 of the 55 ms RTT).
    expect(r.deadline).toBeCloseTo(3 + (9 / 8) * 55, 6);
    r.onTimeout(r.deadline - 0.001);
    expect(host.lost).toEqual([0, 1, 2]);
    r.onTimeout(r.deadline);
    expect(host.lost).toEqual([0, 1, 2, 3]);
  });

  it('rejects an ACK of a packet never sent with PROTOCOL_VIOLATION', () => {
    const { send, ack } = setup();
    send(0, 0);
    try {
      ack(10, 7, 0);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(QuicError);
      expect((e as QuicError).code).toBe(TransportError.PROTOCOL_VIOLATION);
    }
  });

  it('fires PTOs with exponential backoff and asks for two probes', () => {
    const { r, send } = setup();
    send(0, 0);
    const pto = r.rtt.ptoBase() + r.peerMaxAckDelay;
    expect(r.deadline).toBeCloseTo(pto, 6);
    r.onTimeout(r.deadline);
    expect(r.probes[PacketSpace.Application]).toBe(2);
    expect(r.ptoCount).toBe(1);
    expect(r.deadline).toBeCloseTo(2 * pto, 6);
  });

  it('notices a spurious loss: widens the reordering threshold and undoes the window reduction', () => {
    const { host, cc, r, send, ack } = setup();
    for (let pn = 0; pn < 10; pn++) send(pn, pn);
    ack(50, 0, 0); // RTT sample
    const before = cc.congestionWindow;
    ack(60, 9, 7); // pn + 3 <= 9 → 1..6 lost
    expect(host.lost).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cc.congestionWindow).toBeLessThan(before);
    ack(70, 6, 1); // all of them arrive after all
    expect(r.spuriousLosses).toBe(6);
    expect(r.packetThreshold).toBeGreaterThan(3);
    expect(cc.congestionWindow).toBeGreaterThanOrEqual(before);
  });

  it('collapses the window on persistent congestion', () => {
    const { cc, r, send, ack } = setup();
    send(0, 0);
    ack(100, 0, 0); // RTT 100
    for (let pn = 1; pn <= 20; pn++) send(pn, 100 + pn * 100);
    ack(2300, 20, 20); // pn 1..19, sent over 1.8 s (> 3 × (srtt + 4 rttvar + max_ack_delay)), all lost
    // RFC 9002 A.7: the window collapses to the minimum, the recovery start time is reset,
    // and the ACK of pn 20 is then counted in slow start.
    expect(cc.congestionWindow).toBe(cc.minimumWindow + 1200);
    expect(cc.inSlowStart).toBe(true);
    void r;
  });

  it('drops a discarded space from bytes in flight', () => {
    const { cc, r, send } = setup();
    send(0, 0, PacketSpace.Initial);
    send(1, 0, PacketSpace.Initial);
    expect(cc.bytesInFlight).toBe(2400);
    r.discardSpace(PacketSpace.Initial, 5);
    expect(cc.bytesInFlight).toBe(0);
    expect(r.bytesInFlight).toBe(0);
  });

  it('arms the client anti-deadlock PTO with nothing in flight and probes Handshake once keys exist', () => {
    const { host, r } = setup();
    host.validated = false;
    r.setTimer(0);
    expect(r.deadline).toBeCloseTo(r.rtt.ptoBase(), 6);
    r.onTimeout(r.deadline);
    expect(r.probes[PacketSpace.Initial]).toBe(1);
    host.handshakeKeys = true;
    r.onTimeout(r.deadline);
    expect(r.probes[PacketSpace.Handshake]).toBe(1);
  });

  it('keeps no timer while a server is at its amplification limit', () => {
    const { host, r, send } = setup();
    send(0, 0, PacketSpace.Initial);
    host.amplificationLimited = true;
    r.setTimer(1);
    expect(r.deadline).toBe(Infinity);
  });
});
