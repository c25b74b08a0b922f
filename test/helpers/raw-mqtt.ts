/**
 * A bare MQTT 3.1.1 client over a TCP socket for what real clients never do on purpose — resending
 * a QoS 2 PUBLISH whose PUBREC was "lost" — with packets laid out by hand from the spec (MQTT
 * 3.1.1 §2 fixed header, §3.1 CONNECT, §3.3 PUBLISH, §3.5–3.7 PUBREC/PUBREL/PUBCOMP).
 */
import { connect, type Socket } from 'node:net';
import { pollUntil } from './poll.js';

function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}

function utf8(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}

function packetId(id: number): Buffer {
  return Buffer.from([id >> 8, id & 0xff]);
}

export class RawMqttClient {
  private received = Buffer.alloc(0);

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
  }

  /** Connects with a clean session and waits for CONNACK 0. */
  static async connect(port: number, clientId: string): Promise<RawMqttClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawMqttClient(socket);
    // Protocol name "MQTT", level 4 (3.1.1), flags: clean session, keep alive 60 s.
    socket.write(packet(0x10, Buffer.concat([utf8('MQTT'), Buffer.from([4, 0x02, 0, 60]), utf8(clientId)])));
    await client.expect(Buffer.from([0x20, 0x02, 0x00, 0x00]), 'CONNACK 0');
    return client;
  }

  /** PUBLISH at QoS 2 (0x34, with DUP 0x3C). */
  publishQos2(topic: string, payload: string, id: number, dup: boolean): void {
    this.socket.write(packet(dup ? 0x3c : 0x34, Buffer.concat([utf8(topic), packetId(id), Buffer.from(payload)])));
  }

  pubrel(id: number): void {
    this.socket.write(packet(0x62, packetId(id)));
  }

  /** Waits until `bytes` arrived next, then consumes them. */
  async expect(bytes: Buffer, what: string): Promise<void> {
    await pollUntil(what, () => this.received.length >= bytes.length, { describe: () => this.received.toString('hex') });
    const head = this.received.subarray(0, bytes.length);
    if (!head.equals(bytes)) throw new Error(`expected ${what} (${bytes.toString('hex')}), got ${head.toString('hex')}`);
    this.received = this.received.subarray(bytes.length);
  }

  static pubrec(id: number): Buffer {
    return Buffer.concat([Buffer.from([0x50, 0x02]), packetId(id)]);
  }

  static pubcomp(id: number): Buffer {
    return Buffer.concat([Buffer.from([0x70, 0x02]), packetId(id)]);
  }

  close(): void {
    this.socket.destroy();
  }
}
