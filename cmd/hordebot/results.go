package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/s3blobs"
)

// ResultsConfig says where result images live: the data directory's
// folder (default), or an S3-compatible bucket (README, "Where results
// live").
type ResultsConfig struct {
	// Store is "folder" (the data directory's blobs/, the default) or "s3".
	Store string   `json:"store"`
	S3    S3Config `json:"s3"`
}

// S3Config names the bucket of results.store: s3. The credentials come
// only from the environment (LoadConfig): a config file cannot set them.
type S3Config struct {
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket"`
	Region    string `json:"region"`
	Prefix    string `json:"prefix"`
	PathStyle bool   `json:"path_style"`
	// Presign hands workers presigned PUT URLs of the bucket as their
	// r2_upload, as the AI Horde does with R2, so that images go straight
	// to the bucket; false: workers PUT to hordebot, which writes the bucket.
	Presign bool `json:"presign"`
	// PresignGet makes the status of a request that asked for links (r2:
	// true) link to presigned GETs of the bucket (valid 30 minutes, as the
	// AI Horde's), not to hordebot's own /api/v2/results links.
	PresignGet bool `json:"presign_get"`

	AccessKeyID     string `json:"-"`
	SecretAccessKey string `json:"-"`
	SessionToken    string `json:"-"`
}

// Where results live.
const (
	resultsFolder = "folder"
	resultsS3     = "s3"
)

// s3Credentials fills the bucket's credentials from the environment:
// HORDEBOT_S3_ACCESS_KEY_ID and HORDEBOT_S3_SECRET_ACCESS_KEY, else the AWS
// standard AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).
func (c *S3Config) s3Credentials(getenv func(string) string) {
	c.AccessKeyID, c.SecretAccessKey = getenv("HORDEBOT_S3_ACCESS_KEY_ID"), getenv("HORDEBOT_S3_SECRET_ACCESS_KEY")
	if c.AccessKeyID == "" && c.SecretAccessKey == "" {
		c.AccessKeyID, c.SecretAccessKey = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
		c.SessionToken = getenv("AWS_SESSION_TOKEN")
	}
}

// validate checks the results settings.
func (c ResultsConfig) validate() error {
	switch c.Store {
	case "", resultsFolder:
		return nil
	case resultsS3:
	default:
		return fmt.Errorf("config: results.store %q: want folder or s3", c.Store)
	}
	if c.S3.Bucket == "" {
		return fmt.Errorf("config: results.store is s3 but results.s3.bucket is empty")
	}
	if c.S3.AccessKeyID == "" || c.S3.SecretAccessKey == "" {
		return fmt.Errorf("config: results.store is s3 but no credentials are set: export HORDEBOT_S3_ACCESS_KEY_ID and HORDEBOT_S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	return nil
}

// openBlobs opens the place results live: nil for the folder (the store's
// own), the bucket for s3, checked to be reachable.
func openBlobs(ctx context.Context, c ResultsConfig, log *slog.Logger) (store.BlobBackend, error) {
	if c.Store != resultsS3 {
		return nil, nil
	}
	b, err := s3blobs.Open(ctx, s3blobs.Config{
		Endpoint: c.S3.Endpoint, Bucket: c.S3.Bucket, Region: c.S3.Region, Prefix: c.S3.Prefix, PathStyle: c.S3.PathStyle,
		AccessKeyID: c.S3.AccessKeyID, SecretAccessKey: c.S3.SecretAccessKey, SessionToken: c.S3.SessionToken,
	})
	if err != nil {
		return nil, fmt.Errorf("results.store s3: %w", err)
	}
	log.Info("result images live in a bucket", "bucket", c.S3.Bucket, "endpoint", c.S3.Endpoint, "prefix", c.S3.Prefix,
		"presigned_uploads", c.S3.Presign, "presigned_links", c.S3.PresignGet)
	return b, nil
}

// hordeResults sets the horde's direct uploads and result links from the
// results settings and the store opened with them.
func hordeResults(c ResultsConfig, st *store.Store, hc *horde.Config) {
	if c.Store != resultsS3 {
		return
	}
	if c.S3.Presign && st.DirectUploads() {
		hc.Uploads = st
	}
	if c.S3.PresignGet {
		hc.ResultLinks = st
	}
}
