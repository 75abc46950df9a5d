package imagecheck_test

import (
	"errors"
	"testing"

	"github.com/hordebot/hordebot/horde/imagecheck"
)

// TestPreview is what a worker may send as a live preview: any real image
// up to the side limit, its content type told.
func TestPreview(t *testing.T) {
	png64 := encode(t, "png", 64, 64)
	tests := []struct {
		name string
		data []byte
		want string // content type; "" refused
	}{
		{"webp", encode(t, "webp", 64, 32), "image/webp"},
		{"png", png64, "image/png"},
		{"jpeg", encode(t, "jpeg", 100, 64), "image/jpeg"},
		{"at the side limit", encode(t, "png", 128, 16), "image/png"},
		{"wider than the limit", encode(t, "png", 129, 16), ""},
		{"taller than the limit", encode(t, "jpeg", 16, 129), ""},
		{"html", []byte("<html><script>alert(1)</script></html>"), ""},
		{"script after a valid png", append(append([]byte{}, png64...), "<script>"...), ""},
		{"truncated png", png64[:len(png64)/2], ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := imagecheck.Preview(tt.data, 128)
			if tt.want == "" {
				if err == nil || !errors.Is(err, imagecheck.ErrNotImage) {
					t.Fatalf("Preview = %q, %v; want a refusal wrapping ErrNotImage", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Preview = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
