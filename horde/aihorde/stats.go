package aihorde

// The bodies of the statistics routes (/stats/img/*, /stats/text/*).

// ImageStatsTotals is /stats/img/totals (the AI Horde's StatsImgTotals).
type ImageStatsTotals struct {
	Minute ImagePeriodStat `json:"minute"`
	Hour   ImagePeriodStat `json:"hour"`
	Day    ImagePeriodStat `json:"day"`
	Month  ImagePeriodStat `json:"month"`
	Total  ImagePeriodStat `json:"total"`
}

// ImagePeriodStat is what was generated in a period: images and pixelsteps.
type ImagePeriodStat struct {
	Images int64 `json:"images"`
	PS     int64 `json:"ps"`
}

// TextStatsTotals is /stats/text/totals (the AI Horde's StatsTxtTotals).
type TextStatsTotals struct {
	Minute TextPeriodStat `json:"minute"`
	Hour   TextPeriodStat `json:"hour"`
	Day    TextPeriodStat `json:"day"`
	Month  TextPeriodStat `json:"month"`
	Total  TextPeriodStat `json:"total"`
}

// TextPeriodStat is what was generated in a period: texts and tokens.
type TextPeriodStat struct {
	Requests int64 `json:"requests"`
	Tokens   int64 `json:"tokens"`
}

// ModelStats is /stats/img/models and /stats/text/models: results per
// model name in the past day, month and of all time.
type ModelStats struct {
	Day   map[string]int64 `json:"day"`
	Month map[string]int64 `json:"month"`
	Total map[string]int64 `json:"total"`
}

// The values of /stats/img/models?model_state=, as on the AI Horde.
const (
	ModelStateKnown  = "known"
	ModelStateCustom = "custom"
	ModelStateAll    = "all"
)
