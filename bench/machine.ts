/** The machine a Node run happens on. */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import type { Machine } from './report.js';

export function nodeMachine(): Machine {
  let cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    // Not Linux: os.cpus() is all there is.
  }
  return {
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    runtime: `Node ${process.version} (V8 ${process.versions.v8})`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}
