/**
 * The receiving end of a download: counts bytes and, as asked, hashes them (SHA-256), checks
 * them against the generated-body pattern, and appends them to a file.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { BodyPatternChecker } from './body-pattern.js';

/** What to do with received bytes besides counting them. */
export interface BodySinkOptions {
  /** Compute the SHA-256 of the body. */
  sha256?: boolean;
  /** Check the body against purequic's generated pattern (`body-pattern.ts`). */
  verifyPattern?: boolean;
  /** Write the body to this file (created or truncated). */
  outFile?: string;
}

/** The outcome of a download. */
export interface BodySummary {
  bytes: number;
  /** Hex SHA-256, when asked for. */
  sha256: string | undefined;
  /** With `verifyPattern`: offset of the first wrong byte, or -1 when all matched. */
  patternMismatchAt: number | undefined;
}

/** Accumulates one body. */
export class BodySink {
  /** Bytes received so far. */
  bytes = 0;
  private readonly hash: Hash | undefined;
  private readonly checker: BodyPatternChecker | undefined;
  private fd: number | undefined;

  constructor(options: BodySinkOptions = {}) {
    this.hash = options.sha256 ? createHash('sha256') : undefined;
    this.checker = options.verifyPattern ? new BodyPatternChecker() : undefined;
    this.fd = options.outFile !== undefined ? openSync(options.outFile, 'w') : undefined;
  }

  /** Takes the next bytes of the body (a view that is only valid during the call). */
  write(data: Uint8Array): void {
    this.bytes += data.length;
    this.hash?.update(data);
    this.checker?.update(data);
    if (this.fd !== undefined) {
      let p = 0;
      while (p < data.length) p += writeSync(this.fd, data, p, data.length - p);
    }
  }

  /** Ends the body (closes the file) and reports. */
  finish(): BodySummary {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    return {
      bytes: this.bytes,
      sha256: this.hash?.digest('hex'),
      patternMismatchAt: this.checker === undefined ? undefined : this.checker.firstMismatch,
    };
  }
}
