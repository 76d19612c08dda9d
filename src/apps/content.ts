/**
 * What a purequic server answers to a request path: `/<digits>` is a generated body of that many
 * bytes; any other path is a file under the server's document root (`--www`), if it exists
 * there. Also writes a body onto a stream, as views (no copies) for generated bodies.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { EndpointConnection } from '../endpoint/endpoint-connection.js';
import { BODY_PATTERN_MAX_VIEW, bodyPatternView } from './body-pattern.js';

/** A response body: generated (`pattern`) or the bytes of a file. */
export type ResponseBody = { readonly kind: 'pattern'; readonly size: number } | { readonly kind: 'bytes'; readonly data: Uint8Array };

/** Where bodies come from. */
export interface ContentOptions {
  /** Document root for paths that are not `/<digits>`; without it only generated bodies exist. */
  www?: string;
}

/** The size of a body. */
export function bodySize(body: ResponseBody): number {
  return body.kind === 'pattern' ? body.size : body.data.length;
}

/**
 * Resolves a request path (query ignored, percent-decoded) to a body, or undefined when there is
 * none (no such file, a directory, or a path escaping the document root).
 */
export function resolveRequestPath(path: string, options: ContentOptions = {}): ResponseBody | undefined {
  let p = path.split('?')[0]!.split('#')[0]!;
  try {
    p = decodeURIComponent(p);
  } catch {
    return undefined;
  }
  if (!p.startsWith('/')) return undefined;
  const rel = p.slice(1);
  if (/^\d{1,15}$/.test(rel)) return { kind: 'pattern', size: Number(rel) };
  if (options.www === undefined || rel.length === 0 || rel.includes('\0')) return undefined;
  try {
    const root = realpathSync(options.www);
    const file = realpathSync(resolve(root, rel));
    if (!file.startsWith(root + sep)) return undefined;
    if (!statSync(file).isFile()) return undefined;
    return { kind: 'bytes', data: readFileSync(file) };
  } catch {
    return undefined;
  }
}

/** Writes `prefix` (if any), then `body`, then the FIN on a stream. */
export function writeBody(ec: EndpointConnection, streamId: number, body: ResponseBody | undefined, prefix?: Uint8Array): void {
  if (prefix !== undefined && prefix.length > 0) ec.write(streamId, prefix, false);
  if (body === undefined) {
    ec.write(streamId, new Uint8Array(0), true);
    return;
  }
  if (body.kind === 'bytes') {
    ec.write(streamId, body.data, true);
    return;
  }
  const size = body.size;
  if (size === 0) {
    ec.write(streamId, new Uint8Array(0), true);
    return;
  }
  for (let off = 0; off < size; off += BODY_PATTERN_MAX_VIEW) {
    const n = Math.min(BODY_PATTERN_MAX_VIEW, size - off);
    ec.write(streamId, bodyPatternView(off, n), off + n === size);
  }
}
