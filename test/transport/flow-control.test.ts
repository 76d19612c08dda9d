import { describe, it, expect } from 'vitest';
import { ReceiveCredit, SendCredit } from '../../src/transport/flow-control.js';
import { QuicError, TransportError } from '../../src/transport/errors.js';

describe('ReceiveCredit', () => {
  it('rejects data beyond the advertised limit with FLOW_CONTROL_ERROR', () => {
    const c = new ReceiveCredit(1000, 1 << 20);
    c.onReceived(1000);
    try {
      c.onReceived(1, 0x08);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(QuicError);
      expect((e as QuicError).code).toBe(TransportError.FLOW_CONTROL_ERROR);
      expect((e as QuicError).frameType).toBe(0x08);
    }
  });

  it('advertises more once a quarter of the window is consumed', () => {
    const c = new ReceiveCredit(1000, 1000);
    c.onReceived(200);
    c.onConsumed(200);
    expect(c.nextLimit(0, 100)).toBe(-1);
    c.onReceived(100);
    c.onConsumed(100);
    expect(c.nextLimit(10, 100)).toBe(1300);
    expect(c.nextLimit(10, 100)).toBe(-1);
  });

  it('doubles the window when a window is consumed within two round trips, up to the maximum', () => {
    const c = new ReceiveCredit(1000, 4000);
    let now = 0;
    const rtt = 50;
    const windows: number[] = [];
    for (let i = 0; i < 8; i++) {
      const chunk = c.limit - c.consumed;
      c.onReceived(chunk);
      c.onConsumed(chunk);
      now += 10; // fast consumer: much less than 2*rtt between updates
      c.nextLimit(now, rtt);
      windows.push(c.window);
    }
    expect(windows[0]).toBe(1000);
    expect(windows).toContain(2000);
    expect(windows[windows.length - 1]).toBe(4000);
  });

  it('keeps the window when the application is slow', () => {
    const c = new ReceiveCredit(1000, 1 << 20);
    let now = 0;
    for (let i = 0; i < 5; i++) {
      const chunk = c.limit - c.consumed;
      c.onReceived(chunk);
      c.onConsumed(chunk);
      now += 1000;
      c.nextLimit(now, 50);
    }
    expect(c.window).toBe(1000);
  });
});

describe('SendCredit', () => {
  it('tracks availability and reports blocking once per limit', () => {
    const s = new SendCredit(100);
    s.used = 60;
    expect(s.available).toBe(40);
    expect(s.blockedUnreported).toBe(false);
    s.used = 100;
    expect(s.blockedUnreported).toBe(true);
    s.markBlockedReported();
    expect(s.blockedUnreported).toBe(false);
    s.onBlockedLost(100);
    expect(s.blockedUnreported).toBe(true);
    expect(s.raise(50)).toBe(false);
    expect(s.raise(200)).toBe(true);
    expect(s.available).toBe(100);
    expect(s.blockedUnreported).toBe(false);
  });
});
