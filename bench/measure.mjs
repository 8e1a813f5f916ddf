// The measurement the JavaScript comparison runners share (bench/noble/frost.mjs, bench/dkls-wasm/dkls.mjs), the same
// method as Rotor's `-- ecdsa` runner: one or two warm-up runs (a second unless the first took over a second), then
// as many runs as fit in about a second (at least 3, or 1 when a run takes over 5 s); the median, the number of runs
// and the mean processor time of a run (the steadier figure on a loaded machine).
export function measure(f) {
  const w0 = performance.now();
  f(); // warm-up (JIT, lazy precomputation); a second one unless the first took over a second
  if (performance.now() - w0 < 1000) f();
  const times = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  do {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  } while ((times.length < 3 && times[0] < 5000) || (performance.now() - start < 1000 && times.length < 1000));
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1], runs: times.length, cpu: (cpu.user + cpu.system) / 1000 / times.length };
}

export const fmt = (ms) => (ms >= 1000 ? (ms / 1000).toFixed(2) + ' s' : ms.toFixed(ms < 10 ? 2 : 1) + ' ms');
