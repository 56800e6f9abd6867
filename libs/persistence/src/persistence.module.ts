import {
  DynamicModule,
  Global,
  Inject,
  Logger,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { openDatabase } from './data-source';
import { Repositories } from './repositories';

@Global()
@Module({})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  static forRoot(opts: { poolSize?: number } = {}): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        {
          provide: DataSource,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => {
            const log = new Logger('database');
            return openDatabase(config.databaseUrl, {
              stuckSessionMs: config.dbStuckSessionSeconds * 1000,
              ...opts,
              log: (line) => log.log(line),
            });
          },
        },
        {
          provide: Repositories,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new Repositories(ds),
        },
      ],
      exports: [DataSource, Repositories],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
