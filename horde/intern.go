package horde

import "strconv"

// interned holds one copy of the strings, small lists and image parameters
// that many open requests repeat (model names, client agents, one-model
// lists and the bucket lists built from them, parameters left at their
// defaults), so that a hundred thousand waiting requests share a few copies
// instead of holding one each. What it shares is read-only: nothing changes
// a request's Models, buckets or Image in place (views clone them). It is
// bounded: past maxInterned values of a kind, new ones are kept as they
// come. Not safe for concurrent use: Horde.mu guards it.
type interned struct {
	strs    map[string]string
	models  map[string][]string       // one-model lists, by model
	buckets map[bucketKey][]bucketKey // one-bucket lists, by bucket
	images  map[imageKey]*ImageParams // seedless parameters
}

// maxInterned bounds each table: a client sending made-up model names
// cannot grow them without limit.
const maxInterned = 4096

func newInterned() *interned {
	return &interned{
		strs:    make(map[string]string),
		models:  make(map[string][]string),
		buckets: make(map[bucketKey][]bucketKey),
		images:  make(map[imageKey]*ImageParams),
	}
}

// str returns the shared copy of s.
func (in *interned) str(s string) string {
	if s == "" {
		return ""
	}
	if c, ok := in.strs[s]; ok {
		return c
	}
	if len(in.strs) < maxInterned {
		in.strs[s] = s
	}
	return s
}

// modelList returns a list equal to models, shared with other requests
// naming the same one model; a longer list keeps its own slice, with
// shared strings.
func (in *interned) modelList(models []string) []string {
	if len(models) != 1 {
		for i, m := range models {
			models[i] = in.str(m)
		}
		return models
	}
	if c, ok := in.models[models[0]]; ok {
		return c
	}
	c := []string{in.str(models[0])}
	if len(in.models) < maxInterned {
		in.models[c[0]] = c
	}
	return c
}

// bucketList returns the one-bucket list [k], shared.
func (in *interned) bucketList(k bucketKey) []bucketKey {
	if c, ok := in.buckets[k]; ok {
		return c
	}
	c := []bucketKey{k}
	if len(in.buckets) < maxInterned {
		in.buckets[k] = c
	}
	return c
}

// imageKey is every field of ImageParams but the seed, the lists and the
// source images: parameters that differ only in those are not shared.
// TestImageKeyCoversImageParams fails when ImageParams gains a field that
// is not here.
type imageKey struct {
	Width, Height, Steps int
	SamplerName          string
	CFGScale             float64
	SeedVariation        int
	DenoisingStrength    float64
	// HiresFixDenoisingStrength and FacefixerStrength as in ImageParams.
	HiresFixDenoisingStrength float64
	FacefixerStrength         float64
	Karras                    bool
	Tiling                    bool
	HiresFix                  bool
	ClipSkip                  int
	SourceProcessing          string
}

// imageParams returns shared parameters equal to p but for an empty Seed,
// when p has no lists and no source image and its seed is seed in decimal
// (as a seed the horde chose is), so that the seed can be given back from
// seed alone. Otherwise it reports false and p stays the request's own.
func (in *interned) imageParams(p *ImageParams, seed int64) (*ImageParams, bool) {
	if len(p.PostProcessing) > 0 || len(p.Loras) > 0 || p.SourceImage != "" || p.SourceMask != "" || len(p.ExtraSourceImages) > 0 ||
		p.Seed != strconv.FormatInt(seed, 10) {
		return nil, false
	}
	k := imageKey{
		Width: p.Width, Height: p.Height, Steps: p.Steps, SamplerName: p.SamplerName, CFGScale: p.CFGScale,
		SeedVariation: p.SeedVariation, DenoisingStrength: p.DenoisingStrength,
		HiresFixDenoisingStrength: p.HiresFixDenoisingStrength, FacefixerStrength: p.FacefixerStrength,
		Karras: p.Karras, Tiling: p.Tiling, HiresFix: p.HiresFix, ClipSkip: p.ClipSkip, SourceProcessing: p.SourceProcessing,
	}
	if c, ok := in.images[k]; ok {
		return c, true
	}
	if len(in.images) >= maxInterned {
		return nil, false
	}
	c := &ImageParams{
		Width: k.Width, Height: k.Height, Steps: k.Steps, SamplerName: in.str(k.SamplerName), CFGScale: k.CFGScale,
		SeedVariation: k.SeedVariation, DenoisingStrength: k.DenoisingStrength,
		HiresFixDenoisingStrength: k.HiresFixDenoisingStrength, FacefixerStrength: k.FacefixerStrength,
		Karras: k.Karras, Tiling: k.Tiling, HiresFix: k.HiresFix, ClipSkip: k.ClipSkip, SourceProcessing: in.str(k.SourceProcessing),
	}
	in.images[k] = c
	return c, true
}
