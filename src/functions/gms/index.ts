/** The GMS (TS 33.180 §5.7, §7.3; CR §11.1.2.2): groups, GMKs, fan-out, registrar, SIP glue. */
export { gmsConfig, type GmsConfig, type GmsConfigInput } from './config.js';
export { bearerToken, checkRegister, checkRegisterToken, type RegisterPolicy, type RegisterRequest } from './check-register.js';
export { contactDestination } from './contact.js';
export type { GmsEarHook, GmsEarRequest } from './ear-hook.js';
export { earParts, gmsEarHook, type GmsEarOptions } from './ear.js';
export { FanOutTables, runFanOutJob, type FanOutJob, type FanOutKms } from './fan-out-job.js';
export { InlineFanOut, WorkerFanOut, type FanOutOptions, type FanOutSlice, type GmkFanOut } from './fan-out-pool.js';
export { createGmkIMessages, gmkRand, type GmkMessagesInput, type GmkRecipient, type GmkSigner } from './gmk-i-message.js';
export { currentGmks, isActiveGmk, nextGmkTimes, selectGmk, wholeSeconds } from './gmk-policy.js';
export { GmsRecipients, installGmsIdentity, signingIdentity, type GmsCertificateInput, type GmsIdentityMaterial, type GmsSigningIdentity } from './identity.js';
export {
  GmsService,
  type AcceptedTransfer,
  type CreateGroupInput,
  type DistributionProgress,
  type DistributionReport,
  type GmkDelivery,
  type GmkDeliveryOutcome,
  type GmkSender,
  type GmsLogger,
  type GmsServiceOptions,
} from './service.js';
export { GmsSip, ServerTransactions, warningCode, warningOf, type GmsSipOptions } from './sip.js';
