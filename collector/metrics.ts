/**
 * Counters and gauges per stream (Kinesis) or delivery stream (Firehose), rendered as Prometheus
 * text under CloudWatch's metric names (`IncomingRecords`, `GetRecords.IteratorAgeMilliseconds`,
 * `DeliveryToS3.Records`, …) so dashboards port over.
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

type MetricHelp<Name extends string> = Record<Name, { type: 'counter' | 'gauge'; text: string }>;

const help: MetricHelp<StreamMetricName> = {
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

/** Metrics per resource: `<namespace>_<Name>{<label>="<resource>"}`. */
export class ResourceMetrics<Name extends string> {
  private readonly values = new Map<string, Map<Name, number>>();

  constructor(
    private readonly namespace: string,
    private readonly label: string,
    private readonly help: MetricHelp<Name>,
  ) {}

  add(stream: string, name: Name, amount: number): void {
    const perStream = this.forStream(stream);
    perStream.set(name, (perStream.get(name) ?? 0) + amount);
  }

  set(stream: string, name: Name, value: number): void {
    this.forStream(stream).set(name, value);
  }

  get(stream: string, name: Name): number {
    return this.values.get(stream)?.get(name) ?? 0;
  }

  forget(stream: string): void {
    this.values.delete(stream);
  }

  private forStream(stream: string): Map<Name, number> {
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
    for (const name of Object.keys(this.help) as Name[]) {
      const metric = `${this.namespace}_${name.replace('.', '_')}`;
      lines.push(`# HELP ${metric} ${this.help[name].text}`, `# TYPE ${metric} ${this.help[name].type}`);
      for (const [stream, perStream] of this.values) {
        const value = perStream.get(name);
        if (value !== undefined) lines.push(`${metric}{${this.label}="${stream}"} ${value}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}

export class StreamMetrics extends ResourceMetrics<StreamMetricName> {
  constructor() {
    super('kinesis', 'StreamName', help);
  }
}

/** Firehose's CloudWatch names (AWS/Firehose namespace); deliveries are named per destination type. */
export type DeliveryMetricName =
  | 'IncomingRecords'
  | 'IncomingBytes'
  | 'IncomingPutRequests'
  | 'ThrottledRecords'
  | `DeliveryTo${DeliveryMetricDestination}.${'Records' | 'Bytes' | 'Success' | 'DataFreshness'}`;

export type DeliveryMetricDestination = 'S3' | 'HttpEndpoint' | 'Redshift' | 'AmazonOpenSearchService' | 'Elasticsearch' | 'Splunk';

const deliveryDestinations: DeliveryMetricDestination[] = ['S3', 'HttpEndpoint', 'Redshift', 'AmazonOpenSearchService', 'Elasticsearch', 'Splunk'];

const deliveryHelp = {
  IncomingRecords: { type: 'counter', text: 'Records accepted into the delivery stream' },
  IncomingBytes: { type: 'counter', text: 'Bytes accepted into the delivery stream' },
  IncomingPutRequests: { type: 'counter', text: 'Successful PutRecord/PutRecordBatch calls' },
  ThrottledRecords: { type: 'counter', text: 'Records refused because the delivery backlog was full' },
  ...Object.fromEntries(
    deliveryDestinations.flatMap((destination) => [
      [`DeliveryTo${destination}.Records`, { type: 'counter', text: `Records delivered to ${destination}` }],
      [`DeliveryTo${destination}.Bytes`, { type: 'counter', text: `Bytes delivered to ${destination}` }],
      [`DeliveryTo${destination}.Success`, { type: 'counter', text: `Batches delivered to ${destination}` }],
      [`DeliveryTo${destination}.DataFreshness`, { type: 'gauge', text: `Age in seconds of the oldest record of the last batch delivered to ${destination}` }],
    ]),
  ),
} as MetricHelp<DeliveryMetricName>;

export class DeliveryMetrics extends ResourceMetrics<DeliveryMetricName> {
  constructor() {
    super('firehose', 'DeliveryStreamName', deliveryHelp);
  }
}
