// Runs a ConformanceRun over real datagram sockets (Node's, or the bridge's tunnel sockets in the
// browser): the thin I/O adapter, like EngineDriver is for an engine (a run has several sockets). One timer, set for the run's
// next deadline; what arrives on each socket goes in with that socket's id.
import type { TraceRecord } from '../../trace.ts';
import type { DatagramSocket } from '../../transport.ts';
import type { Clock } from '../../drive/clock.ts';
import type { ConformanceEvent, ConformanceOutput, ConformanceRun, ScenarioResult } from './runner.ts';

export interface ConformanceListener {
  event?: (e: ConformanceEvent) => void;
  trace?: (t: TraceRecord) => void;
  /** A datagram could not be sent. */
  error?: (e: Error) => void;
}

export interface ConformanceDrive {
  /** The results when the run is done (or stopped: those of the scenarios that ended). */
  results: Promise<ScenarioResult[]>;
  stop(): void;
}

/** Drives `run` until it is done or stopped. The sockets stay open (they are the caller's). */
export function driveConformance(run: ConformanceRun, sockets: Map<number, DatagramSocket>, clock: Clock, listener: ConformanceListener = {}): ConformanceDrive {
  let stop = () => {};
  const results = new Promise<ScenarioResult[]>((resolve) => {
    let timer: unknown;
    let over = false;
    const finish = () => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      resolve([...run.results]);
    };
    const report = (e: unknown) => listener.error?.(e instanceof Error ? e : new Error(String(e)));
    const apply = (out: ConformanceOutput) => {
      if (over) return;
      for (const s of out.send) {
        try {
          sockets.get(s.socket)?.send(s.bytes, s.to);
        } catch (e) {
          report(e);
        }
      }
      for (const e of out.events) listener.event?.(e);
      for (const t of out.trace) listener.trace?.(t);
      if (run.done) return finish();
      clearTimeout(timer);
      const next = run.nextDeadline();
      if (next !== undefined) timer = setTimeout(() => apply(run.tick(clock())), Math.max(0, next - clock()) + 1);
    };
    stop = finish;
    for (const [id, socket] of sockets) socket.onMessage((bytes, from) => !over && apply(run.receive(id, bytes, from, clock())));
    apply(run.start(clock()));
  });
  return { results, stop: () => stop() };
}
