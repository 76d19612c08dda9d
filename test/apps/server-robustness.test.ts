/**
 * Server protocols driven with hand-made events: a `streamReadable` for a stream whose request
 * was already answered (what a retransmitted STREAM frame used to cause) must not be taken for
 * a new, empty request and reset the answer.
 */
import { describe, it, expect } from 'vitest';
import type { EndpointConnection } from '../../src/endpoint/endpoint-connection.js';
import type { ConnectionApp } from '../../src/apps/connection-app.js';
import { PerfServer } from '../../src/apps/perf.js';
import { HqInteropServer } from '../../src/apps/hq-interop.js';
import { H3ServerConnection } from '../../src/apps/h3-server.js';
import { encodeH3Frame } from '../../src/apps/h3-frames.js';
import { encodeFieldSection } from '../../src/apps/qpack.js';
import { H3FrameType } from '../../src/apps/h3-constants.js';

/** Just enough of an EndpointConnection: one pending read per stream, writes and resets recorded. */
class FakeConnection {
  readonly pending = new Map<number, { data: Uint8Array; fin: boolean } | undefined>();
  readonly written = new Map<number, number>();
  readonly finished = new Set<number>();
  readonly resets: number[] = [];
  private nextUni = 3;
  read(id: number): { data: Uint8Array; fin: boolean } | undefined {
    if (!this.pending.has(id)) return { data: new Uint8Array(0), fin: true }; // after the FIN: empty, fin
    const r = this.pending.get(id);
    this.pending.delete(id);
    return r;
  }
  write(id: number, data: Uint8Array, fin = false): void {
    this.written.set(id, (this.written.get(id) ?? 0) + data.length);
    if (fin) this.finished.add(id);
  }
  resetStream(id: number): void {
    this.resets.push(id);
  }
  stopSending(): void {}
  openStream(): number {
    const id = this.nextUni;
    this.nextUni += 4;
    return id;
  }
  close(): void {}
}

function drive(app: ConnectionApp, fake: FakeConnection, request: Uint8Array): void {
  app.onEvent({ type: 'streamOpened', streamId: 0 });
  fake.pending.set(0, { data: request, fin: true });
  app.onEvent({ type: 'streamReadable', streamId: 0 });
  // A late duplicate event for the same stream.
  app.onEvent({ type: 'streamReadable', streamId: 0 });
}

describe('server protocols ignore readable events for answered streams', () => {
  it('perf', () => {
    const fake = new FakeConnection();
    const req = new Uint8Array(8);
    new DataView(req.buffer).setBigUint64(0, 1000n);
    drive(new PerfServer(fake as unknown as EndpointConnection), fake, req);
    expect(fake.resets).toEqual([]);
    expect(fake.written.get(0)).toBe(1000);
    expect(fake.finished.has(0)).toBe(true);
  });

  it('hq-interop', () => {
    const fake = new FakeConnection();
    drive(new HqInteropServer(fake as unknown as EndpointConnection), fake, new TextEncoder().encode('GET /500\r\n'));
    expect(fake.resets).toEqual([]);
    expect(fake.written.get(0)).toBe(500);
  });

  it('h3', () => {
    const fake = new FakeConnection();
    const h3 = new H3ServerConnection(fake as unknown as EndpointConnection);
    h3.start();
    const headers = encodeH3Frame(H3FrameType.HEADERS, encodeFieldSection([[':method', 'GET'], [':scheme', 'https'], [':authority', 'x'], [':path', '/700']]));
    drive(h3, fake, headers);
    expect(fake.resets).toEqual([]);
    expect(h3.error).toBeUndefined();
    expect(fake.written.get(0)).toBeGreaterThan(700);
    expect(fake.finished.has(0)).toBe(true);
  });
});
