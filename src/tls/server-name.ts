/**
 * Matching a server name against a certificate's subjectAltName (RFC 9110 §4.3.4, RFC 6125
 * §6.4 as tightened by RFC 9525): DNS names compared case-insensitively, a wildcard only as
 * the whole left-most label and matching exactly one label, IP literals only against iPAddress
 * entries (compared as bytes, so `::1` equals `0:0:0:0:0:0:0:1`). The subject common name is
 * never consulted.
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs the Reflect metadata API
import { domainToASCII } from 'node:url';
import { SubjectAlternativeNameExtension, X509Certificate } from '@peculiar/x509';
import { equalBytes } from '../util/bytes.js';

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string, out: Uint8Array, offset: number): boolean {
  const m = IPV4.exec(text);
  if (!m) return false;
  for (let i = 0; i < 4; i++) {
    const v = Number(m[i + 1]);
    if (v > 255) return false;
    out[offset + i] = v;
  }
  return true;
}

/** Reads colon-separated hex groups (the last may be dotted IPv4) into 16-bit words. */
function ipv6Groups(text: string, allowIpv4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (allowIpv4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = new Uint8Array(4);
      if (!parseIpv4(part, v4, 0)) return undefined;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!HEX_GROUP.test(part)) return undefined;
      words.push(Number.parseInt(part, 16));
    }
  }
  return words;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const head = ipv6Groups(halves[0]!, false);
    const tail = ipv6Groups(halves[1]!, true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = ipv6Groups(text, true);
    if (!all || all.length !== 8) return undefined;
    words = all;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/**
 * The bytes of an IP literal: 4 for IPv4 dotted decimal (no leading zeros), 16 for IPv6 (with
 * `::` compression and an optional dotted IPv4 tail; brackets and a `%zone` suffix are
 * accepted and ignored). Undefined when `text` is not an IP literal.
 */
export function parseIpAddress(text: string): Uint8Array | undefined {
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (!s.includes(':')) {
    const out = new Uint8Array(4);
    return s === text && parseIpv4(s, out, 0) ? out : undefined;
  }
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  return parseIpv6(s);
}

/** Lower-case ASCII form of a host name without its trailing dot, or undefined when it is not a usable name. */
function normaliseHostName(name: string): string | undefined {
  let host = name.endsWith('.') ? name.slice(0, -1) : name;
  if (/[^\x00-\x7f]/.test(host)) {
    host = domainToASCII(host);
    if (host === '') return undefined;
  }
  host = host.toLowerCase();
  if (host === '' || host.includes('*')) return undefined;
  const labels = host.split('.');
  if (labels.some((label) => label === '')) return undefined;
  // A numeric last label means an IP-like literal that is not a strict IP (e.g. "010.0.0.1",
  // which URL parsers read as octal): neither a host name nor an address we can compare.
  if (/^(\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]!)) return undefined;
  return host;
}

/** True when the dNSName `pattern` from a certificate covers the normalised `host`. */
function dnsNameMatches(pattern: string, host: string): boolean {
  let p = pattern.toLowerCase();
  if (p.endsWith('.')) p = p.slice(0, -1);
  if (p === '' || p.split('.').some((label) => label === '')) return false;
  if (!p.includes('*')) return p === host;
  // Only "*.<at least two labels>"; no partial-label or inner wildcards.
  if (!p.startsWith('*.')) return false;
  const rest = p.slice(2);
  if (rest.includes('*') || !rest.includes('.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === rest;
}

/**
 * subjectAltName dNSName and iPAddress entries of a DER certificate, read with @peculiar/x509
 * (iPAddress entries come back as text and are turned into bytes again for comparison).
 */
function subjectAltNames(certDer: Uint8Array): { dns: string[]; ip: Uint8Array[] } {
  const dns: string[] = [];
  const ip: Uint8Array[] = [];
  let ext: SubjectAlternativeNameExtension | null;
  try {
    ext = new X509Certificate(certDer).getExtension(SubjectAlternativeNameExtension);
  } catch {
    return { dns, ip };
  }
  for (const gn of ext?.names.items ?? []) {
    if (gn.type === 'dns') dns.push(gn.value);
    else if (gn.type === 'ip') {
      const bytes = parseIpAddress(gn.value);
      if (bytes) ip.push(bytes);
    }
  }
  return { dns, ip };
}

/** Whether the DER certificate's subjectAltName covers `name` (see `matchesServerName`). */
export function matchesServerNameIn(certDer: Uint8Array, name: string): boolean {
  const address = parseIpAddress(name);
  const san = subjectAltNames(certDer);
  if (address) return san.ip.some((entry) => equalBytes(entry, address));
  const host = normaliseHostName(name);
  return host !== undefined && san.dns.some((pattern) => dnsNameMatches(pattern, host));
}
