package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
)

// maxModelReferenceBytes bounds a fetched reference (the AI Horde's image
// reference is about 1 MiB).
const maxModelReferenceBytes = 32 << 20

// defaultModelFetchTimeout is models.fetch_timeout's default.
const defaultModelFetchTimeout = 10 * time.Second

// loadModelReference builds the model reference named by cfg: each kind
// from its file, else its URL (fetched with a timeout, the copy cached in
// dataDir), else the cache of an earlier fetch, else the embedded default.
// A reference that cannot be had is a warning, never a failure to start;
// only a named file that does not parse is an error (a typo in config
// should not be silent).
func loadModelReference(ctx context.Context, cfg ModelsConfig, dataDir string, client *http.Client, log *slog.Logger) (*horde.ModelReference, error) {
	timeout := time.Duration(cfg.FetchTimeout)
	if timeout <= 0 {
		timeout = defaultModelFetchTimeout
	}
	if client == nil {
		client = &http.Client{}
	}
	load := func(kind, file, url, cache string, embedded []byte) ([]byte, error) {
		if file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("models: %s reference file: %w", kind, err)
			}
			return b, nil
		}
		if url == "" {
			return embedded, nil
		}
		cachePath := filepath.Join(dataDir, cache)
		b, err := fetchReference(ctx, client, url, timeout)
		if err == nil {
			if _, perr := horde.ParseModelReference(b, nil); perr != nil {
				err = perr
			}
		}
		if err == nil {
			if dataDir != "" {
				if werr := os.WriteFile(cachePath, b, 0o600); werr != nil {
					log.Warn("models: could not cache the reference", "kind", kind, "path", cachePath, "err", werr)
				}
			}
			return b, nil
		}
		if cached, cerr := os.ReadFile(cachePath); cerr == nil && dataDir != "" {
			log.Warn("models: fetching the reference failed; using the cached copy", "kind", kind, "url", url, "err", err)
			return cached, nil
		}
		log.Warn("models: fetching the reference failed and no copy is cached; using the built-in default", "kind", kind, "url", url, "err", err)
		return embedded, nil
	}
	image, err := load("image", cfg.ReferenceFile, cfg.ReferenceURL, "model_reference_image.json", assets.ModelReferenceImage)
	if err != nil {
		return nil, err
	}
	text, err := load("text", cfg.TextReferenceFile, cfg.TextReferenceURL, "model_reference_text.json", assets.ModelReferenceText)
	if err != nil {
		return nil, err
	}
	// Each kind parses alone so that a bad one names itself.
	if _, err := horde.ParseModelReference(image, nil); err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	ref, err := horde.ParseModelReference(image, text)
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	return ref, nil
}

// fetchReference GETs a model reference, within timeout and the size cap.
func fetchReference(ctx context.Context, client *http.Client, url string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxModelReferenceBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxModelReferenceBytes {
		return nil, errors.New("the reference is larger than 32 MiB")
	}
	return b, nil
}
