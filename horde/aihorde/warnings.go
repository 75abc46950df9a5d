package aihorde

// The codes of an async answer's warnings: exactly the AI Horde's
// WarningMessage (horde/enums.py). Clients generated from its swagger type
// the field with these, and refuse an answer with any other code, so a
// warning without one of them is not sent.
const (
	WarnNoAvailableWorker = "NoAvailableWorker" // no online worker can serve the request now
	WarnClipSkipMismatch  = "ClipSkipMismatch"
	WarnStepsTooFew       = "StepsTooFew"
	WarnStepsTooMany      = "StepsTooMany"
	WarnCfgScaleMismatch  = "CfgScaleMismatch"
	WarnCfgScaleTooSmall  = "CfgScaleTooSmall"
	WarnCfgScaleTooLarge  = "CfgScaleTooLarge"
	WarnSamplerMismatch   = "SamplerMismatch"
	WarnSchedulerMismatch = "SchedulerMismatch"
)

// WarningCodes are all the codes a warning may have.
var WarningCodes = []string{
	WarnNoAvailableWorker, WarnClipSkipMismatch, WarnStepsTooFew, WarnStepsTooMany, WarnCfgScaleMismatch,
	WarnCfgScaleTooSmall, WarnCfgScaleTooLarge, WarnSamplerMismatch, WarnSchedulerMismatch,
}
