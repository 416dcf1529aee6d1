/** Addresses as Go's net package and kube's IP validation read and print them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalIP, formatIP, parseIP, validateLegacyIP, validateNonSpecialIP } from './ip.ts';

test('IPv4: dotted decimal, leading zeros only when sloppy', () => {
  assert.deepEqual(parseIP('10.96.0.1'), { family: 'IPv4', value: 0x0a600001n });
  assert.deepEqual(parseIP('010.096.000.001'), { family: 'IPv4', value: 0x0a600001n });
  assert.equal(parseIP('010.096.000.001', true), undefined);
  for (const bad of ['10.96.0', '10.96.0.256', '10.96.0.-1', '10.96.0.1.', ' 10.96.0.1', '']) assert.equal(parseIP(bad), undefined, bad);
});

test('IPv6: "::", IPv4 tails, RFC 5952 text', () => {
  const cases: [string, string][] = [
    ['2001:db8::ffff', '2001:db8::ffff'],
    ['2001:0DB8:0:0:0:0:0:0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:1:1:1:1:1:0', '2001:db8:1:1:1:1:1:0'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['fd00:10:96::', 'fd00:10:96::'],
  ];
  for (const [text, canonical] of cases) assert.equal(canonicalIP(text), canonical, text);
  for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', ':1', '1:', 'fe80::1%eth0', '12345::', 'g::1']) assert.equal(parseIP(bad), undefined, bad);
  assert.equal(formatIP({ family: 'IPv4', value: 0xc0000201n }), '192.0.2.1');
});

test('kube\'s legacy IP validation, strict: its three messages; old values allowed', () => {
  assert.deepEqual(validateLegacyIP('f', '10.1.2.3'), []);
  assert.deepEqual(validateLegacyIP('f', 'x'), [{ type: 'FieldValueInvalid', field: 'f', value: 'x', detail: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' }]);
  assert.deepEqual(validateLegacyIP('f', '10.01.2.3'), [{ type: 'FieldValueInvalid', field: 'f', value: '10.01.2.3', detail: 'must not have leading 0s' }]);
  assert.deepEqual(validateLegacyIP('f', '::ffff:1.2.3.4'), [{ type: 'FieldValueInvalid', field: 'f', value: '::ffff:1.2.3.4', detail: 'must not be an IPv4-mapped IPv6 address' }]);
  assert.deepEqual(validateLegacyIP('f', '10.01.2.3', ['10.01.2.3']), []);
  // A non-canonical IPv6 address is allowed (kube only warns).
  assert.deepEqual(validateLegacyIP('f', '2001:DB8::1'), []);
});

test('special addresses are refused as external IPs', () => {
  const detail = (ip: string) => validateNonSpecialIP('f', ip)[0]?.detail;
  assert.equal(detail('0.0.0.0'), 'may not be unspecified (0.0.0.0)');
  assert.equal(detail('::'), 'may not be unspecified (::)');
  assert.equal(detail('127.1.2.3'), 'may not be in the loopback range (127.0.0.0/8, ::1/128)');
  assert.equal(detail('::1'), 'may not be in the loopback range (127.0.0.0/8, ::1/128)');
  assert.equal(detail('169.254.1.1'), 'may not be in the link-local range (169.254.0.0/16, fe80::/10)');
  assert.equal(detail('fe80::1'), 'may not be in the link-local range (169.254.0.0/16, fe80::/10)');
  assert.equal(detail('224.0.0.5'), 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  assert.equal(detail('ff02::1'), 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  assert.deepEqual(validateNonSpecialIP('f', '192.0.2.1'), []);
});
