package aihorde

import (
	"encoding/json"
	"testing"
)

func TestSeedUnmarshal(t *testing.T) {
	tests := []struct {
		in   string
		want Seed
	}{
		{`123`, Seed{123, true}},
		{`"456"`, Seed{456, true}},
		{`1e3`, Seed{1000, true}},
		{`null`, Seed{}},
		{`""`, Seed{}},
		{`"a cat"`, ParseSeed("a cat")},
	}
	for _, tt := range tests {
		var s Seed
		if err := json.Unmarshal([]byte(tt.in), &s); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if s != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.in, s, tt.want)
		}
	}
	if h := ParseSeed("a cat"); !h.Set || h.Value < 0 || h.Value != ParseSeed("a cat").Value {
		t.Errorf("hashed seed %+v", h)
	}
	var s Seed
	if err := json.Unmarshal([]byte(`{}`), &s); err == nil {
		t.Error("an object decoded as a seed")
	}
}

func TestSeedMarshal(t *testing.T) {
	tests := []struct {
		in   Seed
		want string
	}{
		{SeedOf(42), `"42"`}, // the AI Horde's form: a decimal string
		{SeedOf(-7), `"-7"`},
		{Seed{}, `null`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.in)
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tt.in, b, err, tt.want)
		}
		var back Seed
		if err := json.Unmarshal(b, &back); err != nil || back != tt.in {
			t.Errorf("round trip of %+v: %+v, %v", tt.in, back, err)
		}
	}
}

// TestSeedToIntIsTheAIHordes holds seed numbers the AI Horde's
// seed_to_int gives for the same texts: one seed text means one seed there
// and here (hordebot used to hash text with FNV-1a).
func TestSeedToIntIsTheAIHordes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"a cat", 116},
		{"the little seed that could", 25708},
		{"abc", 6513249},
		{"héllo 🌊", 9079967},
		{"-5", 13613},    // not all digits: read as text
		{" 42", 3290144}, // nor this
		{"0", 0},
		{"4294967295", 4294967295},
		{"4294967296", 1}, // 2³² shifted right by 32
		{"12345678901234", 2874},
	}
	for _, tt := range tests {
		if got := SeedToInt(tt.in); got != tt.want {
			t.Errorf("SeedToInt(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	if got := ParseSeed("a cat"); got != SeedOf(116) {
		t.Errorf("ParseSeed(%q) = %+v, want 116", "a cat", got)
	}
}
