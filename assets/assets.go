// Package assets holds the files embedded into the binaries: the default
// configuration, the prompt filter lists, the model reference and the
// bot's message catalogs.
package assets

import _ "embed"

// DefaultConfig is the commented default configuration (YAML). `hordebot
// config` prints it; every key can be overridden by a config file.
//
//go:embed default-config.yaml
var DefaultConfig []byte

// ModelReferenceImage and ModelReferenceText are the embedded default model
// reference, in the AI Horde's formats (stable_diffusion.json and the text
// db.json): a few entries per common baseline, used when config names no
// reference file or URL (models.reference_file, models.reference_url).
//
//go:embed modelref/stable_diffusion.json
var ModelReferenceImage []byte

//go:embed modelref/text.json
var ModelReferenceText []byte
