import { describe, expect, it } from 'vitest';
import { parseSerial, splitSerial } from '../../../src/domain/serial-batches.ts';

describe('serial batches', () => {
  it('splits hosts as Ansible’s serial does: shares of the total, the last step repeating', () => {
    expect(splitSerial(200, ['5%', '25%', '100%'])).toEqual([10, 50, 140]);
    expect(splitSerial(6, [3])).toEqual([3, 3]);
    expect(splitSerial(7, [1, 3])).toEqual([1, 3, 3]);
    expect(splitSerial(4, ['50%'])).toEqual([2, 2]);
  });

  it('gives a share at least one host', () => {
    expect(splitSerial(10, ['5%', '100%'])).toEqual([1, 9]);
  });

  it('reads the CLI form and names a bad step', () => {
    expect(parseSerial('5%,25%, 100%')).toEqual(['5%', '25%', '100%']);
    expect(parseSerial('1,3')).toEqual([1, 3]);
    expect(() => parseSerial('5%,quarter')).toThrow(
      'expected counts or percentages separated by commas (e.g. 5%,25%,100%), got "quarter"',
    );
    expect(() => parseSerial('0')).toThrow('got "0"');
  });
});
