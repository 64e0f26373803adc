import t from 'tap';
import { InProcessBus } from './in-process-bus';
import { eventBusConformance } from './event-bus.conformance';

// One bus shared by the suite's "processes", as the in-process log lives as long as its process.
const bus = new InProcessBus();
let n = 0;
eventBusConformance(t, 'in-process', async () => Object.assign(Object.create(bus) as InProcessBus, { close: async () => undefined }), () => `t${n++}`);
