// The EngineDriver's order of stream inputs: a connection that hands over bytes the moment a
// handler is attached (the tunnel does, for an answer that came with TCP_CONNECTED — the reply to
// data sent behind the connect) must reach the engine as opened, then data. Found by bench:room:
// Bitcoin handshakes over a tunnel hung when bcoin's version arrived with the connection.
import { describe, expect, it } from 'vitest';
import { EngineDriver } from '../shared/drive/driver.ts';
import { emptyOutput, type Engine, type EngineInput } from '../shared/engine.ts';
import type { Endpoint, StreamConnection, StreamTransport } from '../shared/transport.ts';

/** A connection holding bytes already received: they go to the first data handler at once. */
function eagerConnection(remote: Endpoint, received: Uint8Array): StreamConnection {
  return {
    remote,
    write: () => true,
    onData: (h) => h(received),
    onDrain: () => {},
    onEnd: () => {},
    onClose: () => {},
    end: () => {},
    close: () => {},
  };
}

class RecordingEngine implements Engine<{ to: Endpoint }, never> {
  readonly protocol = 'test';
  readonly seen: string[] = [];
  handle(input: EngineInput<{ to: Endpoint }>) {
    this.seen.push(input.type);
    const out = emptyOutput<never>();
    if (input.type === 'command') out.transmits.push({ type: 'connect', conn: 'c1', to: input.command.to });
    return out;
  }
  tick() {
    return emptyOutput<never>();
  }
  nextDeadline() {
    return undefined;
  }
}

describe('EngineDriver stream order', () => {
  const to = { ip: '127.0.0.1', port: 1 };
  it('outbound: stream-opened before the bytes that came with the connection', async () => {
    const engine = new RecordingEngine();
    const streams: StreamTransport = { connect: async () => eagerConnection(to, new Uint8Array([1, 2, 3])) };
    const driver = new EngineDriver(engine, { streams });
    driver.command({ to });
    await new Promise((r) => setTimeout(r, 10));
    expect(engine.seen).toEqual(['command', 'stream-opened', 'stream-data']);
    driver.close();
  });

  it('inbound: stream-opened before the bytes already received', () => {
    const engine = new RecordingEngine();
    const driver = new EngineDriver(engine, {});
    driver.accept(eagerConnection(to, new Uint8Array([4])));
    expect(engine.seen).toEqual(['stream-opened', 'stream-data']);
    driver.close();
  });
});
