/**
 * `--qlog-dir`: one `.sqlog` file (JSON-SEQ) per connection, named after the original
 * destination connection ID and the vantage point, fed by the endpoint's trace hook.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import { nowMs } from '../endpoint/udp-endpoint.js';
import { QlogWriter } from '../transport/qlog.js';
import { toHex } from '../util/bytes.js';

const FLUSH_AT = 64 * 1024;

interface OpenTrace {
  writer: QlogWriter;
  fd: number;
  chunks: string[];
  size: number;
  path: string;
}

/** Writes the qlog of every traced connection into a directory. */
export class QlogDirectory {
  private readonly traces = new Map<EndpointConnection, OpenTrace>();
  private readonly finished = new WeakSet<EndpointConnection>();
  /** Files written (complete or still open). */
  readonly files: string[] = [];

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** The `EndpointOptions.trace` hook. */
  readonly trace = (ec: EndpointConnection | undefined, name: string, data: Record<string, unknown>): void => {
    if (ec === undefined || this.finished.has(ec)) return; // a trace from inside the connection's constructor, or after its end
    const now = nowMs();
    let t = this.traces.get(ec);
    if (t === undefined) t = this.open(ec, now);
    t.writer.event(name, data, now);
    if (name === 'connection_closed') this.close(ec);
    else if (t.size >= FLUSH_AT) this.flush(t);
  };

  /** Flushes and closes every open file. */
  closeAll(): void {
    for (const ec of [...this.traces.keys()]) this.close(ec);
  }

  private open(ec: EndpointConnection, now: number): OpenTrace {
    const role = ec.conn.role;
    const odcid = toHex(ec.conn.originalDcid);
    const path = join(this.dir, `${odcid}_${role}.sqlog`);
    const fd = openSync(path, 'w');
    const t: OpenTrace = { fd, chunks: [], size: 0, path, writer: undefined as unknown as QlogWriter };
    t.writer = new QlogWriter(
      (text) => {
        t.chunks.push(text);
        t.size += text.length;
      },
      { vantagePoint: role, odcid, referenceTime: now },
    );
    this.traces.set(ec, t);
    this.files.push(path);
    return t;
  }

  private flush(t: OpenTrace): void {
    if (t.chunks.length === 0) return;
    writeSync(t.fd, t.chunks.join(''));
    t.chunks.length = 0;
    t.size = 0;
  }

  private close(ec: EndpointConnection): void {
    const t = this.traces.get(ec);
    if (t === undefined) return;
    this.traces.delete(ec);
    this.finished.add(ec);
    this.flush(t);
    closeSync(t.fd);
  }
}
