import { execFile } from 'node:child_process';
import type { GpuReading } from './types';

/** Arguments passed to `nvidia-smi` to read per-GPU utilisation and memory as bare CSV. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  '--query-gpu=index,utilization.gpu,memory.used,memory.total',
  '--format=csv,noheader,nounits',
];

function field(text: string | undefined, line: string): number | null {
  if (text === undefined) throw new Error(`nvidia-smi: too few fields in "${line}"`);
  const t = text.trim();
  // The driver prints "[N/A]" or "[Not Supported]" for values it cannot read: unknown, not zero.
  if (t.startsWith('[') || t === 'N/A') return null;
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) throw new Error(`nvidia-smi: "${t}" is not a number in "${line}"`);
  return n;
}

/**
 * Parses the output of `nvidia-smi` run with {@link NVIDIA_SMI_ARGS}: one line per GPU,
 * `index, utilization %, memory used MiB, memory total MiB`. Blank lines are ignored; `[N/A]` and
 * `[Not Supported]` fields become `null`.
 * @returns one reading per GPU, in output order (empty for empty output)
 * @throws Error when a line has too few fields or a field is neither a number nor a bracketed marker
 */
export function parseNvidiaSmiCsv(text: string): GpuReading[] {
  const out: GpuReading[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const cells = line.split(',');
    const index = field(cells[0], line);
    if (index === null) throw new Error(`nvidia-smi: missing GPU index in "${line}"`);
    out.push({
      index,
      utilizationPct: field(cells[1], line),
      memoryUsedMb: field(cells[2], line),
      memoryTotalMb: field(cells[3], line),
    });
  }
  return out;
}

/** Options for {@link queryNvidiaSmi}. */
export interface NvidiaSmiOptions {
  /** Executable to run. @default 'nvidia-smi' (looked up on PATH) */
  command?: string;
  /** Kill it after this many milliseconds. @default 2000 */
  timeoutMs?: number;
}

/**
 * Runs `nvidia-smi` and parses its output.
 * @returns the GPUs, or `null` when `nvidia-smi` is not installed (no GPU — never reported as zero) or
 *   lists no GPU
 * @throws Error when it exists but fails, times out, or prints something unparseable
 */
export function queryNvidiaSmi(options: NvidiaSmiOptions = {}): Promise<GpuReading[] | null> {
  const { command = 'nvidia-smi', timeoutMs = 2000 } = options;
  return new Promise((resolve, reject) => {
    execFile(command, [...NVIDIA_SMI_ARGS], { timeout: timeoutMs, windowsHide: true }, (err, stdout) => {
      if (err !== null) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') resolve(null);
        else reject(new Error(`nvidia-smi failed: ${err.message}`));
        return;
      }
      try {
        const gpus = parseNvidiaSmiCsv(stdout);
        resolve(gpus.length === 0 ? null : gpus);
      } catch (parseErr) {
        reject(parseErr instanceof Error ? parseErr : new Error(String(parseErr)));
      }
    });
  });
}
