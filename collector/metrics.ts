/**
 * Counters and gauges per stream, rendered as Prometheus text under CloudWatch's metric names
 * (`IncomingRecords`, `GetRecords.IteratorAgeMilliseconds`, …) so dashboards port over.
 */

export type StreamMetricName =
  | 'IncomingBytes'
  | 'IncomingRecords'
  | 'PutRecord.Success'
  | 'PutRecords.Success'
  | 'PutRecords.Latency'
  | 'PutRecords.FailedRecords'
  | 'GetRecords.Success'
  | 'GetRecords.Bytes'
  | 'GetRecords.Records'
  | 'GetRecords.IteratorAgeMilliseconds'
  | 'SubscribeToShardEvent.Records'
  | 'SubscribeToShardEvent.Bytes'
  | 'WriteProvisionedThroughputExceeded'
  | 'ReadProvisionedThroughputExceeded';

const help: Record<StreamMetricName, { type: 'counter' | 'gauge'; text: string }> = {
  IncomingBytes: { type: 'counter', text: 'Bytes successfully put to the stream' },
  IncomingRecords: { type: 'counter', text: 'Records successfully put to the stream' },
  'PutRecord.Success': { type: 'counter', text: 'Successful PutRecord calls' },
  'PutRecords.Success': { type: 'counter', text: 'PutRecords calls with at least one record stored' },
  'PutRecords.Latency': { type: 'counter', text: 'Sum of PutRecord/PutRecords latency in milliseconds' },
  'PutRecords.FailedRecords': { type: 'counter', text: 'Records refused within PutRecords calls' },
  'GetRecords.Success': { type: 'counter', text: 'Successful GetRecords calls' },
  'GetRecords.Bytes': { type: 'counter', text: 'Bytes returned by GetRecords' },
  'GetRecords.Records': { type: 'counter', text: 'Records returned by GetRecords' },
  'GetRecords.IteratorAgeMilliseconds': { type: 'gauge', text: 'Age of the last record returned by GetRecords' },
  'SubscribeToShardEvent.Records': { type: 'counter', text: 'Records pushed to enhanced fan-out consumers' },
  'SubscribeToShardEvent.Bytes': { type: 'counter', text: 'Bytes pushed to enhanced fan-out consumers' },
  WriteProvisionedThroughputExceeded: { type: 'counter', text: 'Records refused for shard write limits' },
  ReadProvisionedThroughputExceeded: { type: 'counter', text: 'GetRecords calls refused for shard read limits' },
};

export class StreamMetrics {
  private readonly values = new Map<string, Map<StreamMetricName, number>>();

  add(stream: string, name: StreamMetricName, amount: number): void {
    const perStream = this.forStream(stream);
    perStream.set(name, (perStream.get(name) ?? 0) + amount);
  }

  set(stream: string, name: StreamMetricName, value: number): void {
    this.forStream(stream).set(name, value);
  }

  get(stream: string, name: StreamMetricName): number {
    return this.values.get(stream)?.get(name) ?? 0;
  }

  forget(stream: string): void {
    this.values.delete(stream);
  }

  private forStream(stream: string): Map<StreamMetricName, number> {
    let perStream = this.values.get(stream);
    if (!perStream) {
      perStream = new Map();
      this.values.set(stream, perStream);
    }
    return perStream;
  }

  /** Prometheus text exposition format 0.0.4; `.` is not allowed in names, so it becomes `_`. */
  render(): string {
    const lines: string[] = [];
    for (const name of Object.keys(help) as StreamMetricName[]) {
      const metric = `kinesis_${name.replace('.', '_')}`;
      lines.push(`# HELP ${metric} ${help[name].text}`, `# TYPE ${metric} ${help[name].type}`);
      for (const [stream, perStream] of this.values) {
        const value = perStream.get(name);
        if (value !== undefined) lines.push(`${metric}{StreamName="${stream}"} ${value}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}
