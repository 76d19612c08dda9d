/** Where the command writes: injectable so tests can run commands in-process. */

/** A text sink with an optional TTY flag (progress lines are rewritten in place on a TTY). */
export interface TextOut {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** The command's standard output and error. */
export interface CliIo {
  readonly stdout: TextOut;
  readonly stderr: TextOut;
}

/** The process's own streams. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr };
}

/** `bytes` as MB (10^6 bytes) with two decimals. */
export function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(2);
}

/** The final line of a transfer, e.g. `received 104857600 bytes in 1.234 s: 84.97 MB/s`. */
export function transferLine(verb: string, bytes: number, seconds: number): string {
  const s = Math.max(seconds, 1e-6);
  return `${verb} ${bytes} bytes in ${seconds.toFixed(3)} s: ${(bytes / s / 1e6).toFixed(2)} MB/s`;
}
