// workerd entry for the test: the example Cloudflare Worker (examples/edge/worker.mjs,
// copied beside this file) plus GET /runtime, which reports what the runtime lacks.
import example from './worker.mjs';

export default {
  fetch(request) {
    if (new URL(request.url).pathname === '/runtime') {
      return Response.json({ finalizationRegistry: typeof FinalizationRegistry, weakRef: typeof WeakRef });
    }
    return example.fetch(request);
  },
};
