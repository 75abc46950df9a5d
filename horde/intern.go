package horde

// interned holds one copy of the strings and small lists that many open
// requests repeat (model names, client agents, one-model lists and the
// bucket lists built from them), so that a hundred thousand waiting
// requests share a few copies instead of holding one each. The lists are
// shared read-only: nothing changes a request's Models or buckets in place
// (views clone them). It is bounded: past maxInterned values of a kind,
// new ones are kept as they come. Not safe for concurrent use: Horde.mu
// guards it.
type interned struct {
	strs    map[string]string
	models  map[string][]string       // one-model lists, by model
	buckets map[bucketKey][]bucketKey // one-bucket lists, by bucket
}

// maxInterned bounds each table: a client sending made-up model names
// cannot grow them without limit.
const maxInterned = 4096

func newInterned() *interned {
	return &interned{
		strs:    make(map[string]string),
		models:  make(map[string][]string),
		buckets: make(map[bucketKey][]bucketKey),
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
