package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// TestStoredParamsFormat pins the JSON of the params and metadata columns:
// the domain's types carry no JSON tags, and rows written by earlier
// versions must read back the same.
func TestStoredParamsFormat(t *testing.T) {
	image := &horde.ImageParams{
		Width: 512, Height: 768, Steps: 30, SamplerName: "k_euler_a", CFGScale: 7.5, Seed: "42",
		DenoisingStrength: 0.6, Karras: true, ClipSkip: 2, PostProcessing: []string{"RealESRGAN_x4plus"},
		Loras: []horde.Lora{{Name: "glow", Model: 1, Clip: 0.5}}, SourceImage: "aGk=", SourceProcessing: "img2img",
	}
	text := &horde.TextParams{MaxLength: 80, MaxContextLength: 1024, Temperature: 0.7, StopSequence: []string{"\n"}}
	tests := []struct {
		name   string
		params requestParams
		stored string
	}{
		{"image", paramsOf(image, nil), `{"image":{"width":512,"height":768,"steps":30,"sampler_name":"k_euler_a","cfg_scale":7.5,` +
			`"seed":"42","denoising_strength":0.6,"karras":true,"clip_skip":2,"post_processing":["RealESRGAN_x4plus"],` +
			`"loras":[{"name":"glow","model":1,"clip":0.5}],"source_image":"aGk=","source_processing":"img2img"}}`},
		{"text", paramsOf(nil, text), `{"text":{"max_length":80,"max_context_length":1024,"temperature":0.7,"stop_sequence":["\n"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jsonText(tt.params)
			if err != nil || got != tt.stored {
				t.Fatalf("stored %s, %v; want %s", got, err, tt.stored)
			}
			var back requestParams
			if err := json.Unmarshal([]byte(tt.stored), &back); err != nil {
				t.Fatal(err)
			}
			gotImage, gotText := back.domain()
			wantImage, wantText := tt.params.domain()
			if !reflect.DeepEqual(gotImage, wantImage) || !reflect.DeepEqual(gotText, wantText) {
				t.Errorf("read back %+v %+v, want %+v %+v", gotImage, gotText, wantImage, wantText)
			}
		})
	}
	if img, _ := paramsOf(image, nil).domain(); !reflect.DeepEqual(img, image) {
		t.Errorf("image params round trip: %+v, want %+v", img, image)
	}
	meta := []horde.GenMetadata{{Type: "censorship", Value: "nsfw"}, {Type: "lora", Value: "download_failed", Ref: "123"}}
	stored, err := jsonText(metadataOf(meta))
	if want := `[{"type":"censorship","value":"nsfw"},{"type":"lora","value":"download_failed","ref":"123"}]`; err != nil || stored != want {
		t.Fatalf("metadata stored %s, %v; want %s", stored, err, want)
	}
	var back []storedMetadata
	if err := json.Unmarshal([]byte(stored), &back); err != nil || !reflect.DeepEqual(metadataFrom(back), meta) {
		t.Errorf("metadata read back %+v, %v", metadataFrom(back), err)
	}
}

// TestStoredParamsKeepEveryTextSetting: every AI Horde text setting, and
// the image strengths, survive the params column (they used to be dropped
// before the store), and a row written before them reads back with none.
func TestStoredParamsKeepEveryTextSetting(t *testing.T) {
	yes, no := true, false
	text := &horde.TextParams{
		MaxLength: 80, MaxContextLength: 1024, RepPenSlope: 0.7, TopA: 0.1, Typical: 0.9, TFS: 0.95, MinP: 0.05,
		SmoothingFactor: 0.3, DynatempRange: 0.5, DynatempExponent: 1.5, SamplerOrder: []int{6, 0, 1, 3, 4, 2, 5},
		Singleline: &yes, Frmtadsnsp: &no, Frmtrmblln: &yes, Frmtrmspch: &no, Frmttriminc: &yes,
		UseDefaultBadwordsids: &no, AnyBackend: true,
	}
	image := &horde.ImageParams{Width: 512, Height: 512, Steps: 30, HiresFixDenoisingStrength: 0.4, FacefixerStrength: 0.8}
	data, err := jsonText(paramsOf(image, text))
	if err != nil {
		t.Fatal(err)
	}
	var back requestParams
	if err := json.Unmarshal([]byte(data), &back); err != nil {
		t.Fatal(err)
	}
	gotImage, gotText := back.domain()
	if !reflect.DeepEqual(gotText, text) || !reflect.DeepEqual(gotImage, image) {
		t.Errorf("read back %+v %+v, want %+v %+v", gotText, gotImage, text, image)
	}
	var old requestParams
	if err := json.Unmarshal([]byte(`{"text":{"max_length":80,"max_context_length":1024}}`), &old); err != nil {
		t.Fatal(err)
	}
	if _, tp := old.domain(); tp.AnyBackend || tp.Singleline != nil || tp.SamplerOrder != nil {
		t.Errorf("an earlier row reads back %+v, want no new settings", tp)
	}
}
