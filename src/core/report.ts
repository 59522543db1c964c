// Delivery summaries for `replay` (and the library): counts, failures by reason, latency percentiles. Pure.

export interface Summary {
  kind: 'summary';
  sent: number;
  ok: number;
  failed: number;
  /** Failed deliveries by reason: the HTTP status (`"503"`) or the network code (`"ECONNREFUSED"`, `"TIMEOUT"`). */
  failures: Record<string, number>;
  /** Lines or captures not sent (no JSON event in them, or bad lines skipped with --skip-bad). */
  skipped: number;
  p50_ms: number | null;
  p95_ms: number | null;
  duration_ms: number;
}

/** The p-th percentile (0–100) of `values` by nearest rank; null when empty. Sorts `values` in place. */
export function percentile(values: Float64Array | number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = values instanceof Float64Array ? values.sort() : values.sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** Accumulates results into a Summary; latencies are kept in a growable Float64Array (8 bytes each). */
export class SummaryBuilder {
  private sent = 0;
  private ok = 0;
  private failures: Record<string, number> = {};
  private latencies = new Float64Array(1024);
  skipped = 0;

  /** Deliveries so far and how many failed (cheap, for progress). */
  counts(): { sent: number; failed: number } {
    return { sent: this.sent, failed: this.sent - this.ok };
  }

  add(result: { ok: boolean; reason: string | null; latencyMs: number }): void {
    if (this.sent === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.sent++] = result.latencyMs;
    if (result.ok) this.ok++;
    else {
      const reason = result.reason ?? 'ERROR';
      this.failures[reason] = (this.failures[reason] ?? 0) + 1;
    }
  }

  summary(durationMs: number): Summary {
    const lat = this.latencies.subarray(0, this.sent);
    const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);
    return {
      kind: 'summary',
      sent: this.sent,
      ok: this.ok,
      failed: this.sent - this.ok,
      failures: { ...this.failures },
      skipped: this.skipped,
      p50_ms: round(percentile(lat, 50)),
      p95_ms: round(percentile(lat, 95)),
      duration_ms: Math.round(durationMs),
    };
  }
}

/** A summary in words: `12 sent, 11 2xx, 1 failed (503 ×1), 0 skipped · p50 3.1 ms · p95 9.8 ms · 0.4 s`. */
export function summaryLine(s: Summary): string {
  const reasons = Object.entries(s.failures)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([r, n]) => `${r} ×${n}`)
    .join(', ');
  const lat = s.p50_ms === null ? '' : ` · p50 ${s.p50_ms} ms · p95 ${s.p95_ms} ms`;
  return `${s.sent} sent, ${s.ok} 2xx, ${s.failed} failed${reasons ? ` (${reasons})` : ''}${s.skipped ? `, ${s.skipped} skipped` : ''}${lat} · ${(s.duration_ms / 1000).toFixed(1)} s`;
}
