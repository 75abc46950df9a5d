package aihorde

// The bodies hordebot POSTs to a request's webhook, once per finished
// generation, as the AI Horde does: the generation as its status shows it,
// plus the request's id and the kudos the generation earned.

// ImageWebhook is the webhook body of a finished image (img is a URL).
type ImageWebhook struct {
	ImageGeneration
	Request string  `json:"request"`
	Kudos   float64 `json:"kudos"`
}

// TextWebhook is the webhook body of a finished text.
type TextWebhook struct {
	TextGeneration
	Request string  `json:"request"`
	Kudos   float64 `json:"kudos"`
}

// MaxWebhookLength bounds a request's webhook URL.
const MaxWebhookLength = 1024
