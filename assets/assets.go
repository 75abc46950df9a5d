// Package assets holds the files embedded into the binaries: the default
// configuration and the prompt filter lists.
package assets

import _ "embed"

// DefaultConfig is the commented default configuration (YAML). `hordebot
// config` prints it; every key can be overridden by a config file.
//
//go:embed default-config.yaml
var DefaultConfig []byte
