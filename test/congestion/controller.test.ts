import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CubicController } from '../../src/congestion/cubic.js';
import { NewRenoController } from '../../src/congestion/new-reno.js';
import type { CongestionController } from '../../src/congestion/controller.js';
import { fixedRtt } from './drive.js';

type Op =
  | { kind: 'send'; packets: number; size: number; inFlight: boolean }
  | { kind: 'ack'; packets: number; appLimited: boolean; rtt: number }
  | { kind: 'lose'; packets: number; persistent: boolean }
  | { kind: 'ecn' }
  | { kind: 'discard'; packets: number }
  | { kind: 'undo' }
  | { kind: 'mtu'; size: number }
  | { kind: 'wait'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('send' as const),
    packets: fc.integer({ min: 1, max: 40 }),
    size: fc.integer({ min: 20, max: 1500 }),
    inFlight: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('ack' as const),
    packets: fc.integer({ min: 1, max: 40 }),
    appLimited: fc.boolean(),
    rtt: fc.double({ min: 0.5, max: 500, noNaN: true }),
  }),
  fc.record({ kind: fc.constant('lose' as const), packets: fc.integer({ min: 1, max: 10 }), persistent: fc.boolean() }),
  fc.record({ kind: fc.constant('ecn' as const) }),
  fc.record({ kind: fc.constant('discard' as const), packets: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('undo' as const) }),
  fc.record({ kind: fc.constant('mtu' as const), size: fc.integer({ min: 1200, max: 9000 }) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.double({ min: 0, max: 1000, noNaN: true }) }),
);

/** Applies `ops` against a model of the packets in flight, checking invariants after each. */
function run(cc: CongestionController, ops: Op[]): void {
  const sentTime: number[] = [];
  const sentSize: number[] = [];
  let head = 0;
  let now = 0;
  const take = (n: number): { bytes: number; largest: number } => {
    let bytes = 0;
    let largest = -Infinity;
    for (let i = 0; i < n && head < sentTime.length; i++, head++) {
      bytes += sentSize[head] as number;
      largest = sentTime[head] as number;
    }
    return { bytes, largest };
  };
  for (const o of ops) {
    now += 0.5;
    switch (o.kind) {
      case 'send':
        for (let i = 0; i < o.packets; i++) {
          cc.onPacketSent(now, o.size, o.inFlight);
          if (o.inFlight) {
            sentTime.push(now);
            sentSize.push(o.size);
          }
        }
        break;
      case 'ack': {
        const { bytes, largest } = take(o.packets);
        if (bytes > 0) cc.onAck(now, bytes, largest, fixedRtt(o.rtt), o.appLimited);
        break;
      }
      case 'lose': {
        const { bytes, largest } = take(o.packets);
        if (bytes > 0) cc.onPacketsLost(now, bytes, largest, o.persistent);
        break;
      }
      case 'ecn':
        cc.onCongestionEvent(now, now - 1);
        break;
      case 'discard':
        cc.onPacketsDiscarded(take(o.packets).bytes);
        break;
      case 'undo':
        cc.onSpuriousCongestionEvent();
        break;
      case 'mtu':
        cc.setMaxDatagramSize(o.size);
        break;
      case 'wait':
        now += o.ms;
        break;
    }
    let outstanding = 0;
    for (let i = head; i < sentSize.length; i++) outstanding += sentSize[i] as number;
    expect(cc.bytesInFlight).toBe(outstanding);
    expect(Number.isInteger(cc.congestionWindow)).toBe(true);
    expect(cc.congestionWindow).toBeGreaterThanOrEqual(cc.minimumWindow);
    expect(cc.sendAllowance).toBe(Math.max(0, cc.congestionWindow - outstanding));
    expect(cc.inSlowStart).toBe(cc.congestionWindow < cc.slowStartThreshold);
    expect(cc.canSend(0)).toBe(outstanding <= cc.congestionWindow);
  }
}

const makers: Array<[string, () => CongestionController]> = [
  ['newreno', () => new NewRenoController()],
  ['cubic', () => new CubicController()],
  ['cubic+hystart', () => new CubicController({ hyStart: true })],
];

describe.each(makers)('%s invariants', (_name, make) => {
  it('keeps bytes in flight exact and the window sane under any sequence of events', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => run(make(), ops)),
      { numRuns: 200 },
    );
  });

  it('never grows the window on app-limited ACKs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.double({ min: 1, max: 300, noNaN: true })), {
          minLength: 1,
          maxLength: 50,
        }),
        (rounds) => {
          const cc = make();
          const start = cc.congestionWindow;
          let now = 0;
          for (const [packets, rtt] of rounds) {
            for (let i = 0; i < packets; i++) cc.onPacketSent(now, 1200, true);
            now += rtt;
            cc.onAck(now, packets * 1200, now - rtt, fixedRtt(rtt), true);
          }
          expect(cc.congestionWindow).toBe(start);
        },
      ),
      { numRuns: 100 },
    );
  });
});
