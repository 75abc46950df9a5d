package main

import (
	"bytes"
	"context"
	"image"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/store/s3blobs/s3test"
)

// TestResultsConfig: results.store s3 needs a bucket and credentials from
// the environment (a file cannot hold them), and takes the AWS names too.
func TestResultsConfig(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "the folder by default", check: func(t *testing.T, c Config) {
			if c.Results.Store != resultsFolder || c.Results.S3.Presign {
				t.Fatalf("results: %+v", c.Results)
			}
		}},
		{name: "an unknown store", file: "results:\n  store: ftp\n", wantErr: `results.store "ftp"`},
		{name: "s3 without a bucket", file: "results:\n  store: s3\n", wantErr: "results.s3.bucket is empty"},
		{name: "s3 without credentials", file: "results:\n  store: s3\n  s3:\n    bucket: b\n", wantErr: "HORDEBOT_S3_ACCESS_KEY_ID"},
		{name: "credentials in a file are refused", file: "results:\n  s3:\n    access_key_id: x\n", wantErr: "access_key_id"},
		{name: "hordebot's variables", file: "results:\n  store: s3\n  s3:\n    bucket: b\n",
			env: map[string]string{"HORDEBOT_S3_ACCESS_KEY_ID": "id", "HORDEBOT_S3_SECRET_ACCESS_KEY": "secret", "AWS_ACCESS_KEY_ID": "other"},
			check: func(t *testing.T, c Config) {
				if c.Results.S3.AccessKeyID != "id" || c.Results.S3.SecretAccessKey != "secret" {
					t.Fatalf("credentials %q %q", c.Results.S3.AccessKeyID, c.Results.S3.SecretAccessKey)
				}
			}},
		{name: "the AWS variables", file: "results:\n  store: s3\n  s3:\n    bucket: b\n",
			env: map[string]string{"AWS_ACCESS_KEY_ID": "aid", "AWS_SECRET_ACCESS_KEY": "asecret", "AWS_SESSION_TOKEN": "tok"},
			check: func(t *testing.T, c Config) {
				if s := c.Results.S3; s.AccessKeyID != "aid" || s.SecretAccessKey != "asecret" || s.SessionToken != "tok" {
					t.Fatalf("credentials %+v", s)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(t.TempDir(), "hordebot.yaml")
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := LoadConfig(path, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("load: %v, want an error about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// s3Config is a test config whose results live in bucket on srv.
func s3Config(t *testing.T, srv *s3test.Server, bucket string) Config {
	cfg := testConfig(t, t.TempDir())
	cfg.Results = ResultsConfig{Store: resultsS3, S3: S3Config{
		Endpoint: srv.URL, Bucket: bucket, Region: "us-east-1", PathStyle: true, Presign: true,
		AccessKeyID: "test-key", SecretAccessKey: "test-secret",
	}}
	return cfg
}

// TestBucketMustBeThereAtStart: a bucket that does not exist, or an
// endpoint nobody answers, stops the start with a sentence that says so.
func TestBucketMustBeThereAtStart(t *testing.T) {
	srv := s3test.New(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	tests := []struct {
		name string
		cfg  func() Config
		want string
	}{
		{"missing bucket", func() Config { return s3Config(t, srv, "missing") }, "bucket missing at " + srv.URL + " does not exist"},
		{"unreachable endpoint", func() Config {
			c := s3Config(t, srv, "missing")
			c.Results.S3.Endpoint = dead
			return c
		}, "cannot reach bucket missing at " + dead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := OpenApp(context.Background(), tt.cfg(), testLogger(t), nil)
			if err == nil {
				app.Close()
				t.Fatal("the app started without its bucket")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "results.store s3") {
				t.Fatalf("start: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// TestAppHandsOutPresignedUploads: with results.store s3 and presign, the
// app's pops hand workers presigned PUTs of the bucket, and a worker's
// image PUT there and submitted "R2" ends in the bucket and in the status.
func TestAppHandsOutPresignedUploads(t *testing.T) {
	srv := s3test.New(t, nil)
	srv.CreateBucket(t, "results")
	app := startApp(t, s3Config(t, srv, "results"), nil)
	defer app.shutdown(t)
	ctx := context.Background()
	_, wkey, err := app.Horde.CreateUser(ctx, "owner")
	if err != nil {
		t.Fatal(err)
	}
	_, rkey, err := app.Horde.CreateUser(ctx, "requester")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + app.Addr() + "/api/v2"
	req := apiClient{base: base, key: rkey, hc: http.DefaultClient}
	wrk := apiClient{base: base, key: wkey, hc: http.DefaultClient}
	var async struct{ ID string }
	if code := req.do(t, "POST", "/generate/async", map[string]any{"prompt": "a bucket of paint", "params": map[string]any{"width": 64, "height": 64, "steps": 10}}, &async); code != http.StatusAccepted {
		t.Fatalf("async: %d", code)
	}
	var pop struct {
		ID       string `json:"id"`
		R2Upload string `json:"r2_upload"`
	}
	if code := wrk.do(t, "POST", "/generate/pop", map[string]any{"name": "w1", "models": []string{"stable_diffusion"}, "max_pixels": 1 << 20}, &pop); code != http.StatusOK || pop.ID == "" {
		t.Fatalf("pop: %d %+v", code, pop)
	}
	if !strings.HasPrefix(pop.R2Upload, srv.URL+"/results/uploads/"+pop.ID+".webp?") {
		t.Fatalf("r2_upload %s: want the bucket's presigned PUT", pop.R2Upload)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i / 3)
	}
	webp, err := worker.EncodeWebP(img)
	if err != nil {
		t.Fatal(err)
	}
	put, _ := http.NewRequest(http.MethodPut, pop.R2Upload, bytes.NewReader(webp))
	res, err := http.DefaultClient.Do(put)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("PUT to the bucket: %v %v", res, err)
	}
	res.Body.Close()
	if code := wrk.do(t, "POST", "/generate/submit", map[string]any{"id": pop.ID, "generation": "R2", "state": "ok", "seed": 1}, nil); code != http.StatusOK {
		t.Fatalf("submit: %d", code)
	}
	var st struct {
		Done        bool `json:"done"`
		Generations []struct {
			Img string `json:"img"`
		} `json:"generations"`
	}
	if code := req.do(t, "GET", "/generate/status/"+async.ID, nil, &st); code != http.StatusOK || !st.Done || len(st.Generations) != 1 {
		t.Fatalf("status: %d %+v", code, st)
	}
	ref := st.Generations[0].Img[strings.LastIndex(st.Generations[0].Img, "/")+1:]
	if keys := srv.Keys(t, "results", ""); len(keys) != 1 || keys[0] != ref {
		t.Fatalf("bucket holds %v, want the result %s", keys, ref)
	}
}
