/**
 * Counters and gauges of the MQTT broker and its topic rules, rendered as Prometheus text after
 * the stream metrics on GET /metrics.
 */

export type MqttCounterName =
  | 'mqtt_connections_refused_total'
  | 'mqtt_publish_denied_total'
  | 'mqtt_subscribe_denied_total'
  | 'mqtt_messages_received_total'
  | 'mqtt_offline_messages_dropped_total'
  | 'mqtt_sessions_expired_total'
  | 'mqtt_expired_session_messages_dropped_total'
  | 'mqtt_rule_matches_total'
  | 'mqtt_rule_action_retries_total'
  | 'mqtt_rule_errors_total'
  | 'mqtt_rule_error_action_failures_total';

export type MqttGaugeName = 'mqtt_clients_connected' | 'mqtt_rule_messages_pending';

const help: Record<MqttCounterName | MqttGaugeName, string> = {
  mqtt_connections_refused_total: 'CONNECTs refused (bad credentials, unsupported protocol)',
  mqtt_publish_denied_total: 'PUBLISHes refused by the ACL',
  mqtt_subscribe_denied_total: 'Subscriptions refused by the ACL',
  mqtt_messages_received_total: 'PUBLISHes received from clients',
  mqtt_offline_messages_dropped_total: "Messages not queued for an offline session because its queue was full (mqtt.queueLimit)",
  mqtt_sessions_expired_total: 'Persistent sessions removed after mqtt.sessionExpirySeconds offline',
  mqtt_expired_session_messages_dropped_total: 'Queued messages removed with expired sessions',
  mqtt_rule_matches_total: 'Messages a topic rule matched (topic filter and condition)',
  mqtt_rule_action_retries_total: 'Rule actions retried after a retryable failure (throttled, target unavailable)',
  mqtt_rule_errors_total: 'Rule failures routed to the error action (malformed payload, missing field, unknown target)',
  mqtt_rule_error_action_failures_total: 'Rule failures whose error action failed too (or that had none)',
  mqtt_clients_connected: 'Connected MQTT clients',
  mqtt_rule_messages_pending: 'Messages whose rule actions have not all completed (not yet acknowledged at QoS 1/2)',
};

type Labels = Record<string, string>;

export class MqttMetrics {
  private readonly values = new Map<MqttCounterName | MqttGaugeName, Map<string, number>>();

  add(name: MqttCounterName | MqttGaugeName, amount = 1, labels: Labels = {}): void {
    const series = this.series(name);
    const key = labelText(labels);
    series.set(key, (series.get(key) ?? 0) + amount);
  }

  set(name: MqttGaugeName, value: number): void {
    this.series(name).set('', value);
  }

  get(name: MqttCounterName | MqttGaugeName, labels: Labels = {}): number {
    return this.values.get(name)?.get(labelText(labels)) ?? 0;
  }

  private series(name: MqttCounterName | MqttGaugeName): Map<string, number> {
    let series = this.values.get(name);
    if (!series) this.values.set(name, (series = new Map()));
    return series;
  }

  render(): string {
    const lines: string[] = [];
    for (const name of Object.keys(help) as Array<MqttCounterName | MqttGaugeName>) {
      lines.push(`# HELP ${name} ${help[name]}`, `# TYPE ${name} ${name.endsWith('_total') ? 'counter' : 'gauge'}`);
      const series = this.values.get(name);
      if (!series || series.size === 0) lines.push(`${name} 0`);
      else for (const [labels, value] of series) lines.push(`${name}${labels} ${value}`);
    }
    return lines.join('\n') + '\n';
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  // Prometheus text format: backslash, double quote and newline are escaped in label values.
  return `{${entries.map(([key, value]) => `${key}="${value.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n')}"`).join(',')}}`;
}
