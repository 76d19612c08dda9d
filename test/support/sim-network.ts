/**
 * A seeded, simulated network between two sans-IO QUIC endpoints with a simulated clock.
 * Datagrams can be lost, duplicated, corrupted, delayed with jitter (which reorders them),
 * held back as whole flights, limited by a bottleneck rate with a drop-tail queue, and
 * blackholed for a time window. Everything is deterministic for a given seed, and runs as
 * fast as the CPU allows (no real timers).
 */

/** The sans-IO surface the simulator drives (the transport's Connection satisfies it). */
export interface SimNode {
  receive(datagram: Uint8Array, from: SimAddress, now: number): void;
  /** Next datagram to send, or undefined when nothing is ready now. */
  pollTransmit(now: number): { data: Uint8Array; to?: SimAddress } | undefined;
  /** When `handleTimeout` must be called next (undefined/Infinity: no timer). */
  nextDeadline(): number | undefined;
  handleTimeout(now: number): void;
}

export interface SimAddress {
  address: string;
  port: number;
  family?: 'IPv4' | 'IPv6';
}

/** Per-direction impairments. Probabilities are 0..1. */
export interface LinkOptions {
  /** One-way delay in ms. */
  delay?: number;
  /** Uniform extra delay in [0, jitter) ms per datagram (reorders datagrams). */
  jitter?: number;
  loss?: number;
  duplicate?: number;
  /** Probability that one random byte of a datagram is flipped. */
  corrupt?: number;
  /** Probability that a datagram is held back by `reorderDelay` ms (moves it behind later ones). */
  reorder?: number;
  reorderDelay?: number;
  /** Bottleneck rate in bytes per ms (Infinity: none), with a drop-tail queue of `queueBytes`. */
  rate?: number;
  queueBytes?: number;
  /** Time windows [start, end) in which every datagram in this direction vanishes. */
  blackholes?: Array<[number, number]>;
  /** Drop these datagrams by index (0-based count of datagrams sent in this direction). */
  dropIndices?: number[];
  /** Largest UDP payload the path carries; bigger datagrams vanish (a path MTU black hole). */
  mtu?: number;
}

