import t from 'tap';
import { KafkaBus } from './kafka-bus';
import { eventBusConformance } from './event-bus.conformance';
import { engineUrl } from '../../test/helpers/services';

const brokers = engineUrl(t, 'kafka');
if (brokers) {
  let n = 0;
  const run = `bus-${process.pid}-${Date.now()}`;
  eventBusConformance(t, 'kafka', () => KafkaBus.connect({ brokers: brokers.split(','), clientId: run, sessionTimeoutMs: 6000 }), () => `${run}-${n++}`);

  t.test('kafka: unreachable brokers fail connect with a clear code, quickly', async (t) => {
    const started = Date.now();
    await t.rejects(KafkaBus.connect({ brokers: ['127.0.0.1:1'], clientId: 'nobody' }), { code: 'HB_BUS_UNREACHABLE' });
    t.ok(Date.now() - started < 30_000, 'gives up within seconds, not minutes');
  });
}
