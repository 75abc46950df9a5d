package web

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestChartSVG: one vertex per point, negative values drawn below the zero
// line, the label in words, and an empty chart saying so.
func TestChartSVG(t *testing.T) {
	at := time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		values []float64
		want   []string
	}{
		{"empty", nil, []string{`data-points="0"`, "no data yet"}},
		{"one point", []float64{5}, []string{`data-points="1"`, `points="300.0,4.0"`, "latest 5"}},
		{"negative", []float64{-42, 0, 10}, []string{`data-points="3"`, "lowest -42", `points="0.0,156.0 300.0,`, "highest 10"}},
		{"rising", []float64{0, 1, 2, 3}, []string{`data-points="4"`, `0.0,156.0`, `600.0,4.0`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Chart{ID: "c", Title: "T", Unit: "u"}
			for i, v := range tc.values {
				c.Points = append(c.Points, Point{At: at.Add(time.Duration(i) * time.Hour), Value: v})
			}
			svg := string(c.SVG())
			for _, w := range tc.want {
				if !strings.Contains(svg, w) {
					t.Errorf("%s lacks %q", svg, w)
				}
			}
			n := 0
			if m := regexp.MustCompile(`<polyline class="line" points="([^"]*)"`).FindStringSubmatch(svg); m != nil {
				n = len(strings.Fields(m[1]))
			}
			if n != len(tc.values) {
				t.Errorf("%d vertices for %d points", n, len(tc.values))
			}
		})
	}
}
