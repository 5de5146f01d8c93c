import { Counter, Gauge, Histogram, type HttpApp } from '@herald/runtime/http';

export interface RealtimeMetrics {
  eventsPushed: Counter<'event'>;
  pushLatency: Histogram<'event'>;
  handshakesRejected: Counter<'code'>;
  slowClientsDisconnected: Counter;
}

/** The service's metrics on the app's registry; `connectedSockets` is read when scraped, never kept in step by hand. */
export function registerRealtimeMetrics(app: HttpApp, connectedSockets: () => number): RealtimeMetrics {
  const registers = [app.metrics];
  new Gauge({
    name: 'realtime_connected_sockets',
    help: 'Sockets connected to this instance',
    registers,
    collect() {
      this.set(connectedSockets());
    },
  });
  return {
    eventsPushed: new Counter({
      name: 'realtime_events_pushed_total',
      help: 'Events emitted to sockets, one per socket reached',
      labelNames: ['event'],
      registers,
    }),
    pushLatency: new Histogram({
      name: 'realtime_push_latency_seconds',
      help: "From the event's occurredAt to its emit on this instance",
      labelNames: ['event'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    handshakesRejected: new Counter({
      name: 'realtime_handshakes_rejected_total',
      help: 'Handshakes refused, by reason',
      labelNames: ['code'],
      registers,
    }),
    slowClientsDisconnected: new Counter({
      name: 'realtime_slow_clients_disconnected_total',
      help: 'Sockets disconnected because too many packets waited for them',
      registers,
    }),
  };
}
