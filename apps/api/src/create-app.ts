import { Logger, ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AppConfig } from '@snowline/config';
import { AppModule } from './app.module';
import { requestId } from './common/request-id';

/** Builds the API application (used by main.ts and by the tests). */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  const log = new Logger('api');
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, (m) => log.warn(m)),
    { logger: config.logLevel === 'silent' ? false : ['error', 'warn', 'log'], bodyParser: true },
  );
  app.useBodyParser('json', { limit: '256kb' });
  app.use(requestId);
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  const doc = new DocumentBuilder()
    .setTitle('Snowline API')
    .setDescription(
      'Run Avalanche validators on Alibaba Cloud ECS and keep them alive across zone failures.',
    )
    .setVersion('0.1.0')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), {
    jsonDocumentUrl: 'docs-json',
  });
  return app;
}
