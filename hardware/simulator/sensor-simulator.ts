#!/usr/bin/env node
/**
 * Sensor simulator for the MQTT demo: N virtual devices, each with its own MQTT connection
 * (client id = device name), publishing JSON readings to `sensors/<device>/telemetry`:
 *
 *   { "deviceId": "sim-003", "ts": "2026-…Z", "temperature": 21.4, "humidity": 48.2,
 *     "pressure": 1012.7, "battery": 87.3 }
 *
 * The values behave like an indoor environmental sensor: temperature follows a daily cycle around a
 * per-device baseline plus a slow random walk; relative humidity moves against temperature;
 * barometric pressure drifts slowly around 1013 hPa; the battery drains a little with every
 * transmission. Devices start at random offsets within the interval so they do not publish in step.
 *
 * Usage: npm run simulate -- [--url mqtt://127.0.0.1:1883] [--devices 5] [--interval-ms 1000]
 *        [--count N] [--qos 0|1|2] [--username U --password P] [--prefix sim]
 */
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';

const usage = `Usage: npm run simulate -- [options]
  --url URL            broker (default mqtt://127.0.0.1:1883, the collector's default MQTT port)
  --devices N          virtual devices (default 5)
  --interval-ms N      time between one device's readings (default 1000)
  --count N            readings per device, then exit (default: until Ctrl-C)
  --qos 0|1|2          (default 1)
  --username U, --password P   device credentials (riffle-collector device add prints them)
  --prefix NAME        device names are NAME-001, NAME-002, … (default sim)
`;

interface DeviceState {
  name: string;
  client: MqttClient;
  baseline: number;
  drift: number;
  pressure: number;
  battery: number;
  sent: number;
  acknowledged: number;
}

const DAY_MS = 24 * 3600 * 1000;

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Roughly normal noise (sum of uniforms, Irwin–Hall), mean 0, standard deviation `sd`. */
function noise(sd: number): number {
  return (Math.random() + Math.random() + Math.random() + Math.random() - 2) * sd * Math.sqrt(3);
}

function nextReading(device: DeviceState, nowMs: number): Record<string, unknown> {
  device.drift = Math.max(-2, Math.min(2, device.drift + noise(0.05)));
  // Warmest mid-afternoon (15:00), coolest before dawn; ±3 °C around the baseline.
  const dayPhase = ((nowMs % DAY_MS) / DAY_MS - 15 / 24) * 2 * Math.PI;
  const temperature = device.baseline + 3 * Math.cos(dayPhase) + device.drift + noise(0.1);
  const humidity = Math.max(5, Math.min(95, 50 - 2.5 * (temperature - device.baseline) + noise(1)));
  device.pressure = Math.max(980, Math.min(1040, device.pressure + noise(0.05)));
  // A few thousand transmissions per 1 % of charge, like a coin cell sensor; recharged when empty.
  device.battery = device.battery <= 5 ? 100 : device.battery - 0.002 - Math.max(0, noise(0.001));
  return {
    deviceId: device.name,
    ts: new Date(nowMs).toISOString(),
    temperature: round(temperature, 1),
    humidity: round(humidity, 1),
    pressure: round(device.pressure, 1),
    battery: round(device.battery, 1),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      devices: { type: 'string', default: '5' },
      'interval-ms': { type: 'string', default: '1000' },
      count: { type: 'string' },
      qos: { type: 'string', default: '1' },
      username: { type: 'string' },
      password: { type: 'string' },
      prefix: { type: 'string', default: 'sim' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const devices = Number(values.devices);
  const intervalMs = Number(values['interval-ms']);
  const count = values.count === undefined ? Infinity : Number(values.count);
  const qos = Number(values.qos);
  if (!Number.isInteger(devices) || devices < 1 || !(intervalMs > 0) || !(count > 0) || (qos !== 0 && qos !== 1 && qos !== 2)) {
    process.stderr.write(usage);
    process.exit(2);
  }

  const states: DeviceState[] = await Promise.all(
    Array.from({ length: devices }, async (_, i) => {
      const name = `${values.prefix}-${String(i + 1).padStart(3, '0')}`;
      const client = await mqtt.connectAsync(values.url, {
        clientId: name,
        ...(values.username === undefined ? {} : { username: values.username, password: values.password ?? '' }),
        reconnectPeriod: 1000,
      });
      return { name, client, baseline: 19 + Math.random() * 5, drift: 0, pressure: 1013 + noise(3), battery: 60 + Math.random() * 40, sent: 0, acknowledged: 0 };
    }),
  );
  process.stdout.write(`simulating ${devices} devices on ${values.url}: sensors/<device>/telemetry every ${intervalMs} ms at QoS ${qos}\n`);

  const timers: NodeJS.Timeout[] = [];
  let finished = 0;
  const done = new Promise<void>((resolve) => {
    for (const state of states) {
      const publish = () => {
        if (state.sent >= count) return;
        state.sent++;
        state.client.publish(`sensors/${state.name}/telemetry`, JSON.stringify(nextReading(state, Date.now())), { qos: qos as 0 | 1 | 2 }, (error) => {
          if (error) process.stderr.write(`${state.name}: ${error.message}\n`);
          else state.acknowledged++;
          if (state.sent >= count && state.acknowledged + (error ? 1 : 0) >= count && ++finished === states.length) resolve();
        });
      };
      timers.push(
        setTimeout(() => {
          publish();
          timers.push(setInterval(publish, intervalMs));
        }, Math.random() * intervalMs),
      );
    }
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const report = setInterval(() => {
    const sent = states.reduce((sum, state) => sum + state.sent, 0);
    const acknowledged = states.reduce((sum, state) => sum + state.acknowledged, 0);
    process.stdout.write(`${new Date().toISOString()} published ${sent}, acknowledged ${acknowledged}\n`);
  }, 10_000);
  await done;
  for (const timer of timers) clearTimeout(timer);
  clearInterval(report);
  await Promise.all(states.map((state) => state.client.endAsync()));
  const acknowledged = states.reduce((sum, state) => sum + state.acknowledged, 0);
  process.stdout.write(`done: ${acknowledged} readings acknowledged\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`sensor simulator: ${String(error)}\n`);
  process.exit(1);
});
