package worker

// a1111Samplers maps an AI Horde sampler name to AUTOMATIC1111's sampler
// name, and to its Karras-scheduled variant where A1111 has one (the
// "X Karras" names work on old A1111 and on 1.9+, which splits them into
// sampler + scheduler itself).
var a1111Samplers = map[string]struct{ name, karras string }{
	"k_euler":        {"Euler", ""},
	"k_euler_a":      {"Euler a", ""},
	"k_heun":         {"Heun", ""},
	"k_lms":          {"LMS", "LMS Karras"},
	"k_dpm_2":        {"DPM2", "DPM2 Karras"},
	"k_dpm_2_a":      {"DPM2 a", "DPM2 a Karras"},
	"k_dpm_fast":     {"DPM fast", ""},
	"k_dpm_adaptive": {"DPM adaptive", ""},
	"k_dpmpp_2s_a":   {"DPM++ 2S a", "DPM++ 2S a Karras"},
	"k_dpmpp_2m":     {"DPM++ 2M", "DPM++ 2M Karras"},
	"k_dpmpp_sde":    {"DPM++ SDE", "DPM++ SDE Karras"},
	"dpmsolver":      {"DPM++ 2M", "DPM++ 2M Karras"},
	"lcm":            {"LCM", ""},
	"DDIM":           {"DDIM", ""},
	"ddim":           {"DDIM", ""},
	"plms":           {"PLMS", ""},
	"uni_pc":         {"UniPC", ""},
}

// defaultA1111Sampler is used for a sampler the table does not know.
const defaultA1111Sampler = "Euler a"

// A1111SamplerName returns the AUTOMATIC1111 sampler for an AI Horde sampler
// name and Karras flag, and whether the name was known (unknown names give
// "Euler a").
func A1111SamplerName(hordeName string, karras bool) (string, bool) {
	s, ok := a1111Samplers[hordeName]
	if !ok {
		return defaultA1111Sampler, false
	}
	if karras && s.karras != "" {
		return s.karras, true
	}
	return s.name, true
}

// comfySamplers maps an AI Horde sampler name to ComfyUI's KSampler
// sampler_name (ComfyUI sets the Karras schedule apart, as its scheduler).
var comfySamplers = map[string]string{
	"k_euler":        "euler",
	"k_euler_a":      "euler_ancestral",
	"k_heun":         "heun",
	"k_lms":          "lms",
	"k_dpm_2":        "dpm_2",
	"k_dpm_2_a":      "dpm_2_ancestral",
	"k_dpm_fast":     "dpm_fast",
	"k_dpm_adaptive": "dpm_adaptive",
	"k_dpmpp_2s_a":   "dpmpp_2s_ancestral",
	"k_dpmpp_2m":     "dpmpp_2m",
	"k_dpmpp_sde":    "dpmpp_sde",
	"dpmsolver":      "dpmpp_2m",
	"lcm":            "lcm",
	"DDIM":           "ddim",
	"ddim":           "ddim",
	"uni_pc":         "uni_pc",
}

// defaultComfySampler is used for a sampler the table does not know (the
// AI Horde's default sampler, k_euler_a).
const defaultComfySampler = "euler_ancestral"

// ComfyUISampler returns ComfyUI's sampler_name and scheduler for an AI
// Horde sampler name and Karras flag, and whether the name was known
// (unknown names give euler_ancestral).
func ComfyUISampler(hordeName string, karras bool) (sampler, scheduler string, known bool) {
	scheduler = "normal"
	if karras {
		scheduler = "karras"
	}
	sampler, known = comfySamplers[hordeName]
	if !known {
		sampler = defaultComfySampler
	}
	return sampler, scheduler, known
}
