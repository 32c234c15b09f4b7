/** Waits until a service process answers GET /healthz; fails early if the process exits. */
import type { ChildProcess } from 'node:child_process';

export async function waitForHealth(url: string, proc: ChildProcess, opts: { timeoutMs: number; label: string; output: () => string }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${opts.label} exited with ${proc.exitCode}:\n${opts.output()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${opts.label} did not answer /healthz in time:\n${opts.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
