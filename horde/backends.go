package horde

import "strings"

// ValidatedBackends are the text bridges whose backends the horde trusts to
// honour a request's parameters: the AI Horde's list
// (horde/bridge_reference.py LLM_VALIDATED_BACKENDS) and hordebot's own
// reference worker. A text request with validated_backends true (the
// default) goes only to a worker whose bridge_agent names one of them.
var ValidatedBackends = []string{
	"AI Horde Worker",
	"AI Horde Worker~aphrodite~oai",
	"AI Horde Worker~aphrodite~kai",
	"KoboldCppEmbedWorker",
	"TabbyAPI",
	"hordeworker",
}

// IsValidatedBackend reports whether a bridge_agent ("name:version:contact")
// names a validated backend. As on the AI Horde, an agent that is not three
// colon-separated parts with a version number is an unknown bridge.
func IsValidatedBackend(agent string) bool {
	name, rest, ok := strings.Cut(agent, ":")
	if !ok {
		return false
	}
	version, _, ok := strings.Cut(rest, ":")
	if !ok || !isBridgeVersion(version) {
		return false
	}
	for _, v := range ValidatedBackends {
		if name == v {
			return true
		}
	}
	return false
}

// isBridgeVersion reports whether v is a version number: one to three
// dot-separated numbers, then optionally a "-pre-release" or "+build" tail.
func isBridgeVersion(v string) bool {
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}
