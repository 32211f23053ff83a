import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseNvidiaSmiCsv, queryNvidiaSmi } from '../../../src/monitor/gpu';

describe('nvidia-smi CSV', () => {
  it('parses one line per GPU and maps [N/A] to null', () => {
    const text = readFileSync(path.join(__dirname, '../../fixtures/gpu/two-gpus.csv'), 'utf8');
    expect(parseNvidiaSmiCsv(text)).toEqual([
      { index: 0, utilizationPct: 37, memoryUsedMb: 1024, memoryTotalMb: 81559 },
      { index: 1, utilizationPct: null, memoryUsedMb: 0, memoryTotalMb: 81559 },
    ]);
  });

  it('treats [Not Supported] as unknown, not zero', () => {
    expect(parseNvidiaSmiCsv('0, [Not Supported], [Not Supported], 4096\r\n')).toEqual([
      { index: 0, utilizationPct: null, memoryUsedMb: null, memoryTotalMb: 4096 },
    ]);
  });

  it('returns no GPU for empty output', () => {
    expect(parseNvidiaSmiCsv('\n')).toEqual([]);
  });

  it.each([['0, 37'], ['0, abc, 1, 2'], ['[N/A], 1, 2, 3']])('rejects %p', (line) => {
    expect(() => parseNvidiaSmiCsv(line)).toThrow(/nvidia-smi/);
  });

  it('reports a missing nvidia-smi as no GPU (null), not as zero', async () => {
    await expect(queryNvidiaSmi({ command: 'qm-no-such-nvidia-smi' })).resolves.toBeNull();
  });

  it('reports a failing nvidia-smi as an error', async () => {
    await expect(queryNvidiaSmi({ command: 'false' })).rejects.toThrow(/nvidia-smi failed/);
  });
});