/** Mulberry32: a tiny seeded PRNG, good enough to drive impairments reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface InFlight {
  at: number;
  seq: number;
  to: 0 | 1;
  data: Uint8Array;
}

/** A binary min-heap on (at, seq). */
class EventHeap {
  private a: InFlight[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): InFlight | undefined {
    return this.a[0];
  }
  push(e: InFlight): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, e)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }
  pop(): InFlight | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && less(a[r]!, a[l]!) ? r : l;
        if (less(last, a[c]!)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
function less(x: InFlight, y: InFlight): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

export interface SimStats {
  sent: [number, number];
  delivered: [number, number];
  dropped: [number, number];
  bytesSent: [number, number];
}

/**
 * Two nodes (index 0 = client, 1 = server) joined by two independent links.
 * `run(until)` advances the clock, delivering datagrams and firing timers, until `until()` is
 * true or the time limit passes.
 */
export class SimNetwork {
  now = 0;
  readonly stats: SimStats = { sent: [0, 0], delivered: [0, 0], dropped: [0, 0], bytesSent: [0, 0] };
  private readonly heap = new EventHeap();
  private seq = 0;
  private readonly rnd: () => number;
  private readonly queueFreeAt = [0, 0];
  /** Called after every step (deliveries and timers), e.g. to let applications react to events. */
  afterStep: (() => void) | undefined;
  /** Datagram taps, e.g. for tests that inspect or rewrite what crosses the wire. */
  tap: ((from: 0 | 1, data: Uint8Array) => Uint8Array | undefined) | undefined;
  readonly addresses: [SimAddress, SimAddress] = [
    { address: '10.0.0.1', port: 50000, family: 'IPv4' },
    { address: '10.0.0.2', port: 443, family: 'IPv4' },
  ];

  constructor(
    readonly nodes: [SimNode, SimNode],
    readonly links: [LinkOptions, LinkOptions],
    seed = 1,
  ) {
    this.rnd = seededRandom(seed);
  }

  /** Sets the same options for both directions. */
  static symmetric(nodes: [SimNode, SimNode], link: LinkOptions, seed = 1): SimNetwork {
    return new SimNetwork(nodes, [{ ...link }, { ...link }], seed);
  }

  /** Runs until `until()` holds (checked after every step) or `maxTime` ms of simulated time pass. Returns whether `until` held. */
  run(until: () => boolean, maxTime = 600_000, maxSteps = 50_000_000): boolean {
    const deadline = this.now + maxTime;
    for (let step = 0; step < maxSteps; step++) {
      this.afterStep?.();
      this.flush(0);
      this.flush(1);
      if (until()) return true;
      const next = this.nextEventTime();
      if (next === Infinity || next > deadline) {
        this.now = Math.max(this.now, Math.min(next, deadline));
        return until();
      }
      this.now = Math.max(this.now, next);
      // Deliver every datagram due now, then fire due timers.
      for (let e = this.heap.peek(); e !== undefined && e.at <= this.now; e = this.heap.peek()) {
        this.heap.pop();
        this.stats.delivered[e.to]++;
        this.nodes[e.to].receive(e.data, this.addresses[e.to === 0 ? 1 : 0], this.now);
      }
      for (let i = 0; i < 2; i++) {
        const d = this.nodes[i]!.nextDeadline();
        if (d !== undefined && d <= this.now) this.nodes[i]!.handleTimeout(this.now);
      }
    }
    throw new Error('simulation did not settle within the step limit');
  }

  private nextEventTime(): number {
    let t = this.heap.peek()?.at ?? Infinity;
    for (const n of this.nodes) {
      const d = n.nextDeadline();
      if (d !== undefined && d < t) t = d;
    }
    return t;
  }

  /** Takes everything node `from` wants to send now and puts it on the link. */
  private flush(from: 0 | 1): void {
    const node = this.nodes[from];
    for (let i = 0; i < 100_000; i++) {
      const out = node.pollTransmit(this.now);
      if (out === undefined) return;
      this.send(from, out.data.slice());
    }
    throw new Error('pollTransmit never returned undefined');
  }

  private send(from: 0 | 1, data: Uint8Array): void {
    const link = this.links[from];
    const index = this.stats.sent[from]++;
    this.stats.bytesSent[from] += data.length;
    const to: 0 | 1 = from === 0 ? 1 : 0;
    if (this.tap) {
      const t = this.tap(from, data);
      if (t === undefined) return this.drop(from);
      data = t;
    }
    if (link.dropIndices?.includes(index)) return this.drop(from);
    if (link.mtu !== undefined && data.length > link.mtu) return this.drop(from);
    if (link.blackholes?.some(([s, e]) => this.now >= s && this.now < e)) return this.drop(from);
    if (link.loss && this.rnd() < link.loss) return this.drop(from);
    let at = this.now + (link.delay ?? 0);
    if (link.rate !== undefined && link.rate !== Infinity) {
      const start = Math.max(this.now, this.queueFreeAt[from]!);
      const queued = (start - this.now) * link.rate;
      if (queued > (link.queueBytes ?? 64 * 1024)) return this.drop(from);
      this.queueFreeAt[from] = start + data.length / link.rate;
      at = this.queueFreeAt[from]! + (link.delay ?? 0);
    }
    if (link.jitter) at += this.rnd() * link.jitter;
    if (link.reorder && this.rnd() < link.reorder) at += link.reorderDelay ?? 10;
    if (link.corrupt && this.rnd() < link.corrupt) {
      data = data.slice();
      const i = Math.floor(this.rnd() * data.length);
      data[i]! ^= 1 + Math.floor(this.rnd() * 255);
    }
    this.heap.push({ at, seq: this.seq++, to, data });
    if (link.duplicate && this.rnd() < link.duplicate) {
      this.heap.push({ at: at + this.rnd() * 5, seq: this.seq++, to, data: data.slice() });
    }
  }

  private drop(from: 0 | 1): void {
    this.stats.dropped[from]++;
  }
}
