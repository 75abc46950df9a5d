// Package worker is the reference hordeworker: a client of any
// AI-Horde-compatible server (the public AI Horde or hordebot's own
// horde/api) that pops image or text jobs, runs them on a Backend and
// submits the results.
//
// It speaks the AI Horde v2 wire format with the shared types of horde/aihorde
// and never needs the server's internals. Run is the loop; Client is the
// HTTP client it uses; the backends are Procedural (no GPU, deterministic,
// for tests and demos), A1111 (AUTOMATIC1111, Forge, SD.Next), ComfyUI
// (its own API: workflows, websocket progress and previews), Kobold
// (KoboldCpp, KoboldAI) and OpenAI (any OpenAI-compatible completions
// server: llama.cpp, vLLM, Ollama).
package worker

// Version is the worker's version, sent in the Client-Agent header and as
// bridge_agent. Release builds set it with
// -ldflags "-X github.com/hordebot/hordebot/horde/worker.Version=1.2.3".
var Version = "0.1.0"

// DefaultContact is the contact part of the Client-Agent when Config.Contact is empty.
const DefaultContact = "https://github.com/hordebot/hordebot"

// agentString formats the AI Horde "name:version:contact" agent string.
func agentString(contact string) string {
	if contact == "" {
		contact = DefaultContact
	}
	return "hordeworker:" + Version + ":" + contact
}
