package main

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: without GOGC in the environment hordebot collects at
// serverGCPercent; a GOGC setting is left to the Go runtime; restore puts
// the previous target back.
func TestTuneGC(t *testing.T) {
	tests := []struct {
		gogc string
		want int
	}{
		{"", serverGCPercent},
		{"100", 137}, // the runtime's, untouched (set to 137 below)
		{"off", 137},
	}
	for _, tt := range tests {
		t.Run("GOGC="+tt.gogc, func(t *testing.T) {
			old := debug.SetGCPercent(137)
			defer debug.SetGCPercent(old)
			restore := tuneGC(func(k string) string {
				if k == "GOGC" {
					return tt.gogc
				}
				return ""
			})
			if got := debug.SetGCPercent(-1); got != tt.want {
				t.Errorf("GC percent = %d, want %d", got, tt.want)
			}
			debug.SetGCPercent(tt.want)
			restore()
			if got := debug.SetGCPercent(137); got != 137 {
				t.Errorf("after restore GC percent = %d, want 137", got)
			}
		})
	}
}
