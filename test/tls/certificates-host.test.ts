import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { createCertificate, type IssuedCertificate } from '../../src/tls/certificate-authority.js';
import { matchesServerName } from '../../src/tls/certificates.js';
import { parseIpAddress } from '../../src/tls/server-name.js';
import { toHex } from '../../src/util/bytes.js';

const NOW = Date.UTC(2025, 0, 15);

describe('matchesServerName', () => {
  let cert: IssuedCertificate;
  let cnOnly: IssuedCertificate;
  let cnAndSan: IssuedCertificate;

  beforeAll(async () => {
    cert = await createCertificate({
      now: NOW,
      commonName: 'example.com',
      hosts: [
        'example.com',
        '*.wild.example',
        '*.com',
        'f*.partial.example',
        'b*r.partial.example',
        'a.*.inner.example',
        'xn--bcher-kva.example',
        'Mixed.Case.Example',
        'trailing.example.',
        '*.0.0.1',
        '10.0.0.1',
        '2001:db8::1',
        '::ffff:192.0.2.1',
      ],
    });
    cnOnly = await createCertificate({ now: NOW, commonName: 'cn-only.example' });
    cnAndSan = await createCertificate({ now: NOW, commonName: 'cn.example', hosts: ['san.example'] });
  });

  const yes = (name: string) => expect(matchesServerName(cert.certificate, name), name).toBe(true);
  const no = (name: string) => expect(matchesServerName(cert.certificate, name), name).toBe(false);

  it('matches DNS names exactly, case-insensitively, ignoring one trailing dot', () => {
    yes('example.com');
    yes('EXAMPLE.com');
    yes('example.com.');
    yes('mixed.case.example');
    yes('trailing.example');
    yes('trailing.example.');
    no('www.example.com');
    no('xample.com');
    no('example.com..');
    no('');
    no('.');
  });

  it('lets a left-most "*" label match exactly one label', () => {
    yes('a.wild.example');
    yes('Some-Host.WILD.example');
    no('wild.example');
    no('a.b.wild.example');
    no('.wild.example');
    no('*.wild.example');
  });

  it('does not honour wildcards over two-label names, partial labels or inner labels', () => {
    no('anything.com');
    no('foo.partial.example');
    no('f.partial.example');
    no('bar.partial.example');
    no('x.r.partial.example');
    no('a.b.inner.example');
  });

  it('compares internationalised names in their A-label form', () => {
    yes('bücher.example');
    yes('xn--bcher-kva.example');
    no('bucher.example');
  });

  it('matches IP literals only against iPAddress entries, as bytes', () => {
    yes('10.0.0.1');
    yes('2001:db8::1');
    yes('2001:0DB8:0:0:0:0:0:1');
    yes('[2001:db8::1]');
    yes('2001:db8::1%eth0');
    yes('::ffff:192.0.2.1');
    yes('::ffff:c000:201');
    no('10.0.0.2');
    no('2001:db8::2');
    no('192.0.2.1'); // the v4-mapped v6 entry is a different address type
    no('127.0.0.1'); // "*.0.0.1" is a DNS pattern and never matches an IP
    no('010.0.0.1');
  });

  it('never falls back to the subject common name', () => {
    expect(matchesServerName(cnOnly.certificate, 'cn-only.example')).toBe(false);
    expect(matchesServerName(cnAndSan.certificate, 'cn.example')).toBe(false);
    expect(matchesServerName(cnAndSan.certificate, 'san.example')).toBe(true);
  });

  it('returns false for bytes that are not a certificate and throws TypeError for a non-string name', () => {
    expect(matchesServerName(new Uint8Array([0x30, 0x00]), 'example.com')).toBe(false);
    expect(() => matchesServerName(cert.certificate, 42 as unknown as string)).toThrow(TypeError);
  });
});

describe('parseIpAddress', () => {
  it('parses IPv4 dotted decimal strictly', () => {
    expect(toHex(parseIpAddress('192.0.2.255')!)).toBe('c00002ff');
    expect(toHex(parseIpAddress('0.0.0.0')!)).toBe('00000000');
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4 ', 'a.b.c.d', '[1.2.3.4]', '']) {
      expect(parseIpAddress(bad), bad).toBeUndefined();
    }
  });

  it('parses IPv6 with compression, an IPv4 tail, brackets and zones', () => {
    expect(toHex(parseIpAddress('::1')!)).toBe('00000000000000000000000000000001');
    expect(toHex(parseIpAddress('::')!)).toBe('0'.repeat(32));
    expect(toHex(parseIpAddress('fe80::1:2%en0')!)).toBe('fe800000000000000000000000010002');
    expect(toHex(parseIpAddress('[1:2:3:4:5:6:7:8]')!)).toBe('00010002000300040005000600070008');
    expect(toHex(parseIpAddress('64:ff9b::192.0.2.33')!)).toBe('0064ff9b0000000000000000c0000221');
    for (const bad of ['1::2::3', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', 'g::1', '::1.2.3.4:5', '1.2.3.4::', ':1:2:3:4:5:6:7']) {
      expect(parseIpAddress(bad), bad).toBeUndefined();
    }
  });

  it('reads every textual form of an address as the same bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const groups: string[] = [];
        for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
        const full = groups.join(':');
        const padded = groups.map((g) => g.padStart(4, '0').toUpperCase()).join(':');
        const canonical = new URL(`http://[${full}]/`).hostname.slice(1, -1); // RFC 5952 compressed form
        for (const form of [full, padded, canonical]) expect(toHex(parseIpAddress(form)!)).toBe(toHex(bytes));
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        expect(toHex(parseIpAddress(Array.from(bytes).join('.'))!)).toBe(toHex(bytes));
      }),
    );
  });

  it('accepts exactly what node:net accepts as IP literals (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ unit: fc.constantFrom(...'0123456789abcdef:.') })), (text) => {
        expect(parseIpAddress(text) !== undefined, text).toBe(isIP(text) !== 0);
      }),
      { numRuns: 500 },
    );
  });
});
