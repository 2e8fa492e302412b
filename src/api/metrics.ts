// Counts webhook responses by status and reason, served in the Prometheus text format at GET /metrics.
// The labels are fixed strings from the code, never request data, so the number of series stays small.

export class WebhookMetrics {
  private readonly counts = new Map<string, number>();

  record(status: number, outcome: string, reason = ''): void {
    const key = JSON.stringify([status, outcome, reason]);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  count(status: number, outcome: string, reason = ''): number {
    return this.counts.get(JSON.stringify([status, outcome, reason])) ?? 0;
  }

  render(): string {
    const lines = [
      '# HELP per_user_db_webhook_responses_total Webhook deliveries answered, by status, outcome and reason.',
      '# TYPE per_user_db_webhook_responses_total counter',
    ];
    for (const [key, value] of [...this.counts].sort()) {
      const [status, outcome, reason] = JSON.parse(key) as [number, string, string];
      const labels = `status="${status}",outcome="${outcome}",reason="${reason.replace(/["\\\n]/g, '_')}"`;
      lines.push(`per_user_db_webhook_responses_total{${labels}} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
