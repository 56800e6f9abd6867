import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

/**
 * Nest's Express adapter, with requests born on Express's prototypes.
 *
 * Express 5 moves every request and response onto its app's prototypes as it enters
 * (`Object.setPrototypeOf(req, app.request)`, lib/application.js). Changing a live object's prototype
 * is among the slowest things V8 does, and it also makes each request's objects outlive the young
 * generation: measured here on a bare Express app, 3–4× fewer requests/s and 7–10 ms scavenge pauses
 * instead of < 1 ms, the pauses that made the API's p99 (expressjs/express#5998, nodejs/node#37457).
 *
 * Node's HTTP server can construct requests and responses from classes of our choosing. These
 * classes' prototypes sit on top of the app's own (`Request.prototype` → `app.request` →
 * Express's request → `IncomingMessage.prototype`), and become `app.request` / `app.response`, so
 * Express's per-request `setPrototypeOf` finds the prototype already in place and changes nothing.
 * Behaviour is Express's own: no method is copied or re-implemented. Sub-apps (Bull Board) mount
 * on top of these prototypes as on the originals.
 */
export class PrototypeStableExpressAdapter extends ExpressAdapter {
  private readonly Request: typeof IncomingMessage;
  private readonly Response: typeof ServerResponse;

  constructor() {
    super();
    const app = this.getInstance<Express>();
    class Request extends IncomingMessage {}
    class Response extends ServerResponse {}
    Object.setPrototypeOf(Request.prototype, app.request);
    Object.setPrototypeOf(Response.prototype, app.response);
    (app as { request: unknown }).request = Request.prototype;
    (app as { response: unknown }).response = Response.prototype;
    this.Request = Request;
    this.Response = Response as typeof ServerResponse;
  }

  override initHttpServer(options: NestApplicationOptions): void {
    // HTTPS and connection tracking keep Nest's own path (not used by Snowline today).
    if (options?.httpsOptions || options?.forceCloseConnections) {
      super.initHttpServer(options);
      return;
    }
    this.httpServer = createServer(
      { IncomingMessage: this.Request, ServerResponse: this.Response },
      this.getInstance<Express>(),
    );
  }
}
