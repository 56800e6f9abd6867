import { Initial1764096000000 } from './1764096000000-Initial';
import { PublicApi1795633457654 } from './1795633457654-PublicApi';
import { HealthAndFailover1795634510892 } from './1795634510892-HealthAndFailover';
import { Plans1795635953720 } from './1795635953720-Plans';
import { DeferredIdentity1795700000000 } from './1795700000000-DeferredIdentity';
import { ControlLoops1795700000100 } from './1795700000100-ControlLoops';
import { PlanSerialLog1795700000200 } from './1795700000200-PlanSerialLog';
import { DeclarativeWebhooksAndPools1795700000400 } from './1795700000400-DeclarativeWebhooksAndPools';
import { MillisecondCursors1795700000500 } from './1795700000500-MillisecondCursors';
import { MoveWatchdog1795700000600 } from './1795700000600-MoveWatchdog';
import { StopConfirmed1795700000700 } from './1795700000700-StopConfirmed';
import { HostCredentials1795700001000 } from './1795700001000-HostCredentials';
import { SealedIdempotencyResponses1795700000900 } from './1795700000900-SealedIdempotencyResponses';
import { LaunchBatches1795700001500 } from './1795700001500-LaunchBatches';
import { Retention1795700001600 } from './1795700001600-Retention';
import { ReimportIdentity1795700001200 } from './1795700001200-ReimportIdentity';
import { InstanceTypeCatalog1795700001100 } from './1795700001100-InstanceTypeCatalog';
import { FileOwnedValidators1795700001300 } from './1795700001300-FileOwnedValidators';
import { LeaderLeases1795700001400 } from './1795700001400-LeaderLeases';
import { StopAcknowledgments1795700002100 } from './1795700002100-StopAcknowledgments';
import { Rollouts1795700002200 } from './1795700002200-Rollouts';
import { AvalancheGoVersions1795700002300 } from './1795700002300-AvalancheGoVersions';
import { Staking1795700003000 } from './1795700003000-Staking';
import { VersionsInPlanSerial1795700003100 } from './1795700003100-VersionsInPlanSerial';
import { L1Validators1795700003300 } from './1795700003300-L1Validators';

/** Every migration, in order. New ones are appended here. */
export const MIGRATIONS = [
  Initial1764096000000,
  PublicApi1795633457654,
  HealthAndFailover1795634510892,
  Plans1795635953720,
  DeferredIdentity1795700000000,
  ControlLoops1795700000100,
  PlanSerialLog1795700000200,
  DeclarativeWebhooksAndPools1795700000400,
  MillisecondCursors1795700000500,
  MoveWatchdog1795700000600,
  StopConfirmed1795700000700,
  SealedIdempotencyResponses1795700000900,
  HostCredentials1795700001000,
  InstanceTypeCatalog1795700001100,
  ReimportIdentity1795700001200,
  FileOwnedValidators1795700001300,
  LeaderLeases1795700001400,
  LaunchBatches1795700001500,
  Retention1795700001600,
  StopAcknowledgments1795700002100,
  Rollouts1795700002200,
  AvalancheGoVersions1795700002300,
  Staking1795700003000,
  VersionsInPlanSerial1795700003100,
  L1Validators1795700003300,
];
