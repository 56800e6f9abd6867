import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNodeId, nodeIdFromCertDer, nodeIdFromCertPem } from './node-id';

const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');

describe('nodeIdFromCertPem', () => {
  it.each([
    ['staker1.crt', 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg'],
    ['staker2.crt', 'NodeID-MFrZFVCXPv5iCn6M9K6XduxGTYp891xXZ'],
    ['staker3.crt', 'NodeID-NFBbbJ4qCmNaCzeW7sxErhvWqvEQMnYcN'],
  ])('should derive AvalancheGo local %s → %s', (file, nodeId) => {
    expect(nodeIdFromCertPem(fixture(file))).toBe(nodeId);
  });

  it('should agree with nodeIdFromCertDer', () => {
    const pem = fixture('staker2.crt');
    expect(nodeIdFromCertDer(new X509Certificate(pem).raw)).toBe(nodeIdFromCertPem(pem));
  });

  it('should throw on a non-certificate', () => {
    expect(() => nodeIdFromCertPem('not a cert')).toThrow();
  });
});

describe('isNodeId', () => {
  it('should accept a real NodeID and reject tampered ones', () => {
    expect(isNodeId('NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg')).toBe(true);
    expect(isNodeId('NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lh')).toBe(false);
    expect(isNodeId('7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg')).toBe(false);
  });
});
