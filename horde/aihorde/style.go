package aihorde

import "encoding/json"

// The bodies of /styles/image, /styles/text, their examples and
// /collections (the AI Horde's ModelStyleInputStable, ModelStyleInputKobold,
// StyleStable, StyleKobold, StyleModify, InputStyleExamplePost,
// InputModelCollection, ResponseModelCollection).

// StyleInput is the body of POST (all of name and models required) and
// PATCH (any subset) of a style. Params is the request params object of the
// style's kind (ImageParams or TextParams), without prompt or seed.
// SharedKey is a shared key of the style's creator that pays for the
// style's requests while it can ("" in a PATCH removes it).
type StyleInput struct {
	Name      *string         `json:"name"`
	Info      *string         `json:"info"`
	Prompt    *string         `json:"prompt"`
	Params    json.RawMessage `json:"params"`
	Public    *bool           `json:"public"`
	NSFW      *bool           `json:"nsfw"`
	Tags      []string        `json:"tags"`
	Models    []string        `json:"models"`
	SharedKey *string         `json:"sharedkey"`
}

// Style is a style as GET answers it.
type Style struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Info     string          `json:"info,omitempty"`
	Prompt   string          `json:"prompt"`
	Params   json.RawMessage `json:"params"`
	Public   bool            `json:"public"`
	NSFW     bool            `json:"nsfw"`
	Tags     []string        `json:"tags"`
	Models   []string        `json:"models"`
	UseCount int64           `json:"use_count"`
	Creator  string          `json:"creator"`
	// Examples: image styles only.
	Examples []StyleExample `json:"examples,omitempty"`
	// SharedKey is the shared key that pays for the style's requests, if
	// any, without its id (the key itself, which the AI Horde shows here).
	SharedKey *SharedKeyDetails `json:"shared_key,omitempty"`
}

// StyleExample is an example image of an image style.
type StyleExample struct {
	ID      string `json:"id"`
	URL     string `json:"url"`
	Primary bool   `json:"primary"`
}

// StyleExampleInput is the body of POST (url required) and PATCH of a
// style example.
type StyleExampleInput struct {
	URL     *string `json:"url"`
	Primary *bool   `json:"primary"`
}

// StyleModify answers a create or a change of a style, an example or a
// collection.
type StyleModify struct {
	ID       string    `json:"id"`
	Message  string    `json:"message"`
	Warnings []Warning `json:"warnings,omitempty"`
}

// CollectionInput is the body of POST (name and styles required) and PATCH
// of a collection: styles by id or name.
type CollectionInput struct {
	Name   *string  `json:"name"`
	Info   *string  `json:"info"`
	Public *bool    `json:"public"`
	Styles []string `json:"styles"`
}

// Collection is a collection as GET answers it.
type Collection struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Type     string       `json:"type"`
	Info     string       `json:"info,omitempty"`
	Public   bool         `json:"public"`
	Styles   []StyleShort `json:"styles"`
	UseCount int64        `json:"use_count"`
}

// StyleShort names a style in a collection: its unique name
// ("user#id::style::name") and id.
type StyleShort struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}
