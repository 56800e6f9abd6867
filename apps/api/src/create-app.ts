import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppConfig } from '@snowline/config';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { mountAdminQueues } from './admin-queues';
import { mountConsole } from './console';
import { AppModule } from './app.module';
import { AgentService } from './agent/agent.service';
import { leaseFastMiddleware } from './agent/lease-fast.middleware';
import { jsonBody } from './common/json-body';
import { PrototypeStableExpressAdapter } from './common/express-adapter';
import { completeDocument } from './common/openapi';
import { requestId } from './common/request-id';
import { SuggestingValidationPipe } from './common/suggesting-validation.pipe';
import { MetricsService } from './metrics/metrics.service';

/** Builds the API application (used by main.ts and by the tests). */
export async function createApp(
  config: AppConfig,
  opts: { logStream?: DestinationStream } = {},
): Promise<INestApplication> {
  const log = new Logger('api');
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, (m) => log.warn(m), opts.logStream),
    new PrototypeStableExpressAdapter(),
    // Our own JSON parser (json-body.ts) turns its errors into problems; Nest's would parse again.
    { bufferLogs: true, bodyParser: false },
  );
  app.useLogger(app.get(PinoLogger)); // structured (pino), with the request's correlation id
  app.use(requestId); // first, so even a body-parser error carries the correlation id
  app.use(jsonBody(config.publicApi.bodyLimitKb));
  app.use(app.get(MetricsService).middleware);
  // Plain lease renewals are answered before Nest's router and request logging (issue 20).
  app.use(leaseFastMiddleware(app.get(AgentService)));
  mountAdminQueues(app);
  mountConsole(app);
  app.disable('x-powered-by');
  // API answers are live state: no weak ETag (a SHA-1 of every body) that no client revalidates with.
  app.set('etag', false);
  app.enableShutdownHooks();
  app.useGlobalPipes(
    new SuggestingValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  // Assets come from swagger-ui-dist here; validatorUrl null stops the UI calling validator.swagger.io.
  SwaggerModule.setup('docs', app, () => openApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { validatorUrl: null },
  });
  return app;
}

/** The OpenAPI 3.1 document of an app built by createApp or openApiOnlyApp (served at /docs-json). */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const doc = new DocumentBuilder()
    .setTitle('Snowline API')
    .setDescription(
      'Run Avalanche validators on Alibaba Cloud ECS and keep them alive across zone failures.',
    )
    .setVersion('0.1.0')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    // Relative: the API serves its own document, so the host that served it is the server.
    .addServer('/', 'The Snowline API that served this document')
    .addBearerAuth()
    .setOpenAPIVersion('3.1.0')
    .build();
  return completeDocument(SwaggerModule.createDocument(app, doc));
}

/**
 * The API's module graph without instantiating a provider (Nest's preview mode): no database,
 * Redis or port, enough for openApiDocument (scripts/openapi-export.ts).
 */
export async function openApiOnlyApp(config: AppConfig): Promise<INestApplication> {
  return NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config),
    new PrototypeStableExpressAdapter(),
    { preview: true, logger: false, abortOnError: false },
  );
}
