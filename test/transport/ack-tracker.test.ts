import { describe, it, expect } from 'vitest';
import { AckTracker } from '../../src/transport/ack-tracker.js';

describe('AckTracker', () => {
  it('acknowledges every second ack-eliciting 1-RTT packet, else after max_ack_delay', () => {
    const t = new AckTracker(false);
    t.onPacketReceived(0, true, 100, 25);
    expect(t.ackDeadline).toBe(125);
    t.onPacketReceived(1, true, 110, 25);
    expect(t.ackDeadline).toBe(110);
    t.onAckSent();
    expect(t.ackDeadline).toBe(Infinity);
    t.onPacketReceived(2, false, 120, 25); // ACK-only packets do not elicit
    expect(t.ackDeadline).toBe(Infinity);
    expect(t.ackPending).toBe(true);
  });

  it('acknowledges at once in Initial/Handshake spaces and on reordering', () => {
    const h = new AckTracker(true);
    h.onPacketReceived(0, true, 5, 25);
    expect(h.ackDeadline).toBe(5);
    const t = new AckTracker(false);
    t.onPacketReceived(0, true, 0, 25);
    t.onAckSent();
    t.onPacketReceived(2, true, 10, 25); // gap at 1
    expect(t.ackDeadline).toBe(10);
    t.onAckSent();
    t.onPacketReceived(1, true, 20, 25); // fills the gap
    expect(t.ackDeadline).toBe(20);
  });

  it('detects duplicates and bounds memory', () => {
    const t = new AckTracker(false, 4);
    for (let pn = 0; pn < 20; pn += 2) t.onPacketReceived(pn, true, 0, 25);
    expect(t.received.rangeCount).toBe(4);
    expect(t.isDuplicate(18)).toBe(true);
    expect(t.isDuplicate(19)).toBe(false);
    expect(t.isDuplicate(1)).toBe(true); // below the oldest kept range: cannot be told apart
  });

  it('prunes what the peer has seen acknowledged', () => {
    const t = new AckTracker(false);
    for (const pn of [0, 1, 2, 5, 6, 9]) t.onPacketReceived(pn, true, 0, 25);
    t.onAckAcknowledged(6);
    expect(t.received.toArray()).toEqual([[5, 7], [9, 10]]);
    expect(t.isDuplicate(3)).toBe(true);
    expect(t.ackDelay(7)).toBe(7);
  });
});
