package aihorde

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestPopResponseWithoutJob checks the AI Horde's no-job answer: id null,
// ids, payload, skipped and messages always present.
func TestPopResponseWithoutJob(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"image", ImagePopResponse{}, `{"id":null,"ids":[],"payload":{},"skipped":{},"messages":[]}`},
		{"text", TextPopResponse{}, `{"id":null,"ids":[],"payload":{},"softprompt":null,"skipped":{},"messages":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			var got, want map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal([]byte(tt.want), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

// TestPopDefaults checks that a pop body decoded over NewImagePopRequest or
// NewTextPopRequest keeps the AI Horde's defaults for what it leaves out or
// sends as null, and takes what it sets.
func TestPopDefaults(t *testing.T) {
	ip := NewImagePopRequest()
	if err := json.Unmarshal([]byte(`{"name":"w","threads":null,"allow_painting":false}`), &ip); err != nil {
		t.Fatal(err)
	}
	if ip.Name != "w" || ip.Threads != DefaultThreads || ip.Amount != DefaultPopAmount || ip.BridgeAgent != DefaultBridgeAgent ||
		ip.MaxPixels != DefaultMaxPixels || !ip.AllowImg2Img || ip.AllowPainting || !ip.AllowPostProcessing || ip.AllowLora {
		t.Errorf("image pop %+v", ip)
	}
	tp := NewTextPopRequest()
	if err := json.Unmarshal([]byte(`{"name":"w","max_length":100}`), &tp); err != nil {
		t.Fatal(err)
	}
	if tp.MaxLength != 100 || tp.MaxContextLength != DefaultWorkerMaxContextLength || tp.Threads != DefaultThreads {
		t.Errorf("text pop %+v", tp)
	}
	var l Lora
	if err := json.Unmarshal([]byte(`{"name":"glow","clip":0.5}`), &l); err != nil {
		t.Fatal(err)
	}
	if l.Model != DefaultLoraStrength || l.Clip != 0.5 {
		t.Errorf("lora %+v, want model %g and clip 0.5", l, DefaultLoraStrength)
	}
}
